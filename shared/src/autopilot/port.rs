//! Autopilot as the audience port: a segment's audience is a list; writing upserts contacts in
//! bulk with `_autopilot_list` (the refused ones isolated, [`super::bulk`]) and removes members
//! one `DELETE` each; a repair adds members one `POST` each, a few at once; members are read a
//! page of 100 at a time, the bookmark being the cursor.

use super::bulk::BulkOutcome;
use super::{contact_json, AutopilotClient};
use crate::audience_api::{
    Account, Added, ApiKind, Audience, AudienceApi, Changes, ContactOutcome, MemberPage,
    RemovalOutcome, Written,
};
use crate::contact::Contact;
use crate::http_api::{AdaptivePacer, ApiError, StatsSnapshot, Trouble};
use std::time::Duration;

/// Members a repair puts back at once (each request still waits for its turn at the rate).
const ADDS_IN_FLIGHT: usize = 8;

#[async_trait::async_trait]
impl AudienceApi for AutopilotClient {
    fn kind(&self) -> ApiKind {
        ApiKind::Autopilot
    }

    async fn account(&self) -> Result<Account, ApiError> {
        let account = AutopilotClient::account(self).await?;
        Ok(Account {
            id: account.id(),
            name: account.organization_name,
        })
    }

    async fn audiences(&self) -> Result<Vec<Audience>, ApiError> {
        Ok(self
            .lists()
            .await?
            .into_iter()
            .map(|l| Audience {
                id: l.list_id,
                name: l.title,
            })
            .collect())
    }

    async fn create_audience(&self, name: &str) -> Result<String, ApiError> {
        self.create_list(name).await
    }

    async fn write(&self, audience: &str, changes: Changes<'_>) -> Result<Written, ApiError> {
        let mut written = Written::default();
        for email in changes.removals {
            written
                .removals
                .push(match self.remove_from_list(audience, email).await {
                    Ok(()) => RemovalOutcome::Removed,
                    Err(ApiError::NotFound { .. }) => RemovalOutcome::NotMember,
                    Err(e) => return Err(e),
                });
        }
        for batch in changes.upserts.chunks(super::LIMITS.batch_size) {
            let outcome = self.upsert_contacts(Some(audience), batch).await?;
            written.contacts.extend(outcomes(batch.len(), outcome));
        }
        Ok(written)
    }

    async fn add_members(&self, audience: &str, emails: &[String]) -> Result<Vec<Added>, ApiError> {
        let mut added = Vec::with_capacity(emails.len());
        for group in emails.chunks(ADDS_IN_FLIGHT) {
            let adding = group.iter().map(|email| self.add_to_list(audience, email));
            for outcome in futures::future::join_all(adding).await {
                added.push(match outcome {
                    Ok(()) => Added::Added,
                    Err(ApiError::NotFound { .. }) => Added::NoSuchContact,
                    Err(e) => return Err(e),
                });
            }
        }
        Ok(added)
    }

    async fn members_page(
        &self,
        audience: &str,
        cursor: Option<&str>,
    ) -> Result<Option<MemberPage>, ApiError> {
        match self.list_members_page(audience, cursor).await {
            Ok(page) => Ok(Some(page)),
            Err(ApiError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn payload(&self, contact: &Contact) -> serde_json::Value {
        contact_json(contact, None)
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

/// One outcome per contact of a batch of `len` from what its isolation found.
fn outcomes(len: usize, outcome: BulkOutcome) -> Vec<ContactOutcome> {
    let mut outcomes = vec![ContactOutcome::Written; len];
    for rejection in outcome.rejected {
        if let Some(slot) = outcomes.get_mut(rejection.index) {
            *slot = ContactOutcome::Refused(rejection.message);
        }
    }
    outcomes
}
