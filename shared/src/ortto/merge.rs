//! `POST /v1/person/merge` and what becomes of each person of it.
//!
//! A merge answered 200 carries one status per person, in order. A merge answered 400 was refused
//! whole: when its `details` hold as many entries as the merge held people, every person was
//! refused and each entry says why; otherwise (Ortto may refuse a batch that mixes valid and
//! refused people, its documentation does not say) the merge is split in halves, each sent on its
//! own, until every refused person stands alone — about 2·log2(100) ≈ 14 requests for one refused
//! person in 100, each 400 waiting its turn under Ortto's ban on bad requests ([`super::DIALECT`]).
//! A body over Ortto's 2 MB is split the same way before it is sent.

use super::OrttoClient;
use crate::http_api::{cleaned_message, ApiError, Request};
use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Value};

/// What Ortto did with one person of a merge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Status {
    /// `created` or `merged`.
    Done,
    /// `suppressed`, with Ortto's words.
    Suppressed(String),
    /// `invalid` (or refused alone without a status), with Ortto's words.
    Invalid(String),
    /// Any other word: neither created nor changed (a person update-only did not create).
    Skipped(String),
}

#[derive(Deserialize)]
struct Entry {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

impl Entry {
    fn status(self) -> Status {
        let word = self.status.unwrap_or_default();
        let words = || cleaned_message(self.error.as_deref().unwrap_or(&word));
        match word.as_str() {
            "created" | "merged" => Status::Done,
            "suppressed" => Status::Suppressed(words()),
            "invalid" => Status::Invalid(words()),
            _ if self.error.is_some() => Status::Invalid(words()),
            other => Status::Skipped(cleaned_message(other)),
        }
    }
}

/// Ortto's body limit for one request.
const MAX_BODY_BYTES: usize = super::LIMITS.max_body_bytes;

impl OrttoClient {
    /// Merges `people` (person objects), never creating one when `skip_non_existing`: one status
    /// per person, in order, the refused ones isolated.
    pub(super) async fn merge(
        &self,
        people: &[Value],
        skip_non_existing: bool,
    ) -> Result<Vec<Status>, ApiError> {
        let mut statuses = vec![None; people.len()];
        let mut pending = vec![(0, people.len())];
        while let Some((start, end)) = pending.pop() {
            let part = &people[start..end];
            let body = json!({
                "people": part,
                "async": false,
                "merge_by": ["str::email"],
                "merge_strategy": 2,
                "find_strategy": 0,
                "skip_non_existing": skip_non_existing,
                "suppression_list_field_id": "str::email",
            });
            let halves = |pending: &mut Vec<(usize, usize)>| {
                let middle = start + part.len() / 2;
                pending.push((middle, end));
                pending.push((start, middle));
            };
            if part.len() > 1 && serde_json::to_vec(&body).map_or(0, |b| b.len()) > MAX_BODY_BYTES {
                self.http.count_split();
                halves(&mut pending);
                continue;
            }
            match self.send_merge(&body, part.len()).await? {
                Ok(done) => {
                    for (slot, status) in statuses[start..end].iter_mut().zip(done) {
                        *slot = Some(status);
                    }
                }
                Err(message) if part.len() == 1 => statuses[start] = Some(Status::Invalid(message)),
                Err(_) => {
                    self.http.count_split();
                    halves(&mut pending);
                }
            }
        }
        Ok(statuses
            .into_iter()
            .map(|s| s.unwrap_or_else(|| Status::Invalid("not sent".into())))
            .collect())
    }

    /// One merge of `len` people: their statuses (also when every one was refused), or Ortto's
    /// words refusing a merge it did not say the fate of each person of.
    async fn send_merge(
        &self,
        body: &Value,
        len: usize,
    ) -> Result<Result<Vec<Status>, String>, ApiError> {
        #[derive(Deserialize)]
        struct Merged {
            people: Vec<Entry>,
        }
        #[derive(Deserialize)]
        struct Refused {
            #[serde(default)]
            details: Vec<Entry>,
        }
        let path = ["v1", "person", "merge"];
        let request = Request::new(Method::POST, &path, "call")
            .with_body(body)
            .batch();
        match self.http.send::<Merged>(&request).await {
            Ok(merged) if merged.people.len() == len => {
                Ok(Ok(merged.people.into_iter().map(Entry::status).collect()))
            }
            Ok(merged) => Err(ApiError::invalid_response(
                self.http.api(),
                format!(
                    "a merge of {len} people was answered with {} statuses",
                    merged.people.len()
                ),
            )),
            Err(ApiError::BatchRefused {
                message, answer, ..
            }) => {
                let refused: Option<Refused> = serde_json::from_slice(&answer.0).ok();
                match refused {
                    Some(refused) if refused.details.len() == len => Ok(Ok(refused
                        .details
                        .into_iter()
                        .map(refused_status)
                        .collect())),
                    _ => Ok(Err(message)),
                }
            }
            Err(e) => Err(e),
        }
    }
}

/// The status of a person of a merge refused whole: never done.
fn refused_status(entry: Entry) -> Status {
    match entry.status() {
        Status::Done | Status::Skipped(_) => Status::Invalid("refused by Ortto".into()),
        refused => refused,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(status: &str, error: Option<&str>) -> Entry {
        Entry {
            status: Some(status.into()),
            error: error.map(str::to_string),
        }
    }

    #[test]
    fn status_words_are_read_and_unknown_ones_are_not_failures() {
        assert_eq!(entry("created", None).status(), Status::Done);
        assert_eq!(entry("merged", None).status(), Status::Done);
        assert_eq!(
            entry("suppressed", Some("Email is suppressed")).status(),
            Status::Suppressed("Email is suppressed".into())
        );
        assert_eq!(
            entry("invalid", Some("bad address ann@example.com")).status(),
            Status::Invalid("bad address ***@example.com".into())
        );
        assert_eq!(
            entry("ignored", None).status(),
            Status::Skipped("ignored".into())
        );
        assert_eq!(
            entry("weird", Some("no")).status(),
            Status::Invalid("no".into())
        );
        assert!(matches!(
            refused_status(entry("merged", None)),
            Status::Invalid(_)
        ));
    }
}
