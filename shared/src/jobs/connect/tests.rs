use super::*;
use crate::audience_api::{ApiFactory, ClientSettings};
use crate::secrets::FileSecrets;
use crate::snapshot::LocalFiles;
use crate::store::LocalStore;
use std::sync::Arc;
use std::time::Duration;

/// Local deps whose client gives up at once: nothing listens at the URL the tests connect to.
pub(crate) fn deps(dir: &std::path::Path) -> Deps {
    Deps {
        store: Arc::new(LocalStore::new(dir)),
        secrets: Arc::new(FileSecrets::new(dir.join("secrets"))),
        snapshots: Arc::new(LocalFiles),
        apis: Arc::new(ApiFactory::new(ClientSettings {
            timeout: Duration::from_millis(200),
            max_attempts: 1,
            max_elapsed: Duration::from_millis(200),
            ..ClientSettings::default()
        })),
    }
}

#[test]
fn ortto_is_reached_at_its_region_and_only_ortto_has_regions_or_update_only() {
    let input = |api, region: Option<&str>, url: Option<&str>, update_only| Input {
        display_name: "Main".into(),
        api_key: SecretString::from("k".to_string()),
        consent: true,
        export_user: None,
        api,
        api_url: url.map(str::to_string),
        requests_per_second: None,
        region: region.map(str::to_string),
        update_only,
    };
    let url = |i: Input| api_url(&i).map_err(|e| e.to_string());
    assert_eq!(
        url(input(ApiKind::Ortto, None, None, false)).unwrap(),
        "https://api.ap3api.com"
    );
    assert_eq!(
        url(input(ApiKind::Ortto, Some("EU"), None, true)).unwrap(),
        "https://api.eu.ap3api.com"
    );
    assert_eq!(
        url(input(ApiKind::Ortto, Some("au"), None, false)).unwrap(),
        "https://api.au.ap3api.com"
    );
    let sandbox = Some("http://127.0.0.1:9");
    assert_eq!(
        url(input(ApiKind::Ortto, Some("au"), sandbox, false)).unwrap(),
        "http://127.0.0.1:9"
    );
    let err = url(input(ApiKind::Ortto, Some("us"), None, false)).unwrap_err();
    assert!(err.contains("use global, au or eu"), "{err}");
    let err = url(input(ApiKind::Autopilot, Some("eu"), None, false)).unwrap_err();
    assert!(err.contains("add --api ortto"), "{err}");
    let err = url(input(ApiKind::Autopilot, None, None, true)).unwrap_err();
    assert!(
        err.contains("update-only is for an Ortto destination"),
        "{err}"
    );
}

#[tokio::test]
async fn a_rate_outside_the_range_is_refused_before_anything_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let deps = deps(dir.path());
    for rate in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e-9, 0.09, 10_001.0] {
        let input = Input {
            display_name: "Main".into(),
            api_key: SecretString::from("k".to_string()),
            consent: true,
            export_user: None,
            api: Default::default(),
            api_url: Some("http://127.0.0.1:9/v1".into()),
            requests_per_second: Some(rate),
            region: None,
            update_only: false,
        };
        match run(input, &deps).await {
            Err(JobError::InvalidInput(message)) => {
                assert!(message.contains("from 0.1 to 10,000"), "{rate}: {message}")
            }
            other => panic!("{rate} must be refused as invalid input: {other:?}"),
        }
    }
    assert!(!deps
        .store
        .exists(&destination::keys::destination("main"))
        .await
        .unwrap());
    for rate in [0.1, 10.0, 10_000.0] {
        assert_eq!(check_rate(rate), Ok(rate));
    }
}

#[tokio::test]
async fn a_key_holding_a_line_break_is_refused_without_quoting_it() {
    let dir = tempfile::tempdir().unwrap();
    let deps = deps(dir.path());
    for key in ["secret-half\nother-half", "secret-half\tother-half"] {
        let input = Input {
            display_name: "Main".into(),
            api_key: SecretString::from(key.to_string()),
            consent: true,
            export_user: None,
            api: Default::default(),
            api_url: Some("http://127.0.0.1:9/v1".into()),
            requests_per_second: None,
            region: None,
            update_only: false,
        };
        match run(input, &deps).await {
            Err(JobError::InvalidInput(message)) => {
                assert_eq!(message, KEY_WITH_CONTROL_CHARACTERS);
            }
            other => panic!("must be refused as invalid input: {other:?}"),
        }
        let rotate = RotateInput {
            destination_id: "main".into(),
            api_key: SecretString::from(key.to_string()),
        };
        assert!(matches!(
            rotate_key(rotate, &deps).await,
            Err(JobError::InvalidInput(m)) if m == KEY_WITH_CONTROL_CHARACTERS
        ));
    }
    assert!(!deps
        .store
        .exists(&destination::keys::destination("main"))
        .await
        .unwrap());
}
