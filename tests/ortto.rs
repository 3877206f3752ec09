//! Exports to the sandbox's Ortto mode under each plausible answer of what Ortto's documentation
//! leaves open (the sandbox's settings), and the cost of a refresh: tags, consent, suppression,
//! update-only, empty values, the custom-field limit, Retry-After, refused merges without a ban.

use integration_tests::jobs::export_deps;
use integration_tests::KEY;
use sandbox::{EmptyStrings, MixedBatch, Sandbox, SandboxConfig};
use shared::app::local_export::{self, Options, Progress};
use shared::audience_api::ApiKind;
use shared::jobs::finalize::Report;
use shared::test_support::TestDestination;
use shared::{Deps, JobError};
use std::path::PathBuf;

struct Ortto {
    _dir: tempfile::TempDir,
    snapshot: PathBuf,
    deps: Deps,
    sandbox: Sandbox,
}

impl Ortto {
    async fn new(config: impl FnOnce(SandboxConfig) -> SandboxConfig) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let sandbox = Sandbox::start(config(SandboxConfig::ortto(KEY)), 0)
            .await
            .unwrap();
        Self {
            snapshot: dir.path().join("members.csv"),
            deps: export_deps(dir.path()),
            _dir: dir,
            sandbox,
        }
    }

    /// "Members" of the snapshot on this sandbox, email and first name, `custom` fields besides.
    fn destination(&self, custom: &[&str]) -> TestDestination {
        let destination = TestDestination::new(self.sandbox.base_url())
            .api(ApiKind::Ortto)
            .rate(1000.0)
            .columns("email", "first")
            .segment("Members", &self.snapshot);
        (custom.iter()).fold(destination, |d, key| d.custom(key, "tier"))
    }

    /// Writes rows `p{i}@example.com` for `ids`, the first name `first(i)`, the tier `gold`.
    fn write(&self, ids: std::ops::Range<u32>, first: impl Fn(u32) -> String) {
        let mut text = String::from("email,first,tier\n");
        for i in ids {
            text.push_str(&format!("p{i}@example.com,{},gold\n", first(i)));
        }
        std::fs::write(&self.snapshot, text).unwrap();
    }

    async fn export(&self, dest: &str, override_guardrails: bool) -> Result<Report, JobError> {
        let options = Options {
            override_guardrails,
            ..Options::new(dest)
        };
        local_export::run(&self.deps, &options, &|_: Progress| {}).await
    }

    fn members(&self) -> usize {
        let mut n = 0;
        self.sandbox.for_each_member("Members", |_| n += 1);
        n
    }

    /// A person's stored first name.
    fn first_name(&self, email: &str) -> serde_json::Value {
        let state = self.sandbox.state();
        let person = state.contacts.iter().find(|c| c["email"] == email);
        person.map(|p| p["fields"]["str::first"].clone()).unwrap()
    }

    /// Nothing of consent reached the sandbox, nor any empty value.
    fn assert_consent_untouched(&self) {
        let counters = self.sandbox.counters();
        assert_eq!(counters.consent_fields_received, 0);
        assert_eq!(counters.empty_values_received, 0);
        assert!(!counters.by_endpoint.contains_key("/v1/audience/subscribe"));
    }
}

fn name(i: u32) -> String {
    format!("P{i}")
}

