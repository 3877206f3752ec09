//! Which base URLs a client may send the key to: `https://` anywhere, plain `http://` only to
//! this machine (the sandbox and the tests listen on loopback).

use super::ApiError;
use url::{Host, Url};

/// Refuses a base URL of `api` the key must not be sent to: a scheme other than http(s), or
/// plain `http://` to any host but a loopback address (127.0.0.0/8, ::1, `localhost`). The
/// message names the host, never the whole URL (it may hold a user name or password).
pub fn check_base_url(url: &Url, api: &str) -> Result<(), ApiError> {
    let host = url.host_str().unwrap_or("");
    match url.scheme() {
        "https" if !host.is_empty() => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        "http" => Err(ApiError::InvalidUrl(format!(
            "the {api} URL is plain http:// to {host}, which would send the API key unencrypted: use https:// (plain http:// is accepted only for this machine: 127.0.0.1, ::1, localhost)"
        ))),
        scheme => Err(ApiError::InvalidUrl(format!(
            "the {api} URL must start with https://, not {scheme}:"
        ))),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => {
            ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
        Some(Host::Domain(name)) => name
            .strip_suffix('.')
            .unwrap_or(name)
            .eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http_api::client::tests::TESTING;
    use crate::http_api::{ClientConfig, HttpClient};
    use secrecy::SecretString;

    fn check(url: &str) -> Result<(), String> {
        check_base_url(&Url::parse(url).unwrap(), "Autopilot").map_err(|e| e.to_string())
    }

    #[test]
    fn https_anywhere_plain_http_only_to_loopback() {
        for ok in [
            "https://api2.autopilothq.com/v1",
            "https://10.0.0.1/v1",
            "http://127.0.0.1:8080/v1",
            "http://127.9.9.9/v1",
            "http://[::1]:80/v1",
            "http://[::ffff:127.0.0.1]/v1",
            "http://localhost:3000/v1",
            "http://LOCALHOST./v1",
        ] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
        for refused in [
            "http://api2.autopilothq.com/v1",
            "http://10.0.0.1/v1",
            "http://[::2]/v1",
            "http://127.0.0.1.example.com/v1",
            "http://localhost.example.com/v1",
            "http://user:hunter2@evil.example/v1",
        ] {
            let err = check(refused).unwrap_err();
            assert!(err.contains("use https://"), "{refused}: {err}");
            assert!(!err.contains("hunter2"), "{err}");
        }
        for scheme in ["ftp://api2.autopilothq.com/v1", "file:///etc/passwd"] {
            assert!(check(scheme)
                .unwrap_err()
                .contains("must start with https://"));
        }
    }

    #[test]
    fn a_client_for_plain_http_elsewhere_cannot_be_built() {
        let config = ClientConfig::new(Url::parse("http://api2.autopilothq.com/v1").unwrap());
        let key = SecretString::from("k".to_string());
        let err = HttpClient::new(TESTING, config, key, None).unwrap_err();
        assert_eq!(err.type_name(), "InvalidInput");
        assert!(err.to_string().contains("use https://"), "{err}");
    }
}
