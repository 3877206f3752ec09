//! A destination keeps the Autopilot account it was connected to: a new key of the same account is
//! taken, a key of another account is refused and stores nothing, and names that would rewrite a
//! terminal are refused at connect.

use integration_tests::{local_deps, sandbox, KEY};
use secrecy::{ExposeSecret, SecretString};
use shared::destination;
use shared::jobs::{connect, ClientSettings};
use shared::JobError;

fn connect_input(name: &str, url: String) -> connect::Input {
    connect::Input {
        display_name: name.into(),
        api_key: SecretString::from(KEY.to_string()),
        consent: true,
        export_user: Some("tester".into()),
        autopilot_url: Some(url),
        requests_per_second: Some(100.0),
    }
}

fn rotation(destination_id: &str, key: &str) -> connect::RotateInput {
    connect::RotateInput {
        destination_id: destination_id.into(),
        api_key: SecretString::from(key.to_string()),
    }
}

#[tokio::test]
async fn a_key_of_another_account_is_refused_and_the_destination_keeps_its_key() {
    let sandbox = sandbox(|c| c).await;
    let dir = tempfile::tempdir().unwrap();
    let deps = local_deps(dir.path(), ClientSettings::default());
    let id = connect::run(connect_input("Main", sandbox.base_url()), &deps)
        .await
        .unwrap()
        .destination_id;
    let stored = destination::load(deps.store.as_ref(), &id).await.unwrap();
    assert!(stored.account_id.is_some(), "the account is recorded");

    // Another key of the same account: taken.
    sandbox.set_api_keys(vec![
        KEY.into(),
        "second-key-0123".into(),
        "other.key-0123".into(),
    ]);
    connect::rotate_key(rotation(&id, "second-key-0123"), &deps)
        .await
        .unwrap();
    assert_eq!(
        deps.secrets.get(&id).await.unwrap().expose_secret(),
        "second-key-0123"
    );

    // A valid key of another account: refused, and the stored key stays.
    match connect::rotate_key(rotation(&id, "other.key-0123"), &deps).await {
        Err(JobError::InvalidInput(message)) => {
            assert!(message.contains("another Autopilot account"), "{message}");
            assert!(
                !message.contains("key-0123"),
                "never quotes the key: {message}"
            );
        }
        other => panic!("a key of another account must be refused: {other:?}"),
    }
    assert_eq!(
        deps.secrets.get(&id).await.unwrap().expose_secret(),
        "second-key-0123"
    );
}

#[tokio::test]
async fn a_destination_connected_before_accounts_were_recorded_keeps_the_first_account_seen() {
    let sandbox = sandbox(|c| c).await;
    let dir = tempfile::tempdir().unwrap();
    let deps = local_deps(dir.path(), ClientSettings::default());
    let id = connect::run(connect_input("Old", sandbox.base_url()), &deps)
        .await
        .unwrap()
        .destination_id;
    let mut old = destination::load(deps.store.as_ref(), &id).await.unwrap();
    old.account_id = None;
    destination::save(deps.store.as_ref(), &old).await.unwrap();

    connect::rotate_key(rotation(&id, KEY), &deps)
        .await
        .unwrap();
    let recorded = destination::load(deps.store.as_ref(), &id).await.unwrap();
    assert!(recorded.account_id.is_some());
    sandbox.set_api_keys(vec![KEY.into(), "other.key-0123".into()]);
    assert!(connect::rotate_key(rotation(&id, "other.key-0123"), &deps)
        .await
        .is_err());
}

#[tokio::test]
async fn names_with_control_characters_or_too_long_are_refused_before_autopilot_is_asked() {
    let sandbox = sandbox(|c| c).await;
    let dir = tempfile::tempdir().unwrap();
    let deps = local_deps(dir.path(), ClientSettings::default());
    let long = "n".repeat(201);
    for name in ["a\u{1b}[31mred", "two\nlines", "tab\there", long.as_str()] {
        match connect::run(connect_input(name, sandbox.base_url()), &deps).await {
            Err(JobError::InvalidInput(message)) => {
                assert!(message.contains("display name"), "{message}");
                assert!(
                    !message.contains("red") && !message.contains("nnnn"),
                    "{message}"
                );
            }
            other => panic!("{name:?} must be refused: {other:?}"),
        }
    }
    let mut input = connect_input("Main", sandbox.base_url());
    input.export_user = Some("me\r\nforged line".into());
    assert!(matches!(
        connect::run(input, &deps).await,
        Err(JobError::InvalidInput(m)) if m.contains("export user")
    ));
    assert_eq!(sandbox.counters().requests, 0, "Autopilot was never asked");
    assert!(deps.store.list("destinations/").await.unwrap().is_empty());
    // An HTML-looking name is a name: pages escape it.
    connect::run(connect_input("<b>Shop</b> & Co", sandbox.base_url()), &deps)
        .await
        .unwrap();
}