/// k changed people and m leavers of one segment cost ⌈k/100⌉ + ⌈m/100⌉ merges when merges may
/// create people (removals never ride with them, so a leaver deleted in Ortto is never made
/// again), and ⌈(k + m)/100⌉ when the destination only updates: 20 for 1,000 and 1,000 either
/// way, where a request per removal would cost 1,010. The plan, the report and the requests sent
/// agree.
async fn refresh_cost(update_only: bool) {
    let o = Ortto::new(|c| c).await;
    if update_only {
        // People who exist already, tagged by someone else.
        let existing = o.sandbox.create_list("Existing");
        for i in 0..2000 {
            (o.sandbox
                .add_member_by_hand(&existing, &format!("p{i}@example.com")))
            .unwrap();
        }
    }
    let destination = o.destination(&[]);
    let destination = if update_only {
        destination.update_only()
    } else {
        destination
    };
    o.write(0..2000, name);
    let dest = destination.create(&o.deps).await.unwrap();
    let first = o.export(&dest, false).await.unwrap();
    assert_eq!(first.totals.sent, 2000);
    o.write(0..1000, |i| format!("New{i}"));
    let merges = o.sandbox.counters().bulk_requests;
    let refresh = o.export(&dest, true).await.unwrap();
    assert_eq!(
        (refresh.totals.updated, refresh.totals.removed),
        (1000, 1000)
    );
    assert_eq!(o.sandbox.counters().bulk_requests - merges, 20);
    let verify = refresh.light_verify.as_ref().map_or(0, |v| v.requests);
    assert_eq!(
        refresh.requests - verify,
        20,
        "the report counts the merges"
    );
    assert_eq!(o.members(), 1000);
    assert_eq!(o.first_name("p5@example.com"), "New5");
    o.assert_consent_untouched();
}

#[tokio::test]
async fn a_refresh_of_1000_changed_and_1000_leavers_costs_20_merges() {
    refresh_cost(false).await;
}

#[tokio::test]
async fn an_update_only_refresh_of_1000_changed_and_1000_leavers_costs_20_merges() {
    refresh_cost(true).await;
}

/// Suppressed addresses are their own bucket; update-only leaves out people Ortto lacks (in the
/// suppressed bucket too, whatever word Ortto answers for them); every row in one bucket.
#[tokio::test]
async fn suppressed_and_not_created_people_are_a_bucket_of_their_own() {
    for word in ["skipped", "ignored"] {
        let o = Ortto::new(|c| c).await;
        let mut settings = o.sandbox.ortto_settings();
        settings.skipped_status = word.into();
        o.sandbox.set_ortto_settings(settings).unwrap();
        o.write(0..50, name);
        o.sandbox.suppress_by_hand("p3@example.com");
        let creating = o.destination(&[]).create(&o.deps).await.unwrap();
        let report = o.export(&creating, false).await.unwrap();
        assert_eq!((report.totals.sent, report.totals.suppressed), (49, 1));
        assert!(report.totals.adds_up());
        let message = report.totals.suppressed_by_message.keys().next().unwrap();
        assert_eq!(message, "Email is suppressed");

        // An update-only destination: only the 49 who exist are written.
        o.write(0..60, name);
        let updating = (o.destination(&[]).named("Updating").update_only())
            .create(&o.deps)
            .await
            .unwrap();
        let report = o.export(&updating, false).await.unwrap();
        assert_eq!(
            (report.totals.sent, report.totals.suppressed),
            (49, 11),
            "{word}"
        );
        assert!(report.totals.adds_up());
        assert!(report
            .totals
            .suppressed_by_message
            .keys()
            .any(|m| m.contains(word)));
        o.assert_consent_untouched();
    }
}

/// An empty cell never reaches Ortto, so a stored value stays whatever Ortto would make of `""`.
#[tokio::test]
async fn an_empty_cell_never_blanks_a_stored_value() {
    for empty in [
        EmptyStrings::Overwrite,
        EmptyStrings::Keep,
        EmptyStrings::Clear,
    ] {
        let o = Ortto::new(|c| c).await;
        let mut settings = o.sandbox.ortto_settings();
        settings.empty_strings = empty;
        o.sandbox.set_ortto_settings(settings).unwrap();
        o.write(0..10, name);
        let dest = o.destination(&[]).create(&o.deps).await.unwrap();
        o.export(&dest, false).await.unwrap();
        o.write(0..10, |i| if i == 4 { String::new() } else { name(i) });
        o.export(&dest, false).await.unwrap();
        assert_eq!(o.first_name("p4@example.com"), "P4", "{empty:?}");
        o.assert_consent_untouched();
    }
}

