//! The console off the loopback, as a user starts it: over plain HTTP it is refused with the fix,
//! unless the flag that says the traffic is readable is given; with a certificate signed by a
//! test CA it serves HTTPS, a client trusting that CA gets its pages, and the session cookie is
//! `Secure` (a browser never sends it over plain HTTP). A client that does not trust the CA, and
//! plain HTTP on the same port, get nothing.

mod common;

use common::{cli, fails_with, text};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

#[test]
fn plain_http_off_the_loopback_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let snapshots = dir.path().display().to_string();
    for listen in ["0.0.0.0", "::"] {
        let args = ["console", "--listen", listen, "--port", "0"];
        let out = cli(
            &data,
            &[&args[..], &["--snapshots", &snapshots]].concat(),
            None,
        );
        let said = text(&out);
        assert!(said.contains("--tls-cert FILE --tls-key FILE"), "{said}");
        assert!(said.contains("--insecure-readable-traffic"), "{said}");
        fails_with(out, &format!("will not listen on {listen} without TLS"));
    }
}

#[tokio::test]
async fn https_off_the_loopback_with_a_secure_cookie() {
    let dir = tempfile::tempdir().unwrap();
    let ca = test_certificates(dir.path());
    let cert = dir.path().join("console.pem").display().to_string();
    let key = dir.path().join("console.key").display().to_string();
    let tls = ["--tls-cert", cert.as_str(), "--tls-key", key.as_str()];
    let console = Console::start(dir.path(), &tls);
    let (url, token) = (&console.url, &console.token);
    assert!(url.starts_with("https://0.0.0.0:"), "{url}");

    let trusting = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(ca.as_bytes()).unwrap())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let port = console.port;
    let first = trusting
        .get(format!("https://127.0.0.1:{port}/?token={token}"))
        .send()
        .await
        .expect("HTTPS with the CA's certificate");
    assert_eq!(first.status(), 303);
    let cookie = first.headers()["set-cookie"].to_str().unwrap().to_string();
    for attribute in ["HttpOnly", "SameSite=Strict", "Secure"] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    let session = cookie.split(';').next().unwrap();
    let page = trusting
        .get(format!("https://localhost:{port}/"))
        .header("cookie", session)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Export destinations"));

    let untrusting = reqwest::Client::new();
    let refused = untrusting
        .get(format!("https://127.0.0.1:{port}/?token={token}"))
        .send()
        .await;
    assert!(refused.is_err(), "a client that does not trust the CA");
    let plain = untrusting
        .get(format!("http://127.0.0.1:{port}/?token={token}"))
        .send()
        .await;
    assert!(
        plain.map_or(true, |answer| answer.status() != 303),
        "plain HTTP on the HTTPS port gets no cookie"
    );
}

#[tokio::test]
async fn plain_http_off_the_loopback_when_asked_for_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let console = Console::start(dir.path(), &["--insecure-readable-traffic"]);
    assert!(
        console.url.starts_with("http://0.0.0.0:"),
        "{}",
        console.url
    );
    let first = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!(
            "http://127.0.0.1:{}/?token={}",
            console.port, console.token
        ))
        .send()
        .await
        .unwrap();
    let cookie = first.headers()["set-cookie"].to_str().unwrap();
    assert!(!cookie.contains("Secure"), "{cookie}");
}

/// A running `autopilot-export console --listen 0.0.0.0`, stopped when dropped.
struct Console {
    child: Child,
    url: String,
    port: u16,
    token: String,
}

impl Console {
    fn start(dir: &Path, args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_autopilot-export"))
            .arg("--data-dir")
            .arg(dir.join("data"))
            .args([
                "console",
                "--listen",
                "0.0.0.0",
                "--port",
                "0",
                "--snapshots",
            ])
            .arg(dir)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the console starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("Console: ")
            .unwrap_or_else(|| panic!("the first line is the console's URL: {line:?}"))
            .to_string();
        let (address, token) = url.split_once("/?token=").unwrap();
        let port = address.rsplit(':').next().unwrap().parse().unwrap();
        let token = token.to_string();
        Self {
            child,
            url,
            port,
            token,
        }
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A test CA, and a certificate it signs for `localhost` and 127.0.0.1 (`console.pem`, its key
/// `console.key`) in `dir`; the CA's certificate, in PEM.
fn test_certificates(dir: &Path) -> String {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "autopilot-export test CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().unwrap();
    let params = CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    let cert = params.signed_by(&key, &issuer).unwrap();
    std::fs::write(dir.join("console.pem"), cert.pem()).unwrap();
    std::fs::write(dir.join("console.key"), key.serialize_pem()).unwrap();
    ca.pem()
}
