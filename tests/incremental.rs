//! Incremental exports against a real sandbox, in each API's mode (Autopilot's lists, Ortto's
//! tags): only changes are sent, departed members leave their list, hand-added members stay,
//! failures lose nothing, guardrails stop large removals.

use integration_tests::apis::{self, audience_id, sandbox_of};
use integration_tests::{for_each_api, local_deps, KEY};
use sandbox::Sandbox;
use secrecy::SecretString;
use shared::app::launcher::ExportRequest;
use shared::app::local_export::{self, Options, Progress};
use shared::audience_api::{ApiKind, ClientSettings};
use shared::destination::{DataMatching, Segment};
use shared::jobs::finalize::{Report, Status};
use shared::jobs::plan::Trigger;
use shared::jobs::{configure, connect};
use shared::{Deps, JobError};
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::time::Duration;

struct Fixture {
    _dir: tempfile::TempDir,
    snapshot: PathBuf,
    deps: Deps,
    sandbox: Sandbox,
    dest: String,
}

impl Fixture {
    async fn new(api: ApiKind) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let snapshot = dir.path().join("segment.csv");
        let sandbox = sandbox_of(api, |c| c).await;
        let settings = ClientSettings {
            timeout: Duration::from_secs(2),
            max_attempts: 3,
            max_elapsed: Duration::from_secs(10),
            ..ClientSettings::default()
        };
        let deps = local_deps(dir.path(), settings);
        let dest = connect::run(
            connect::Input {
                display_name: "Incremental".into(),
                api_key: SecretString::from(KEY.to_string()),
                consent: true,
                export_user: None,
                api,
                api_url: Some(sandbox.base_url()),
                requests_per_second: Some(5000.0),
                region: None,
                update_only: false,
            },
            &deps,
        )
        .await
        .unwrap()
        .destination_id;
        let fixture = Self {
            _dir: dir,
            snapshot,
            deps,
            sandbox,
            dest,
        };
        fixture.configure("tier").await;
        fixture
    }

    async fn configure(&self, tier_column: &str) {
        self.configure_with(tier_column, None, None).await.unwrap();
    }

    async fn configure_with(
        &self,
        tier_column: &str,
        max_removal_percent: Option<f64>,
        max_shrink_percent: Option<f64>,
    ) -> Result<(), JobError> {
        configure::run(
            configure::Input {
                destination_id: self.dest.clone(),
                data_matching: DataMatching {
                    email: "email".into(),
                    first_name: Some("first".into()),
                    last_name: None,
                    fields: BTreeMap::new(),
                    custom: BTreeMap::from([("string--Tier".into(), tier_column.into())]),
                },
                segments: vec![Segment::new("Members", self.snapshot.display().to_string())],
                profile_limit: Some(1_000_000),
                requests_per_second: None,
                schedule: None,
                max_removal_percent,
                max_shrink_percent,
            },
            &self.deps,
        )
        .await
        .map(drop)
    }

    /// Writes people `ids`, the ones in `changed` with a new first name.
    fn write(&self, ids: impl Iterator<Item = u32>, changed: &HashSet<u32>) {
        let mut text = String::from("email,first,tier,tier2\n");
        for i in ids {
            let first = if changed.contains(&i) {
                format!("New{i}")
            } else {
                format!("P{i}")
            };
            text.push_str(&format!("p{i}@example.com,{first},gold,silver\n"));
        }
        std::fs::write(&self.snapshot, text).unwrap();
    }

    async fn export_with(&self, options: Options) -> Result<Report, JobError> {
        local_export::run(&self.deps, &options, &|_: Progress| {}).await
    }

    async fn export(&self) -> Report {
        self.export_with(Options::new(&self.dest))
            .await
            .expect("export succeeds")
    }

    fn members(&self) -> HashSet<String> {
        apis::members(&self.sandbox, "Members")
    }

    /// The export that wrote the destination's baseline.
    async fn baseline_export(&self) -> String {
        shared::baseline::load(self.deps.store.as_ref(), &self.dest)
            .await
            .unwrap()
            .expect("a baseline")
            .export_id
    }

    fn written(&self) -> u64 {
        self.sandbox.counters().contacts_written
    }

    /// The sandbox's id of the segment's list (tag).
    fn list_id(&self) -> String {
        audience_id(&self.sandbox, "Members")
    }

    /// A contact's first name and tier, wherever its API keeps them.
    fn first_and_tier(&self, email: &str) -> (serde_json::Value, serde_json::Value) {
        let field = |name| apis::field(&self.sandbox, email, name);
        (field("FirstName"), field("string--Tier"))
    }
}

