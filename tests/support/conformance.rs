//! The conformance suite of the audience port: what every implementation of
//! [`AudienceApi`] must do, checked against its own sandbox. Each case is a function taking a
//! [`Harness`] (which starts that sandbox); [`crate::conformance_suite!`] makes one test of each
//! case for an implementation, so a second API runs the whole suite with one line:
//! `conformance_suite!(ortto, OrttoHarness);` beside `conformance_suite!(autopilot, ...)` in
//! `tests/conformance.rs`.
//!
//! The cases: the key's account (and a refused key), upserts into an audience ensured by name,
//! the isolation of refused contacts when the API's answer names them and when it does not,
//! removals that take off only what they name and never a member added by someone else, member
//! paging with subscription state, a repair of members taken off by hand, an audience deleted
//! under us, throttling answered with `Retry-After`, and an outage shorter than the retry budget.

use shared::audience_api::paging::{member_emails, MemberLimits, Reading};
use shared::audience_api::{Added, AudienceApi, ContactOutcome, RemovalOutcome};
use shared::contact::Contact;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

/// How a case wants its sandbox started.
#[derive(Debug, Clone, Copy, Default)]
pub struct Settings {
    /// The requests per second the sandbox allows each key (`None`: no limit).
    pub rate: Option<f64>,
}

/// Starts an implementation's sandbox for one case.
#[async_trait::async_trait]
pub trait Harness: Send + Sync {
    async fn start(&self, settings: Settings) -> Box<dyn TestServer>;
}

/// One running sandbox, and what a person does by hand in the tool it stands in for.
pub trait TestServer: Send + Sync {
    /// A client of the implementation under test for this sandbox at `rate` requests/second,
    /// with `key` (the sandbox's own when `None`), short timeouts and quick retries.
    fn client(&self, rate: f64, key: Option<&str>) -> Arc<dyn AudienceApi>;
    /// An address the sandbox accepts as an address but refuses as a contact, as the real API
    /// may refuse an address for reasons a client cannot check.
    fn refused_address(&self, n: usize) -> String {
        format!("refused-{n}@example.invalid")
    }
    /// Whether the sandbox's refusals name the contact they refuse.
    fn name_refusals(&self, named: bool);
    /// The members of the audience `audience` (its id), lower-cased.
    fn members(&self, audience: &str) -> BTreeSet<String>;
    /// Puts `email` on `audience` by hand (creating the contact): a member this connector did
    /// not add.
    fn add_by_hand(&self, audience: &str, email: &str);
    /// Takes `email` off `audience` by hand.
    fn remove_by_hand(&self, audience: &str, email: &str);
    /// `email` unsubscribes, as by an unsubscribe link.
    fn unsubscribe_by_hand(&self, email: &str);
    /// Deletes `audience` by hand (its contacts stay).
    fn delete_audience_by_hand(&self, audience: &str);
    /// Requests the sandbox received, and of those, the ones it answered 429.
    fn requests(&self) -> u64;
    fn throttled(&self) -> u64;
    /// Contacts written by upserts (twice when written twice).
    fn written(&self) -> u64;
    /// Every request is answered 503 from now for `ms` milliseconds.
    fn outage(&self, ms: u64);
}

/// `n` contacts `prefix-i@example.com` with a first name.
fn people(prefix: &str, n: usize) -> Vec<Contact> {
    (0..n)
        .map(|i| {
            Contact::new(&format!("{prefix}-{i}@example.com"))
                .and_then(|c| c.with_field("FirstName", &format!("Name{i}")))
                .unwrap()
        })
        .collect()
}

fn addresses(contacts: &[Contact]) -> BTreeSet<String> {
    contacts.iter().map(|c| c.email().to_lowercase()).collect()
}

/// Upserts `contacts` into `audience` in requests of the API's batch size; every outcome.
async fn upsert_all(
    api: &dyn AudienceApi,
    audience: &str,
    contacts: &[Contact],
) -> Vec<ContactOutcome> {
    let mut outcomes = Vec::new();
    for batch in contacts.chunks(api.limits().batch_size) {
        outcomes.extend(
            api.upsert(audience, batch)
                .await
                .expect("a batch is written"),
        );
    }
    outcomes
}

/// A key's account has an id or a name; a refused key is `Unauthorized` after one request, and
/// its message does not hold it.
pub async fn account(harness: &dyn Harness) {
    let server = harness.start(Settings::default()).await;
    let account = server.client(1000.0, None).account().await.unwrap();
    assert!(
        account.id.is_some() || account.name.is_some(),
        "{account:?}"
    );
    let before = server.requests();
    let wrong = "wrong-key-0123456789";
    let err = server
        .client(1000.0, Some(wrong))
        .account()
        .await
        .err()
        .unwrap();
    assert_eq!(err.type_name(), "Unauthorized", "{err}");
    assert!(!err.to_string().contains(wrong), "{err}");
    assert_eq!(server.requests() - before, 1, "not retried");
}

