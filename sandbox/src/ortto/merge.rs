//! `POST /v1/person/merge`: 1 to 100 people per request (else 400), merged by address.
//!
//! Request keys: `people`; `merge_by` (absent, or starting with `str::email`: the sandbox merges by
//! address only; 1 to 3 keys; `str::person_id` only alone), `merge_strategy` 1 (fill empty fields
//! only), 2 (the default: sent values replace, `null` clears, absent fields stay) or 3 (existing
//! people untouched), `find_strategy` 0–2 (accepted, the address decides), `skip_non_existing`
//! (never create), `suppression_list_field_id` (absent or `str::email`: an address on the
//! suppression list is not created — an existing person is still merged), `async` (accepted; the
//! work is done at once and answered as if synchronous).
//!
//! Each person ends in one entry of the answer's `people`, in request order: `{"person_id",
//! "status": "created" | "merged"}`, `{"status": "suppressed", "error": "Email is suppressed"}`,
//! `{"status": "invalid", "error": …}`, or the skipped status (`OrttoSettings::skipped_status`)
//! for a person neither created nor changed. When every person is refused (invalid or
//! suppressed) the answer is 400 `{"error": "No valid contacts provided (…)", "details":
//! [entries]}`, as recorded; when only some are, the `mixed_batch` setting decides (200 with the
//! entries, or 400 for all with the refused ones' entries and nothing written).
//!
//! A new person is subscribed (`bol::p` true) unless the merge says otherwise; `tags` are put on
//! the person (a new name makes a new tag), then `unset_tags` taken off (a tag the person lacks
//! is no matter). Under strategy 1 `bol::p` and `bol::sp` of an existing person never change;
//! under strategy 3 neither do its fields nor its tags.

use super::person::PersonInput;
use super::settings::{EmptyStrings, MixedBatch, OrttoSettings};
use super::{error, error_with_details, person_id, read_body, AppState, MAX_PEOPLE};
use crate::gate::BulkApplied;
use crate::store::{Flag, Kind, Store};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// A merge request's settings, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Merge {
    pub strategy: u64,
    pub skip_non_existing: bool,
    pub check_suppression: bool,
}

impl Merge {
    /// The request's settings, or what is wrong with them.
    pub fn parse(request: &Value) -> Result<Merge, String> {
        let flag = |key: &str| match request.get(key) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(on)) => Ok(*on),
            Some(_) => Err(format!("{key} must be true or false")),
        };
        flag("async")?;
        let strategy = match request.get("merge_strategy") {
            None => 2,
            Some(v) => v
                .as_u64()
                .filter(|s| (1..=3).contains(s))
                .ok_or("merge_strategy must be 1, 2 or 3")?,
        };
        if let Some(find) = request.get("find_strategy") {
            find.as_u64()
                .filter(|s| *s <= 2)
                .ok_or("find_strategy must be 0, 1 or 2")?;
        }
        check_merge_by(request.get("merge_by"))?;
        let check_suppression =
            match request.get("suppression_list_field_id") {
                None | Some(Value::Null) => false,
                Some(v) if v.as_str() == Some("str::email") => true,
                Some(_) => return Err(
                    "suppression_list_field_id must be \"str::email\" (the email suppression list)"
                        .into(),
                ),
            };
        Ok(Merge {
            strategy,
            skip_non_existing: flag("skip_non_existing")?,
            check_suppression,
        })
    }
}

fn check_merge_by(merge_by: Option<&Value>) -> Result<(), String> {
    let Some(merge_by) = merge_by else {
        return Ok(());
    };
    let keys: Vec<&str> = merge_by
        .as_array()
        .and_then(|keys| keys.iter().map(Value::as_str).collect())
        .ok_or("merge_by must be an array of field ids")?;
    if keys.is_empty() || keys.len() > 3 {
        return Err("merge_by takes 1 to 3 field ids".into());
    }
    if keys.len() > 1 && keys.contains(&"str::person_id") {
        return Err("str::person_id must be the only field id of merge_by".into());
    }
    if keys[0] != "str::email" {
        return Err(
            "The sandbox merges people by address only: merge_by must start with \"str::email\""
                .into(),
        );
    }
    Ok(())
}

