//! Ortto as the audience port: an audience is a tag, named and identified by the segment's name;
//! writing merges people with the tag (and, for leavers, without it); a repair merges the address
//! and the tag alone; members are read a page of 500 at a time, the cursor being the tag's id and
//! Ortto's `cursor_id`.

use super::fields::{person_fields, CustomField};
use super::merge::Status;
use super::{OrttoClient, LIMITS, LIMITS_CREATING, MAX_PEOPLE_PER_MERGE};
use crate::audience_api::{
    Account, Added, ApiKind, Audience, AudienceApi, Changes, ContactOutcome, Limits, MemberPage,
    RemovalOutcome, Written,
};
use crate::contact::Contact;
use crate::destination::DataMatching;
use crate::http_api::{printable, AdaptivePacer, ApiError, StatsSnapshot, Trouble};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::Duration;

/// Ortto's limit on a tag's name.
const MAX_TAG_CHARS: usize = 255;

impl OrttoClient {
    /// The account's custom field ids by lower-cased name, read once.
    async fn known_custom_ids(&self) -> Result<HashMap<String, String>, ApiError> {
        let mut known = self.custom_ids.lock().await;
        if let Some(ids) = known.as_ref() {
            return Ok(ids.clone());
        }
        let ids: HashMap<String, String> = (self.custom_fields().await?.into_iter())
            .map(|(name, (id, _))| (name, id))
            .collect();
        *known = Some(ids.clone());
        Ok(ids)
    }

    /// A person to merge onto `tag` with `contact`'s fields.
    fn upsert_person(&self, contact: &Contact, tag: &str, ids: &HashMap<String, String>) -> Value {
        let fields = person_fields(contact, &|f| Self::custom_id(ids, f));
        json!({"fields": fields, "tags": [tag]})
    }

    /// What a status means for a contact upserted.
    fn contact_outcome(&self, status: Status) -> ContactOutcome {
        match status {
            Status::Done => ContactOutcome::Written,
            Status::Suppressed(words) => ContactOutcome::Suppressed(words),
            Status::Invalid(words) => ContactOutcome::Refused(words),
            Status::Skipped(word) if self.update_only => ContactOutcome::Suppressed(format!(
                "not in Ortto, and the destination only updates people who exist (Ortto answered '{word}')"
            )),
            Status::Skipped(word) => ContactOutcome::Refused(format!(
                "Ortto neither created nor updated the person (it answered '{word}')"
            )),
        }
    }
}

/// A person whose tag `key` (`tags` or `unset_tags`) is `tag`, the address alone.
fn tag_person(email: &str, key: &str, tag: &str) -> Value {
    json!({"fields": {"str::email": email}, key: [tag]})
}

fn check_tag(tag: &str) -> Result<(), ApiError> {
    let chars = tag.chars().count();
    if chars == 0 || chars > MAX_TAG_CHARS {
        return Err(ApiError::Unsuitable {
            api: super::DIALECT.api,
            text: format!(
                "a tag's name has 1 to {MAX_TAG_CHARS} characters; the segment '{}' has {chars}: rename it",
                printable(tag, 60)
            ),
        });
    }
    Ok(())
}

#[async_trait::async_trait]
impl AudienceApi for OrttoClient {
    fn kind(&self) -> ApiKind {
        ApiKind::Ortto
    }

    /// Removals share requests with upserts only when merges never create people: a removal is
    /// a merge too, and one sent beside upserts would make again a person deleted in Ortto.
    fn limits(&self) -> Limits {
        if self.update_only {
            LIMITS
        } else {
            LIMITS_CREATING
        }
    }

    async fn account(&self) -> Result<Account, ApiError> {
        let tags = (self.tags("").await).map_err(|e| e.of_account_call("POST /v1/tags/get"))?;
        let id = (tags.into_iter())
            .filter_map(|t| t.instance_id)
            .map(|id| printable(&id, 200))
            .find(|id| !id.is_empty());
        Ok(Account { id, name: None })
    }

    async fn audiences(&self) -> Result<Vec<Audience>, ApiError> {
        Ok((self.tags("").await?.into_iter())
            .map(|t| Audience {
                id: t.name.clone(),
                name: t.name,
            })
            .collect())
    }

    async fn create_audience(&self, name: &str) -> Result<String, ApiError> {
        check_tag(name)?;
        Ok(name.to_string())
    }