/// Custom fields are created before anything is sent; at the account's limit the export stops
/// with a message saying what to do, and no person is sent.
#[tokio::test]
async fn custom_fields_are_created_first_and_the_limit_stops_the_export_before_sending() {
    let o = Ortto::new(|c| c).await;
    o.write(0..10, name);
    let dest = (o.destination(&["string--Loyalty--Tier"]).create(&o.deps))
        .await
        .unwrap();
    let report = o.export(&dest, false).await.unwrap();
    assert_eq!(report.totals.sent, 10);
    let state = o.sandbox.state();
    let person = state
        .contacts
        .iter()
        .find(|c| c["email"] == "p1@example.com");
    assert_eq!(person.unwrap()["fields"]["str:cm:loyalty-tier"], "gold");

    let mut settings = o.sandbox.ortto_settings();
    settings.custom_field_limit = 1;
    o.sandbox.set_ortto_settings(settings).unwrap();
    let full = (o.destination(&["string--Loyalty--Tier", "string--Tier--Two"]))
        .named("Full")
        .create(&o.deps)
        .await
        .unwrap();
    let merges = o.sandbox.counters().bulk_requests;
    let err = o.export(&full, false).await.unwrap_err().to_string();
    assert!(
        err.contains("could not create the custom field 'Tier Two'")
            && err.contains("nothing was sent"),
        "{err}"
    );
    assert_eq!(o.sandbox.counters().bulk_requests, merges);
}

/// Merges refused whole (Ortto answering 400 for a batch with some bad people) are isolated
/// without tripping the ban, whichever way a ban would be answered.
#[tokio::test]
async fn refused_merges_never_get_the_client_banned() {
    for (ban_status, retry_after) in [(429, false), (403, true)] {
        let o = Ortto::new(|c| c).await;
        let mut settings = o.sandbox.ortto_settings();
        settings.mixed_batch = MixedBatch::Reject;
        settings.ban_status = ban_status;
        o.sandbox.set_ortto_settings(settings).unwrap();
        o.sandbox.set_retry_after_header(retry_after);
        let mut text = String::from("email,first,tier\n");
        for i in 0..200 {
            let domain = if i % 97 == 5 {
                "example.invalid"
            } else {
                "example.com"
            };
            text.push_str(&format!("p{i}@{domain},P{i},gold\n"));
        }
        std::fs::write(&o.snapshot, text).unwrap();
        let dest = o.destination(&[]).create(&o.deps).await.unwrap();
        let report = o.export(&dest, false).await.unwrap();
        assert_eq!((report.totals.sent, report.totals.rejected), (197, 3));
        let counters = o.sandbox.counters();
        assert!(counters.bad_requests > 0, "{counters:?}");
        assert_eq!((counters.bans, counters.banned), (0, 0), "{counters:?}");
        assert_eq!(o.members(), 197);
        o.assert_consent_untouched();
    }
}

/// An export twice as fast as the account allows is throttled (429 with `try-in-seconds`, with or
/// without `Retry-After`), slows down and writes everything.
#[tokio::test]
async fn throttling_is_waited_out_with_or_without_retry_after() {
    for retry_after in [false, true] {
        let o = Ortto::new(|c| c.rate(5.0)).await;
        o.sandbox.set_retry_after_header(retry_after);
        o.write(0..2000, name);
        let dest = (o.destination(&[]).rate(20.0))
            .create(&o.deps)
            .await
            .unwrap();
        let report = o.export(&dest, false).await.unwrap();
        assert_eq!(report.totals.sent, 2000);
        let counters = o.sandbox.counters();
        assert!(
            counters.throttled > 0,
            "{retry_after} {counters:?} {report:?}"
        );
        assert_eq!(o.members(), 2000);
    }
}