for_each_api!(
    unchanged_data_sends_nothing_and_one_percent_sends_exactly_that
    departed_members_leave_the_list_and_hand_added_ones_stay
    members_of_an_existing_list_are_never_removed
    a_failed_export_loses_nothing_for_the_next_one
    guardrails_stop_large_removals_and_shrinks_unless_overridden
    changed_mapping_or_full_resends_everything_and_dry_run_writes_nothing
    a_deleted_list_gets_everyone_back
);

async fn unchanged_data_sends_nothing_and_one_percent_sends_exactly_that(api: ApiKind) {
    let f = Fixture::new(api).await;
    f.write(0..10_000, &HashSet::new());
    let first = f.export().await;
    assert_eq!((first.totals.added, first.totals.unchanged), (10_000, 0));

    let requests = f.sandbox.counters().requests;
    let written = f.written();
    let second = f.export().await;
    assert_eq!(second.status, Status::Succeeded);
    assert_eq!((second.totals.sent, second.totals.unchanged), (0, 10_000));
    assert_eq!(f.written(), written, "no contact sent");
    let made = f.sandbox.counters().requests - requests;
    // The lists, and the light verify's two pages; Ortto also reads its custom fields (before
    // anything could be sent) and finds the tag's id before reading its members.
    let reads = if api == ApiKind::Ortto { 5 } else { 3 };
    assert!(made <= reads, "{made} requests for an unchanged segment");
    assert!(second.segments[0].counts.adds_up());
    // The baseline is left as the first export wrote it: nothing re-encoded, nothing rewritten.
    assert_eq!(f.baseline_export().await, first.export_id);

    let changed: HashSet<u32> = (0..10_000).step_by(100).collect();
    f.write(0..10_000, &changed);
    let third = f.export().await;
    assert_eq!(
        (
            third.totals.updated,
            third.totals.added,
            third.totals.unchanged
        ),
        (100, 0, 9_900)
    );
    assert_eq!(f.written() - written, 100);
    assert_eq!(f.baseline_export().await, third.export_id);
    assert_eq!(f.first_and_tier("p100@example.com").0, "New100");
}

async fn departed_members_leave_the_list_and_hand_added_ones_stay(api: ApiKind) {
    let f = Fixture::new(api).await;
    f.write(0..1000, &HashSet::new());
    let first = f.export().await;
    assert_eq!(first.totals.added, 1000);
    f.sandbox
        .add_member_by_hand(&f.list_id(), "manual@example.com")
        .unwrap();

    f.write(100..1000, &HashSet::new());
    let report = f.export().await;
    assert_eq!(report.totals.removed, 100);
    let members = f.members();
    assert_eq!(members.len(), 901);
    assert!(members.contains("manual@example.com"));
    assert!(!members.contains("p5@example.com"));
    // Taken off the list, not deleted.
    assert!(apis::contact(&f.sandbox, "p5@example.com").is_some());
    assert_eq!(report.totals.sent, 0);

    // Coming back puts them on the list again.
    f.write(0..1000, &HashSet::new());
    let back = f.export().await;
    assert_eq!(back.totals.added, 100);
    assert_eq!(f.members().len(), 1001);
}

async fn members_of_an_existing_list_are_never_removed(api: ApiKind) {
    let f = Fixture::new(api).await;
    let list = f.sandbox.create_list("Members");
    f.sandbox
        .add_member_by_hand(&list, "p1@example.com")
        .unwrap();
    f.sandbox
        .add_member_by_hand(&list, "outsider@example.com")
        .unwrap();
    f.write(0..100, &HashSet::new());
    f.export().await;
    f.write(2..100, &HashSet::new());
    let report = f.export().await;
    // p0 was ours; p1 was on the list before this connector wrote to it.
    assert_eq!(report.totals.removed, 1);
    let members = f.members();
    assert!(members.contains("p1@example.com") && members.contains("outsider@example.com"));
    assert!(!members.contains("p0@example.com"));
}

async fn a_failed_export_loses_nothing_for_the_next_one(api: ApiKind) {
    let f = Fixture::new(api).await;
    f.write(0..1000, &HashSet::new());
    f.export().await;
    let changed: HashSet<u32> = (0..50).collect();
    f.write(0..1000, &changed);
    f.sandbox.set_api_keys(vec!["revoked".into()]);
    let err = f.export_with(Options::new(&f.dest)).await.unwrap_err();
    assert_eq!(err.type_name(), "Unauthorized");
    f.sandbox.set_api_keys(vec![KEY.into()]);
    let written = f.written();
    let report = f.export().await;
    assert_eq!(
        report.totals.updated, 50,
        "the failed run's changes are sent by the next"
    );
    assert_eq!(f.written() - written, 50);
    assert_eq!(f.export().await.totals.sent, 0);
}

