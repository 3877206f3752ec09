//! The AWS adapters through the real AWS SDK against moto (S3, Secrets Manager): the same
//! conformance suites as the local adapters, and a whole export reading its snapshot from S3.
//! scripts/test starts moto and sets AWS_ENDPOINT_URL.
// Runs only with the `moto-tests` feature, which scripts/test turns on after starting moto.
#![cfg(feature = "moto-tests")]

use aws_adapters::{s3_client, sdk_config, S3Snapshots, S3Store, SecretsManagerSecrets, Settings};
use integration_tests::{sandbox, KEY};
use secrecy::SecretString;
use shared::audience_api::{ApiFactory, ClientSettings};
use shared::destination::{DataMatching, Segment};
use shared::jobs::{configure, connect};
use shared::local_export::{self, Options, Progress};
use shared::snapshot::SnapshotReader;
use shared::store::ObjectStore;
use shared::Deps;
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;

async fn moto(bucket: &str) -> (aws_config::SdkConfig, Settings) {
    assert!(
        std::env::var("AWS_ENDPOINT_URL").is_ok(),
        "these tests need moto: run them through scripts/test, which starts it"
    );
    let settings = Settings {
        force_path_style: true,
        secret_prefix: format!("test-{}/", fastrand::u32(..)),
        ..Settings::new(bucket)
    };
    let sdk = sdk_config().await;
    let s3 = s3_client(&sdk, &settings);
    let _ = s3.create_bucket().bucket(bucket).send().await;
    (sdk, settings)
}