/// What became of one person.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Created(usize),
    Merged(usize),
    /// Neither created nor changed (the person, if found).
    Skipped(Option<usize>),
    Suppressed,
    Invalid(String),
}

impl Outcome {
    fn refused(&self) -> bool {
        matches!(self, Outcome::Suppressed | Outcome::Invalid(_))
    }

    fn error(&self) -> Option<&str> {
        match self {
            Outcome::Suppressed => Some("Email is suppressed"),
            Outcome::Invalid(e) => Some(e),
            _ => None,
        }
    }

    fn entry(&self, skipped_status: &str) -> Value {
        match self {
            Outcome::Created(at) => json!({"person_id": person_id(*at), "status": "created"}),
            Outcome::Merged(at) => json!({"person_id": person_id(*at), "status": "merged"}),
            Outcome::Skipped(Some(at)) => {
                json!({"person_id": person_id(*at), "status": skipped_status})
            }
            Outcome::Skipped(None) => json!({"status": skipped_status}),
            Outcome::Suppressed => json!({"status": "suppressed", "error": "Email is suppressed"}),
            Outcome::Invalid(e) => json!({"status": "invalid", "error": e}),
        }
    }
}

/// A person's fate decided before anything is written: refused, skipped, or to be applied.
fn decide(
    store: &Store,
    merge: Merge,
    person: Result<PersonInput, String>,
) -> Result<PersonInput, Outcome> {
    let input = person.map_err(Outcome::Invalid)?;
    let existing = store.position_of_email(&input.email);
    match existing {
        None if merge.check_suppression && store.ortto.is_suppressed(&input.email) => {
            Err(Outcome::Suppressed)
        }
        None if merge.skip_non_existing => Err(Outcome::Skipped(None)),
        Some(at) if merge.strategy == 3 => Err(Outcome::Skipped(Some(at))),
        _ => Ok(input),
    }
}

pub(super) async fn merge(
    State(shared): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let request = match read_body(body) {
        Ok(request) => request,
        Err(refusal) => return refusal,
    };
    let people = match request.get("people").and_then(Value::as_array) {
        Some(people) if (1..=MAX_PEOPLE).contains(&people.len()) => people,
        Some(people) => {
            let message = format!(
                "people must hold 1 to {MAX_PEOPLE} people, not {}",
                people.len()
            );
            return error(StatusCode::BAD_REQUEST, &message);
        }
        None => return error(StatusCode::BAD_REQUEST, "Expected {\"people\": [...]}"),
    };
    let merge = match Merge::parse(&request) {
        Ok(merge) => merge,
        Err(message) => return error(StatusCode::BAD_REQUEST, &message),
    };
    let settings = shared.control().ortto.clone();
    let mut store = shared.store();
    let mut decided = Vec::with_capacity(people.len());
    for person in people {
        let (consent, empty) = super::person::received(person);
        store.consent_fields_received += consent;
        store.empty_values_received += empty;
        let input = PersonInput::parse(&store.ortto, person);
        decided.push(decide(&store, merge, input));
    }
    let refused: Vec<&Outcome> = decided
        .iter()
        .filter_map(|d| d.as_ref().err())
        .filter(|o| o.refused())
        .collect();
    if !refused.is_empty()
        && (refused.len() == people.len() || settings.mixed_batch == MixedBatch::Reject)
    {
        let first = refused[0].error().unwrap_or_default();
        let message = if refused.len() == people.len() {
            format!("No valid contacts provided ({first})")
        } else {
            format!(
                "{} of {} contacts are not valid ({first})",
                refused.len(),
                people.len()
            )
        };
        let details = refused
            .iter()
            .map(|o| o.entry(&settings.skipped_status))
            .collect();
        return error_with_details(StatusCode::BAD_REQUEST, &message, details);
    }
    let mut written = false;
    let entries: Vec<Value> = decided
        .into_iter()
        .map(|d| {
            let outcome = match d {
                Ok(input) => {
                    written = true;
                    apply(&mut store, merge, &settings, input)
                }
                Err(outcome) => outcome,
            };
            outcome.entry(&settings.skipped_status)
        })
        .collect();
    drop(store);
    shared.control().counters.bulk_requests += 1;
    let mut response = Json(json!({ "people": entries })).into_response();
    if written {
        response.extensions_mut().insert(BulkApplied);
    }
    response
}