async fn guardrails_stop_large_removals_and_shrinks_unless_overridden(api: ApiKind) {
    let f = Fixture::new(api).await;
    f.write(0..1000, &HashSet::new());
    f.export().await;
    f.write(0..700, &HashSet::new());
    let requests = f.sandbox.counters().requests;
    let err = f.export_with(Options::new(&f.dest)).await.unwrap_err();
    assert_eq!(err.type_name(), "GuardrailTripped");
    assert!(
        err.to_string().contains("300 of the 1000")
            && err.to_string().contains("--override-guardrails"),
        "{err}"
    );
    assert!(
        f.sandbox.counters().requests - requests <= 1,
        "only the read of the lists"
    );
    assert_eq!(f.members().len(), 1000);

    f.write(0..400, &HashSet::new());
    let err = f.export_with(Options::new(&f.dest)).await.unwrap_err();
    assert!(
        err.to_string().contains("shrank from 1000 to 400")
            && err.to_string().contains("--max-shrink-percent"),
        "{err}"
    );

    // Thresholds of this destination's own: 60% removed and shrunk is now within bounds.
    let err = f
        .configure_with("tier", Some(150.0), None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("from 0 to 100"), "{err}");
    f.configure_with("tier", Some(70.0), Some(70.0))
        .await
        .unwrap();
    let report = f.export().await;
    assert_eq!(report.totals.removed, 600);
    assert_eq!(f.members().len(), 400);

    f.write(0..100, &HashSet::new());
    let err = f.export_with(Options::new(&f.dest)).await.unwrap_err();
    assert!(err.to_string().contains("more than 70%"), "{err}");
    let options = Options {
        override_guardrails: true,
        ..Options::new(&f.dest)
    };
    let report = f.export_with(options).await.unwrap();
    assert_eq!(report.totals.removed, 300);
    assert_eq!(f.members().len(), 100);
}

async fn changed_mapping_or_full_resends_everything_and_dry_run_writes_nothing(api: ApiKind) {
    let f = Fixture::new(api).await;
    f.write(0..500, &HashSet::new());
    f.export().await;

    let changed: HashSet<u32> = (0..5).collect();
    f.write(0..490, &changed);
    let requests = f.sandbox.counters().requests;
    let preview =
        shared::app::exports::preview(&f.deps, &ExportRequest::new(&f.dest, Trigger::Manual))
            .await
            .unwrap();
    let segment = &preview.preview.as_ref().unwrap()[0];
    assert_eq!(
        (
            segment.adds,
            segment.updates,
            segment.unchanged,
            segment.removals
        ),
        (0, 5, 485, 10)
    );
    let sample = segment.samples[0].to_string();
    assert!(
        sample.contains("***@example.com") && !sample.contains("p0@"),
        "{sample}"
    );
    assert_eq!(
        f.sandbox.counters().requests - requests,
        1,
        "a dry run only reads the lists"
    );
    assert_eq!(f.members().len(), 500);

    f.configure("tier2").await;
    let written = f.written();
    let report = f.export().await;
    assert_eq!((report.totals.updated, report.totals.unchanged), (490, 0));
    assert_eq!(
        report.totals.removed, 10,
        "removals still follow the ledger"
    );
    let leavers_written = apis::membership_writes(api, 10);
    assert_eq!(f.written() - written, 490 + leavers_written);
    assert_eq!(f.first_and_tier("p7@example.com").1, "silver");

    let written = f.written();
    let full = f
        .export_with(Options {
            full: true,
            ..Options::new(&f.dest)
        })
        .await
        .unwrap();
    assert_eq!(full.totals.updated, 490);
    assert_eq!(f.written() - written, 490);
}

async fn a_deleted_list_gets_everyone_back(api: ApiKind) {
    let f = Fixture::new(api).await;
    f.write(0..300, &HashSet::new());
    f.export().await;
    // Someone deletes the list in Autopilot; a new one of the same name is made.
    f.sandbox.rename_list("Members", "Old Members");
    let report = f.export().await;
    assert!(report.segments[0].list_created);
    assert_eq!(report.totals.sent, 300);
    assert_eq!(f.members().len(), 300);
}
