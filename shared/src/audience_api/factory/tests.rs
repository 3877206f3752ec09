//! The factory hands out a destination's client again only while the destination is what the
//! client was made for, and never for a URL outside its boundary.

use super::*;
use crate::secrets::FileSecrets;

fn destination(id: &str, url: &str) -> Destination {
    serde_json::from_value(serde_json::json!({
        "id": id, "display_name": id, "api_url": url, "account_name": null,
        "consent": {"agreed_at": "2026-01-01T00:00:00Z", "export_user": "tester"},
        "created_at": "2026-01-01T00:00:00Z",
    }))
    .unwrap()
}

fn key(text: &str) -> SecretString {
    SecretString::from(text.to_string())
}

fn secrets(dir: &std::path::Path) -> Arc<dyn SecretStore> {
    Arc::new(FileSecrets::new(dir.join("secrets")))
}

#[tokio::test]
async fn a_destination_keeps_its_client_until_its_key_url_or_rate_changes() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = secrets(dir.path());
    let factory = ApiFactory::new(ClientSettings::default());
    let shop = destination("shop", "http://127.0.0.1:9/v1");
    secrets.put("shop", &key("first-key")).await.unwrap();
    let first = factory
        .for_destination(&shop, &secrets, 10.0)
        .await
        .unwrap();
    let again = factory
        .for_destination(&shop, &secrets, 10.0)
        .await
        .unwrap();
    assert!(Arc::ptr_eq(&first, &again), "one client, one pacer");
    let other_rate = factory.for_destination(&shop, &secrets, 5.0).await.unwrap();
    assert!(!Arc::ptr_eq(&first, &other_rate));

    // Removed and connected again with another key (by any process): a new client.
    secrets.put("shop", &key("second-key")).await.unwrap();
    let rekeyed = factory
        .for_destination(&shop, &secrets, 10.0)
        .await
        .unwrap();
    assert!(!Arc::ptr_eq(&first, &rekeyed));
    assert_eq!(
        factory.lock().len(),
        1,
        "the clients of the old key are forgotten"
    );

    // ... or to another URL with the same key.
    let moved = destination("shop", "http://127.0.0.1:10/v1");
    let elsewhere = factory
        .for_destination(&moved, &secrets, 10.0)
        .await
        .unwrap();
    assert!(!Arc::ptr_eq(&rekeyed, &elsewhere));
    assert_eq!(factory.lock().len(), 1);

    factory.forget("shop");
    assert!(factory.lock().is_empty());
}

#[tokio::test]
async fn a_url_outside_the_boundary_is_refused_before_the_key_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = secrets(dir.path());
    let hosts = ["http://127.0.0.1:4010".to_string()];
    let boundary = Boundary::deployment(&hosts, Some("snapshots"), "", "data").unwrap();
    let factory = ApiFactory::new(ClientSettings::default()).within(boundary);
    // No key is stored: a refusal that came after reading it would be `NotFound`.
    for url in [
        "https://attacker.example/v1",
        "http://127.0.0.1:4011/v1",
        "http://127.0.0.1.attacker.example:4010/v1",
    ] {
        let err = factory
            .for_destination(&destination("shop", url), &secrets, 10.0)
            .await
            .err()
            .unwrap();
        assert_eq!(err.type_name(), "InvalidInput", "{url}: {err}");
        assert!(err.to_string().contains("AllowedAutopilotHosts"), "{err}");
        let err = factory
            .for_new_key(ApiKind::Autopilot, url, key("k"), 10.0)
            .err()
            .unwrap();
        assert_eq!(err.type_name(), "InvalidInput", "{url}: {err}");
    }
    let inside = destination("shop", "http://127.0.0.1:4010/v1");
    let err = factory
        .for_destination(&inside, &secrets, 10.0)
        .await
        .err()
        .unwrap();
    assert_eq!(
        err.type_name(),
        "NotFound",
        "inside, the key is read: {err}"
    );
    assert!(factory.lock().is_empty());
}

#[test]
fn a_fingerprint_is_keyed_by_the_process_and_never_the_key() {
    let one = ApiFactory::new(ClientSettings::default());
    let other = ApiFactory::new(ClientSettings::default());
    let secret = "sk-0123456789abcdef";
    let print = one.fingerprint(&key(secret));
    assert_eq!(print.len(), 64);
    assert!(!print.contains(secret) && !print.contains("0123456789abcdef"));
    assert_eq!(print, one.fingerprint(&key(secret)));
    assert_ne!(print, one.fingerprint(&key("sk-0123456789abcdeg")));
    assert_ne!(print, other.fingerprint(&key(secret)), "keyed per process");
}

#[tokio::test]
async fn a_client_handed_out_before_a_rotation_reads_the_stored_key_once_when_refused() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = secrets(dir.path());
    let server = sandbox::Sandbox::start(sandbox::SandboxConfig::with_key("old-key"), 0)
        .await
        .unwrap();
    let factory = ApiFactory::new(ClientSettings::default());
    let shop = destination("shop", &server.base_url());
    secrets.put("shop", &key("old-key")).await.unwrap();
    let running = factory
        .for_destination(&shop, &secrets, 100.0)
        .await
        .unwrap();
    running.account().await.unwrap();

    // Rotated by another process while this client runs: refused once, then the stored key.
    server.set_api_keys(vec!["new-key".into()]);
    secrets.put("shop", &key("new-key")).await.unwrap();
    running.account().await.unwrap();
    assert_eq!(server.counters().unauthorized, 1);
    // Revoked with nothing new stored: refused, once, no loop.
    server.set_api_keys(vec!["other-key".into()]);
    let err = running.account().await.err().unwrap();
    assert_eq!(err.type_name(), "Unauthorized");
    assert_eq!(server.counters().unauthorized, 2);
}