#[tokio::test]
async fn s3_store_conforms() {
    let (sdk, settings) = moto("conformance-store").await;
    shared::store::conformance::run(&S3Store::new(
        s3_client(&sdk, &settings),
        &settings.data_bucket,
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_snapshots_conform() {
    let (sdk, settings) = moto("conformance-snapshots").await;
    let s3 = s3_client(&sdk, &settings);
    let reader = S3Snapshots::new(s3.clone());
    let root = format!(
        "s3://{}/snapshots/run-{}/",
        settings.data_bucket,
        fastrand::u32(..)
    );
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let prefix = root["s3://".len()..].split_once('/').unwrap().1.to_string();
        shared::snapshot::conformance::run(&reader, &root, &|name, bytes| {
            let put = s3
                .put_object()
                .bucket("conformance-snapshots")
                .key(format!("{prefix}{name}"))
                .body(bytes.to_vec().into())
                .send();
            handle.block_on(put).unwrap();
        });
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn secrets_manager_conforms() {
    let (sdk, settings) = moto("conformance-secrets").await;
    let secrets = SecretsManagerSecrets::new(
        aws_sdk_secretsmanager::Client::new(&sdk),
        &settings.secret_prefix,
    );
    shared::secrets::conformance::run(&secrets).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_reads_its_snapshot_from_s3_and_keeps_its_key_in_secrets_manager() {
    let (sdk, settings) = moto("export-on-s3").await;
    let s3 = s3_client(&sdk, &settings);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut text = String::from("\u{feff}email,first\r\n");
    for i in 0..1500 {
        text.push_str(&format!("s3-{i}@example.com,S{i}\r\n"));
    }
    text.push_str("broken,B\r\n");
    gz.write_all(text.as_bytes()).unwrap();
    s3.put_object()
        .bucket(&settings.data_bucket)
        .key("snapshots/people.csv.gz")
        .body(gz.finish().unwrap().into())
        .send()
        .await
        .unwrap();

    let sandbox = sandbox(|c| c).await;
    let deps = Deps {
        store: Arc::new(S3Store::new(s3.clone(), &settings.data_bucket)),
        secrets: Arc::new(SecretsManagerSecrets::new(
            aws_sdk_secretsmanager::Client::new(&sdk),
            &settings.secret_prefix,
        )),
        snapshots: Arc::new(S3Snapshots::new(s3.clone())),
        apis: Arc::new(ApiFactory::new(ClientSettings::default())),
    };
    let dest = connect::run(
        connect::Input {
            display_name: format!("S3 {}", fastrand::u32(..)),
            api_key: SecretString::from(KEY.to_string()),
            consent: true,
            export_user: None,
            api: Default::default(),
            api_url: Some(sandbox.base_url()),
            requests_per_second: Some(1000.0),
        },
        &deps,
    )
    .await
    .unwrap()
    .destination_id;
    configure::run(
        configure::Input {
            destination_id: dest.clone(),
            data_matching: DataMatching {
                email: "email".into(),
                first_name: Some("first".into()),
                last_name: None,
                fields: BTreeMap::new(),
                custom: BTreeMap::new(),
            },
            segments: vec![Segment::new(
                "From S3",
                format!("s3://{}/snapshots/people.csv.gz", settings.data_bucket),
            )],
            profile_limit: None,
            requests_per_second: None,
            schedule: None,
            max_removal_percent: None,
            max_shrink_percent: None,
        },
        &deps,
    )
    .await
    .unwrap();
    let report = local_export::run(&deps, &Options::new(&dest), &|_: Progress| {})
        .await
        .unwrap();
    assert_eq!((report.totals.sent, report.totals.invalid), (1500, 1));
    assert_eq!(sandbox.state().list("From S3").unwrap().members.len(), 1500);
    // The destination object never holds the key; the secret does.
    let stored = deps
        .store
        .get(&format!("destinations/{dest}.json"))
        .await
        .unwrap();
    assert!(!String::from_utf8_lossy(&stored).contains(KEY));
    let keys = deps.store.list(&format!("exports/{dest}/")).await.unwrap();
    for key in keys {
        let object = deps.store.get(&key).await.unwrap();
        assert!(!String::from_utf8_lossy(&object).contains(KEY), "{key}");
    }
    // Objects are written encrypted.
    let head = s3
        .head_object()
        .bucket(&settings.data_bucket)
        .key(format!("destinations/{dest}.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        head.server_side_encryption().map(|s| s.as_str()),
        Some("AES256")
    );

    let missing = S3Snapshots::new(s3);
    let err = tokio::task::spawn_blocking(move || missing.open("s3://export-on-s3/nope.csv").err())
        .await
        .unwrap()
        .unwrap();
    assert!(err.message().contains("does not exist"), "{err}");
    assert_eq!(
        err.kind(),
        shared::ErrorKind::InvalidInput,
        "a missing snapshot is fatal"
    );
}

/// What reaches a report or an execution's history is AWS's error code, not its message (which
/// can name roles and resources by ARN).
#[tokio::test]
async fn aws_errors_carry_the_code_not_the_text() {
    let (sdk, settings) = moto("errors-named-by-code").await;
    let store = S3Store::new(s3_client(&sdk, &settings), "no-such-bucket-for-errors");
    let err = store
        .get("destinations/a.json")
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("NoSuchBucket"), "{err}");
    assert!(
        !err.contains("does not exist"),
        "AWS's own text stays in the log: {err}"
    );
}

/// The data bucket is versioned, so a deleted object stays as an earlier version: remove deletes
/// every version and delete marker of the destination's settings, baselines (each holds every
/// address exported) and exports, and leaves another destination's alone.
#[tokio::test]
async fn remove_leaves_no_version_of_the_destination_in_a_versioned_bucket() {
    use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};
    let (sdk, settings) = moto("remove-versions").await;
    let s3 = s3_client(&sdk, &settings);
    let bucket = settings.data_bucket.clone();
    let versioning = VersioningConfiguration::builder()
        .status(BucketVersioningStatus::Enabled)
        .build();
    s3.put_bucket_versioning()
        .bucket(&bucket)
        .versioning_configuration(versioning)
        .send()
        .await
        .unwrap();
    let deps = Deps {
        store: Arc::new(S3Store::new(s3.clone(), &bucket)),
        secrets: Arc::new(SecretsManagerSecrets::new(
            aws_sdk_secretsmanager::Client::new(&sdk),
            &settings.secret_prefix,
        )),
        snapshots: Arc::new(S3Snapshots::new(s3.clone())),
        apis: Arc::new(ApiFactory::new(ClientSettings::default())),
    };
    let (gone, kept) = (
        format!("gone-{}", fastrand::u32(..)),
        format!("kept-{}", fastrand::u32(..)),
    );
    for id in [&gone, &kept] {
        let destination = serde_json::json!({
            "id": id, "display_name": id, "autopilot_url": "https://api2.autopilothq.com/v1",
            "consent": {"agreed_at": "2026-01-01T00:00:00Z", "export_user": "ana"},
            "created_at": "2026-01-01T00:00:00Z"
        });
        let store = deps.store.as_ref();
        let put = |key: String, body: String| async move {
            store.put(&key, body.into()).await.unwrap();
        };
        put(format!("destinations/{id}.json"), destination.to_string()).await;
        // Two exports: the baseline written twice, each export's chunk deleted when it ended.
        for (n, people) in ["a@example.com", "a@example.com b@example.com"]
            .iter()
            .enumerate()
        {
            put(format!("state/{id}/baseline.json"), people.to_string()).await;
            put(format!("exports/{id}/e{n}/report.json"), "{}".into()).await;
            let chunk = format!("exports/{id}/e{n}/chunks/000000.json");
            put(chunk.clone(), people.to_string()).await;
            store.delete(&chunk).await.unwrap();
        }
        deps.secrets
            .put(id, &SecretString::from("k".to_string()))
            .await
            .unwrap();
    }
    let before = versions_of(&s3, &bucket, &format!("state/{gone}/")).await;
    assert_eq!(before.len(), 2, "two versions of the baseline: {before:?}");

    shared::jobs::remove::run(
        shared::jobs::remove::Input {
            destination_id: gone.clone(),
        },
        &deps,
    )
    .await
    .unwrap();

    for prefix in [
        format!("destinations/{gone}.json"),
        format!("state/{gone}/"),
        format!("exports/{gone}/"),
    ] {
        let left = versions_of(&s3, &bucket, &prefix).await;
        assert!(left.is_empty(), "{prefix}: {left:?}");
    }
    assert!(deps.secrets.get(&gone).await.is_err());
    // The other destination keeps its objects, their earlier versions and its delete markers.
    let other = versions_of(&s3, &bucket, &format!("state/{kept}/")).await;
    assert_eq!(other.len(), 2, "{other:?}");
    let other = versions_of(&s3, &bucket, &format!("exports/{kept}/")).await;
    assert_eq!(
        other.len(),
        6,
        "2 reports, 2 chunks, 2 delete markers: {other:?}"
    );
    deps.secrets.delete(&kept).await.unwrap();
}

/// Every version and delete marker under `prefix`, as `key@version`.
async fn versions_of(s3: &aws_sdk_s3::Client, bucket: &str, prefix: &str) -> Vec<String> {
    let page = s3
        .list_object_versions()
        .bucket(bucket)
        .prefix(prefix)
        .send()
        .await
        .unwrap();
    let versions = page.versions().iter().map(|v| (v.key(), v.version_id()));
    let markers = page
        .delete_markers()
        .iter()
        .map(|m| (m.key(), m.version_id()));
    versions
        .chain(markers)
        .map(|(k, v)| format!("{}@{}", k.unwrap_or("?"), v.unwrap_or("?")))
        .collect()
}
