//! A destination keeps the Autopilot account it was connected to: a new key of the same account is
//! taken, a key of another account — or one whose account answer names no account — is refused
//! and stores nothing, and names that would rewrite a
//! terminal are refused at connect.

use integration_tests::{local_deps, sandbox, KEY};
use secrecy::{ExposeSecret, SecretString};
use shared::audience_api::ClientSettings;
use shared::destination;
use shared::jobs::connect;
use shared::JobError;

fn connect_input(name: &str, url: String) -> connect::Input {
    connect::Input {
        display_name: name.into(),
        api_key: SecretString::from(KEY.to_string()),
        consent: true,
        export_user: Some("tester".into()),
        api: Default::default(),
        api_url: Some(url),
        requests_per_second: Some(100.0),
        region: None,
        update_only: false,
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
async fn a_key_whose_account_answer_names_no_account_is_refused_when_one_is_recorded() {
    let sandbox = sandbox(|c| c).await;
    let dir = tempfile::tempdir().unwrap();
    let deps = local_deps(dir.path(), ClientSettings::default());
    let id = connect::run(connect_input("Main", sandbox.base_url()), &deps)
        .await
        .unwrap()
        .destination_id;
    // A key the sandbox answers for without an `instance_id`.
    sandbox.set_api_keys(vec![KEY.into(), ".nameless-key-0123".into()]);
    match connect::rotate_key(rotation(&id, ".nameless-key-0123"), &deps).await {
        Err(JobError::InvalidInput(message)) => {
            assert!(message.contains("did not say which account"), "{message}");
            assert!(
                !message.contains("key-0123"),
                "never quotes the key: {message}"
            );
        }
        other => panic!("a key of an unnamed account must be refused: {other:?}"),
    }
    assert_eq!(deps.secrets.get(&id).await.unwrap().expose_secret(), KEY);
    let kept = destination::load(deps.store.as_ref(), &id).await.unwrap();
    assert!(kept.account_id.is_some(), "the recorded account stays");
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

/// Two sets of functions (as two warm Lambda instances, or two processes) over one store and one
/// secret store: a destination removed and connected again under the same id through one is
/// exported through the other to the account it is connected to now, with its new key.
#[tokio::test]
async fn a_destination_connected_again_under_its_id_exports_to_its_new_account() {
    let first = sandbox(|c| c).await;
    let second = sandbox::Sandbox::start(sandbox::SandboxConfig::with_key("second-key-0123"), 0)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let one = integration_tests::jobs::export_deps(dir.path());
    let other = shared::Deps {
        apis: integration_tests::jobs::export_deps(dir.path()).apis,
        ..one.clone()
    };
    let snapshot = dir.path().join("people.csv");
    shared::test_support::write_people(&snapshot, 30).unwrap();
    let shop = |url: String, key: &str| {
        shared::test_support::TestDestination::new(url)
            .named("Shop")
            .key(key)
            .segment("People", &snapshot)
    };
    let id = shop(first.base_url(), KEY).create(&other).await.unwrap();
    integration_tests::jobs::export(&other, &id, 100)
        .await
        .unwrap();
    let sent_first = first.counters().contacts_written;
    assert_eq!(sent_first, 30);

    shared::jobs::remove::run(
        shared::jobs::remove::Input {
            destination_id: id.clone(),
        },
        &one,
    )
    .await
    .unwrap();
    let again = shop(second.base_url(), "second-key-0123")
        .create(&one)
        .await
        .unwrap();
    assert_eq!(again, id);
    let report = integration_tests::jobs::export(&other, &id, 100)
        .await
        .unwrap();
    assert_eq!(report.totals.sent, 30);
    assert_eq!(second.counters().contacts_written, 30);
    assert_eq!(
        first.counters().contacts_written,
        sent_first,
        "nothing more reached the account the destination left"
    );
}