/// An audience is ensured by name (created once, found after); contacts upserted into it are all
/// written and all its members, in as many requests as the API's cost model says.
pub async fn upsert(harness: &dyn Harness) {
    let server = harness.start(Settings::default()).await;
    let api = server.client(1000.0, None);
    let (vip, created) = api.ensure_audience("VIP Customers").await.unwrap();
    assert!(created);
    assert_eq!(
        api.ensure_audience("VIP Customers").await.unwrap(),
        (vip.clone(), false)
    );
    assert!(api
        .audiences()
        .await
        .unwrap()
        .iter()
        .any(|a| a.id == vip && a.name == "VIP Customers"));
    let contacts = people("upsert", 250);
    let before = api.stats().requests;
    let outcomes = upsert_all(api.as_ref(), &vip, &contacts).await;
    assert!(
        outcomes.iter().all(|o| *o == ContactOutcome::Written),
        "{outcomes:?}"
    );
    assert_eq!(outcomes.len(), 250);
    assert_eq!(api.stats().requests - before, api.limits().requests(0, 250));
    assert_eq!(server.members(&vip), addresses(&contacts));
    assert_eq!(server.written(), 250);
    // Written again: upserts by email, nothing doubles.
    upsert_all(api.as_ref(), &vip, &contacts).await;
    assert_eq!(server.members(&vip).len(), 250);
}

/// Refused contacts come back refused, each with the API's message (no address in it); every
/// other contact of the batch is written — whether or not the answer names them.
async fn refusals(harness: &dyn Harness, named: bool) {
    let server = harness.start(Settings::default()).await;
    server.name_refusals(named);
    let api = server.client(10_000.0, None);
    let (audience, _) = api.ensure_audience("Refusals").await.unwrap();
    let size = api.limits().batch_size.min(100);
    let mut batch = people("isolate", size);
    let refused = [0, size / 3, size / 3 + 1, size - 1];
    for &i in &refused {
        batch[i] = Contact::new(&server.refused_address(i)).unwrap();
    }
    let outcomes = api.upsert(&audience, &batch).await.unwrap();
    assert_eq!(outcomes.len(), size);
    for (i, outcome) in outcomes.iter().enumerate() {
        match outcome {
            ContactOutcome::Refused(message) => {
                assert!(refused.contains(&i), "{i} refused: {message}");
                assert!(
                    !message.is_empty() && !message.contains("refused-"),
                    "{message}"
                );
            }
            other => assert!(!refused.contains(&i), "{i}: {other:?}"),
        }
    }
    let written: BTreeSet<String> = (batch.iter().enumerate())
        .filter(|(i, _)| !refused.contains(i))
        .map(|(_, c)| c.email().to_lowercase())
        .collect();
    assert_eq!(server.members(&audience), written);
    assert_eq!(server.written(), (size - refused.len()) as u64);
}

pub async fn refusals_named(harness: &dyn Harness) {
    refusals(harness, true).await
}

pub async fn refusals_anonymous(harness: &dyn Harness) {
    refusals(harness, false).await
}

/// A removal takes off exactly the members it names: removing one already gone is harmless (the
/// API may or may not tell it was), a member someone else added stays, and so does every contact.
pub async fn removals(harness: &dyn Harness) {
    let server = harness.start(Settings::default()).await;
    let api = server.client(1000.0, None);
    let (audience, _) = api.ensure_audience("Leavers").await.unwrap();
    let ours = people("ours", 5);
    upsert_all(api.as_ref(), &audience, &ours).await;
    server.add_by_hand(&audience, "someone-else@example.com");
    let leaving: Vec<String> = ours[..2].iter().map(|c| c.email().to_string()).collect();
    let outcomes = api.remove_members(&audience, &leaving).await.unwrap();
    assert_eq!(outcomes, [RemovalOutcome::Removed, RemovalOutcome::Removed]);
    let again = api
        .remove_members(
            &audience,
            &[leaving[0].clone(), "nobody@example.com".into()],
        )
        .await
        .unwrap();
    assert_eq!(again.len(), 2);
    assert!(again
        .iter()
        .all(|r| matches!(r, RemovalOutcome::Removed | RemovalOutcome::NotMember)));
    let mut left = addresses(&ours[2..]);
    left.insert("someone-else@example.com".into());
    assert_eq!(server.members(&audience), left);
    // Put back by a repair: membership alone, for contacts that exist.
    let added = api
        .add_members(
            &audience,
            &[leaving[0].clone(), "nobody@example.com".into()],
        )
        .await
        .unwrap();
    assert_eq!(added, [Added::Added, Added::NoSuchContact]);
    assert!(server
        .members(&audience)
        .contains(&leaving[0].to_lowercase()));
}

