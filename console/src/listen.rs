//! Where and how the console listens. On the loopback address it may serve plain HTTP: nothing
//! leaves the machine. Anywhere else it carries the access token, the session cookie, the API
//! key typed into the set-up form and the refused rows (`rejected.csv`, with addresses) over the
//! network, so it serves HTTPS (a PEM certificate chain and private key, through rustls with the
//! `ring` provider, TLS 1.2 and 1.3) and its cookie is `Secure`; plain HTTP there is refused
//! unless the user says, by the flag `--insecure-readable-traffic`, that the traffic may be read.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The certificate chain and private key the console serves HTTPS with (PEM files).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The server's certificate first, then any intermediates.
    pub cert: PathBuf,
    /// Its private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// How the console may listen on `listen`: an error, naming the fix, for plain HTTP off the
/// loopback unless `readable_traffic` was asked for.
pub fn check(listen: IpAddr, tls: Option<&TlsFiles>, readable_traffic: bool) -> Result<(), String> {
    if listen.is_loopback() || tls.is_some() || readable_traffic {
        return Ok(());
    }
    Err(format!(
        "the console will not listen on {listen} without TLS: the access token, the session cookie, \
         the API key typed into the set-up form and the refused rows would cross the network \
         readable by anyone on the way. Give it a certificate and key with --tls-cert FILE \
         --tls-key FILE (PEM), listen on 127.0.0.1 (the default) and reach it through an SSH \
         tunnel, or pass --insecure-readable-traffic if that network is yours alone"
    ))
}

/// The rustls server configuration of `files`: an error names the file and what is wrong with it.
pub fn server_config(files: &TlsFiles) -> Result<Arc<rustls::ServerConfig>, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let unreadable = |path: &Path, what: &str, e: &dyn std::fmt::Display| {
        format!("the TLS {what} {} cannot be used: {e}", path.display())
    };
    let certs = CertificateDer::pem_file_iter(&files.cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| unreadable(&files.cert, "certificate", &e))?;
    if certs.is_empty() {
        return Err(format!(
            "the TLS certificate {} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
            files.cert.display()
        ));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|e| unreadable(&files.key, "private key", &e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|builder| builder.with_no_client_auth().with_single_cert(certs, key))
        .map_err(|e| {
            format!(
                "the TLS certificate {} and key {} do not make a server: {e} (is the key the certificate's?)",
                files.cert.display(),
                files.key.display()
            )
        })?;
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_is_refused_off_the_loopback_only() {
        let tls = TlsFiles {
            cert: "c.pem".into(),
            key: "k.pem".into(),
        };
        let anywhere: IpAddr = "0.0.0.0".parse().unwrap();
        let lan: IpAddr = "192.168.1.20".parse().unwrap();
        for loopback in ["127.0.0.1", "::1"] {
            assert_eq!(check(loopback.parse().unwrap(), None, false), Ok(()));
        }
        for ip in [anywhere, lan, "::".parse().unwrap()] {
            let refused = check(ip, None, false).unwrap_err();
            assert!(refused.contains("--tls-cert"), "{refused}");
            assert!(refused.contains("--insecure-readable-traffic"), "{refused}");
            assert_eq!(check(ip, Some(&tls), false), Ok(()));
            assert_eq!(check(ip, None, true), Ok(()));
        }
    }

    #[test]
    fn unusable_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
        let files = TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
        };
        let missing = server_config(&files).unwrap_err();
        assert!(missing.contains("cert.pem"), "{missing}");
        std::fs::write(&cert, "not a certificate").unwrap();
        let empty = server_config(&files).unwrap_err();
        assert!(empty.contains("no PEM certificate"), "{empty}");
    }
}