/// Writes a person decided to be applied.
fn apply(store: &mut Store, merge: Merge, settings: &OrttoSettings, input: PersonInput) -> Outcome {
    let (at, created) = store.upsert_position(&input.email);
    store.count_write(at);
    let fill_only = merge.strategy == 1 && !created;
    let stored = if fill_only {
        store.fields(at).0
    } else {
        BTreeMap::new()
    };
    let mut updates = BTreeMap::new();
    for (id, value) in input.fields {
        let value = match (value.as_str(), settings.empty_strings) {
            (Some(""), EmptyStrings::Keep) => continue,
            (Some(""), EmptyStrings::Clear) => Value::Null,
            _ => value,
        };
        if !(fill_only && (value.is_null() || stored.contains_key(&id))) {
            updates.insert(id, value);
        }
    }
    if !fill_only {
        for id in input.clear {
            updates.insert(id, Value::Null);
        }
    }
    store.write_fields(
        at,
        [(Kind::Standard, updates), (Kind::Custom, BTreeMap::new())],
    );
    if created || !fill_only {
        let permission = input.permission.or(created.then_some(true));
        if let Some(subscribed) = permission {
            store.set_flag(at, Flag::Unsubscribed, !subscribed);
        }
        if let Some(sms) = input.sms {
            store.set_flag(at, Flag::SmsOptedIn, sms);
        }
    }
    for name in &input.tags {
        let tag = super::tag_for(store, name, false);
        if let Some(list) = store.list_mut(&tag) {
            list.members.insert(at);
        }
    }
    for name in &input.unset_tags {
        if let Some(tag) = store.list_id(name).map(str::to_string) {
            if let Some(list) = store.list_mut(&tag) {
                list.members.remove(&at);
            }
        }
    }
    if created {
        Outcome::Created(at)
    } else {
        Outcome::Merged(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_settings_are_checked() {
        let ok = Merge::parse(&json!({"people": []})).unwrap();
        assert_eq!(
            ok,
            Merge {
                strategy: 2,
                skip_non_existing: false,
                check_suppression: false
            }
        );
        let all = json!({"merge_by": ["str::email", "str::ei"], "merge_strategy": 1,
                         "find_strategy": 2, "skip_non_existing": true, "async": false,
                         "suppression_list_field_id": "str::email"});
        assert_eq!(
            Merge::parse(&all).unwrap(),
            Merge {
                strategy: 1,
                skip_non_existing: true,
                check_suppression: true
            }
        );
        for bad in [
            json!({"merge_strategy": 4}),
            json!({"merge_strategy": "2"}),
            json!({"find_strategy": 3}),
            json!({"merge_by": []}),
            json!({"merge_by": ["str::email", "str::ei", "str::first", "str::last"]}),
            json!({"merge_by": ["str::ei"]}),
            json!({"merge_by": ["str::email", "str::person_id"]}),
            json!({"merge_by": "str::email"}),
            json!({"skip_non_existing": "yes"}),
            json!({"suppression_list_field_id": "phn::phone"}),
        ] {
            assert!(Merge::parse(&bad).is_err(), "{bad}");
        }
    }
}