/// Members are read page by page to the last, each with whether it unsubscribed.
pub async fn member_paging(harness: &dyn Harness) {
    let server = harness.start(Settings::default()).await;
    let api = server.client(1000.0, None);
    let (audience, _) = api.ensure_audience("Paged").await.unwrap();
    let contacts = people("paged", 230);
    upsert_all(api.as_ref(), &audience, &contacts).await;
    server.unsubscribe_by_hand("paged-7@example.com");
    let mut reading = Reading::default();
    let mut read = Vec::new();
    while !reading.done {
        let page = (reading
            .next_page(api.as_ref(), &audience, MemberLimits::default())
            .await)
            .unwrap();
        read.extend(page);
    }
    assert!(reading.pages >= 2, "{reading:?}");
    let emails: BTreeSet<String> = read.iter().map(|m| m.email.to_lowercase()).collect();
    assert_eq!(emails, addresses(&contacts));
    let unsubscribed: Vec<&str> = (read.iter())
        .filter(|m| m.unsubscribed)
        .map(|m| m.email.as_str())
        .collect();
    assert_eq!(unsubscribed, ["paged-7@example.com"]);
}

/// An audience deleted by hand reads as gone (not as empty, not as an error) and is no longer
/// among the audiences; ensured again, it is a new one.
pub async fn audience_deleted(harness: &dyn Harness) {
    let server = harness.start(Settings::default()).await;
    let api = server.client(1000.0, None);
    let (audience, _) = api.ensure_audience("Short-lived").await.unwrap();
    upsert_all(api.as_ref(), &audience, &people("gone", 3)).await;
    server.delete_audience_by_hand(&audience);
    assert_eq!(api.members_page(&audience, None).await.unwrap(), None);
    let mut reading = Reading::default();
    let read = (reading
        .next_page(api.as_ref(), &audience, MemberLimits::default())
        .await)
        .unwrap();
    assert!(
        read.is_empty() && reading.gone && reading.done,
        "{reading:?}"
    );
    let emails = member_emails(api.as_ref(), &audience, MemberLimits::default())
        .await
        .unwrap();
    assert!(emails.is_empty());
    assert!(!api
        .audiences()
        .await
        .unwrap()
        .iter()
        .any(|a| a.id == audience));
    let (again, created) = api.ensure_audience("Short-lived").await.unwrap();
    assert!(created && again != audience);
}

/// Throttled by the sandbox (429 with `Retry-After`), a client twice as fast as allowed slows
/// down and still writes everything.
pub async fn throttling(harness: &dyn Harness) {
    let server = harness.start(Settings { rate: Some(4.0) }).await;
    let api = server.client(8.0, None);
    let (audience, _) = api.ensure_audience("Throttled").await.unwrap();
    let contacts = people("throttled", api.limits().batch_size * 12);
    let outcomes = upsert_all(api.as_ref(), &audience, &contacts).await;
    assert!(outcomes.iter().all(|o| *o == ContactOutcome::Written));
    assert!(server.throttled() > 0, "the sandbox throttled");
    assert_eq!(api.stats().throttled, server.throttled());
    assert_eq!(server.members(&audience), addresses(&contacts));
}

/// An outage shorter than the retry budget is waited out: requests are retried, nothing lost.
pub async fn outage(harness: &dyn Harness) {
    let server = harness.start(Settings::default()).await;
    let api = server.client(1000.0, None);
    let (audience, _) = api.ensure_audience("Outage").await.unwrap();
    let contacts = people("outage", api.limits().batch_size * 3);
    server.outage(600);
    let outcomes = upsert_all(api.as_ref(), &audience, &contacts).await;
    assert!(outcomes.iter().all(|o| *o == ContactOutcome::Written));
    assert!(api.stats().retries > 0, "{:?}", api.stats());
    assert_eq!(server.members(&audience), addresses(&contacts));
    assert!(api.trouble().is_none(), "answering again");
    assert!(api.retry_budget() > Duration::from_millis(600));
}

/// One test per case of the suite for the implementation whose [`Harness`] `$harness` is.
#[macro_export]
macro_rules! conformance_suite {
    ($name:ident, $harness:expr) => {
        $crate::conformance_suite!(@cases $name, $harness,
            account upsert refusals_named refusals_anonymous removals member_paging
            audience_deleted throttling outage);
    };
    (@cases $name:ident, $harness:expr, $($case:ident)*) => {
        mod $name {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    $crate::conformance::$case(&$harness).await
                }
            )*
        }
    };
}