    async fn prepare(&self, matching: &DataMatching) -> Result<(), ApiError> {
        let wanted: Vec<CustomField> = (matching.custom.keys())
            .filter_map(|key| CustomField::of_key(key))
            .collect();
        if wanted.is_empty() {
            return Ok(());
        }
        let mut fields = self.custom_fields().await?;
        for field in wanted {
            let key = field.name.to_lowercase();
            match fields.get(&key) {
                Some((id, shown)) if !id.starts_with(&format!("{}:", field.prefix)) => {
                    return Err(ApiError::Unsuitable {
                        api: super::DIALECT.api,
                        text: format!(
                            "its custom field '{}' holds {} values, not {}: map the column to a custom field of another name, or of the type Ortto's has",
                            printable(&field.name, 80),
                            printable(shown, 30),
                            field.field_type
                        ),
                    })
                }
                Some(_) => {}
                None => {
                    let id = self.create_custom_field(&field.name, field.field_type).await?;
                    fields.insert(key, (id, field.field_type.to_string()));
                }
            }
        }
        let ids = fields
            .into_iter()
            .map(|(name, (id, _))| (name, id))
            .collect();
        *self.custom_ids.lock().await = Some(ids);
        Ok(())
    }

    async fn write(&self, tag: &str, changes: Changes<'_>) -> Result<Written, ApiError> {
        check_tag(tag)?;
        let ids = if changes.upserts.iter().any(|c| !c.custom().is_empty()) {
            self.known_custom_ids().await?
        } else {
            HashMap::new()
        };
        let leaving = (changes.removals.iter()).map(|e| tag_person(e, "unset_tags", tag));
        let joining = (changes.upserts.iter()).map(|c| self.upsert_person(c, tag, &ids));
        let removals = changes.removals.len();
        let statuses = if self.update_only {
            let people: Vec<Value> = leaving.chain(joining).collect();
            let mut statuses = Vec::with_capacity(people.len());
            for batch in people.chunks(MAX_PEOPLE_PER_MERGE) {
                statuses.extend(self.merge(batch, true).await?);
            }
            statuses
        } else {
            let leaving: Vec<Value> = leaving.collect();
            let joining: Vec<Value> = joining.collect();
            let mut statuses = Vec::with_capacity(removals + joining.len());
            for batch in leaving.chunks(MAX_PEOPLE_PER_MERGE) {
                statuses.extend(self.merge(batch, true).await?);
            }
            for batch in joining.chunks(MAX_PEOPLE_PER_MERGE) {
                statuses.extend(self.merge(batch, false).await?);
            }
            statuses
        };
        let mut statuses = statuses.into_iter();
        let removals = (statuses.by_ref().take(removals))
            .map(|s| match s {
                Status::Done => RemovalOutcome::Removed,
                _ => RemovalOutcome::NotMember,
            })
            .collect();
        let contacts = statuses.map(|s| self.contact_outcome(s)).collect();
        Ok(Written { contacts, removals })
    }

    async fn add_members(&self, tag: &str, emails: &[String]) -> Result<Vec<Added>, ApiError> {
        check_tag(tag)?;
        let people: Vec<Value> = emails.iter().map(|e| tag_person(e, "tags", tag)).collect();
        let mut added = Vec::with_capacity(people.len());
        for batch in people.chunks(MAX_PEOPLE_PER_MERGE) {
            added.extend(self.merge(batch, true).await?.into_iter().map(|s| match s {
                Status::Done => Added::Added,
                _ => Added::NoSuchContact,
            }));
        }
        Ok(added)
    }

    async fn members_page(
        &self,
        tag: &str,
        cursor: Option<&str>,
    ) -> Result<Option<MemberPage>, ApiError> {
        let (tag_id, after) = match cursor.and_then(|c| c.split_once('/')) {
            Some((id, after)) => (id.to_string(), Some(after)),
            None => match self.tag(tag).await? {
                Some(found) => (tag_id(&found.id), None),
                None => return Ok(None),
            },
        };
        // Ortto's pages hold at most the 500 asked for; a longer one (bounded by the client's
        // cap on an answer's size) is read whole rather than trusted to be short.
        let (members, next) = self.tagged_page(&tag_id, after).await?;
        Ok(Some(MemberPage {
            members,
            cursor: next.map(|next| format!("{tag_id}/{next}")),
        }))
    }

    fn payload(&self, contact: &Contact) -> Value {
        let fields = person_fields(contact, &|f| f.likely_id());
        json!({ "fields": fields })
    }

    fn stats(&self) -> StatsSnapshot {
        self.http.stats()
    }

    fn pacer(&self) -> &AdaptivePacer {
        self.http.pacer()
    }

    fn trouble(&self) -> Option<Trouble> {
        self.http.trouble()
    }

    fn retry_budget(&self) -> Duration {
        self.http.retry_budget()
    }
}

/// A tag's id as text, whether Ortto gives a number or a text.
fn tag_id(id: &Value) -> String {
    match id {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
