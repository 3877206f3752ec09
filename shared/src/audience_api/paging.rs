//! The one loop that reads an audience's members page by page: the members that were on it
//! before this connector (the plan), the light verify's sample, and verify's full read, which
//! stops after a budget and goes on later from the cursor it kept. Reading stops at the end of
//! the audience (an empty page, no cursor, or the cursor it was given again), when the audience
//! does not exist, or past the [`MemberLimits`] (too many members, too many pages): an API that
//! pages for ever, or a server that is not the API, must not fill memory.

use super::{AudienceApi, MemberStatus};
use crate::http_api::ApiError;
use crate::text::thousands;
use crate::JobError;
use serde::{Deserialize, Serialize};

/// How much of one audience is read at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemberLimits {
    pub members: usize,
    pub pages: usize,
}

impl Default for MemberLimits {
    /// 5,000,000 members (about 300 MB of emails at most), 1,000,000 pages.
    fn default() -> Self {
        Self {
            members: 5_000_000,
            pages: 1_000_000,
        }
    }
}

/// How far one audience has been read. Kept in a verification's record between its steps.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reading {
    /// Where the next page starts (`None`: at the first page, or the audience is read).
    #[serde(default, alias = "bookmark")]
    pub cursor: Option<String>,
    /// Pages and members read so far.
    pub pages: u64,
    pub members: u64,
    /// The audience is read to its end (or is gone).
    pub done: bool,
    /// The audience does not exist.
    pub gone: bool,
}

impl Reading {
    /// Reads the next page of `audience` (nothing once done): its members. At the end, `done`;
    /// an audience that does not exist is `gone` (and done); past `limits`, an error that names
    /// the audience, never a member.
    pub async fn next_page(
        &mut self,
        api: &dyn AudienceApi,
        audience: &str,
        limits: MemberLimits,
    ) -> Result<Vec<MemberStatus>, JobError> {
        if self.done {
            return Ok(Vec::new());
        }
        let words = api.vocabulary();
        let named = || {
            format!(
                "{} {}",
                words.audience,
                crate::http_api::printable(audience, 80)
            )
        };
        if self.pages >= limits.pages as u64 {
            return Err(ApiError::invalid_response(
                words.api,
                format!(
                    "the {} {} went on for more than {} pages: stopped reading it",
                    words.api,
                    named(),
                    thousands(limits.pages as u64)
                ),
            )
            .into());
        }
        let Some(page) = api.members_page(audience, self.cursor.as_deref()).await? else {
            (self.gone, self.done, self.cursor) = (true, true, None);
            return Ok(Vec::new());
        };
        self.pages += 1;
        self.members += page.members.len() as u64;
        if self.members > limits.members as u64 {
            return Err(ApiError::AudienceTooLarge {
                api: words.api,
                audience: named(),
                limit: limits.members,
            }
            .into());
        }
        match page.cursor {
            Some(next) if !page.members.is_empty() && self.cursor.as_deref() != Some(&next) => {
                self.cursor = Some(next)
            }
            _ => (self.done, self.cursor) = (true, None),
        }
        Ok(page.members)
    }
}

/// The email of every member of `audience`, within `limits`: nothing else of a member is kept.
/// An audience that does not exist has none.
pub async fn member_emails(
    api: &dyn AudienceApi,
    audience: &str,
    limits: MemberLimits,
) -> Result<Vec<String>, JobError> {
    let mut reading = Reading::default();
    let mut emails = Vec::new();
    while !reading.done {
        let page = reading.next_page(api, audience, limits).await?;
        emails.extend(page.into_iter().map(|m| m.email));
    }
    Ok(emails)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audience_api::ApiKind;
    use crate::http_api::hostile::{config, http, server};
    use secrecy::SecretString;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    /// A server whose list pages hold `per_page` members each and go on for `pages` pages (with a
    /// bookmark on all but the last), or for ever.
    async fn paging_server(
        per_page: usize,
        pages: Option<usize>,
    ) -> (Arc<dyn AudienceApi>, Arc<AtomicUsize>) {
        let served = Arc::new(AtomicUsize::new(0));
        let (port, asked, _) = server(move || {
            let page = served.fetch_add(1, Ordering::SeqCst);
            let contacts: Vec<String> = (0..per_page)
                .map(|i| format!(r#"{{"Email":"p{page}-{i}@example.com","FirstName":"Ann","custom":{{"string--Note":"{}"}}}}"#, "x".repeat(200)))
                .collect();
            let bookmark = match pages {
                Some(last) if page + 1 >= last => String::new(),
                _ => format!(r#","bookmark":"b{page}""#),
            };
            let body = format!(r#"{{"contacts":[{}],"total_contacts":99{bookmark}}}"#, contacts.join(","));
            http("200 OK", "", &body)
        })
        .await;
        let key = SecretString::from("k".to_string());
        let api = ApiKind::Autopilot.client(config(port), key, None).unwrap();
        (api, asked)
    }

    #[tokio::test]
    async fn members_are_read_as_emails_only_to_the_last_page() {
        let (api, asked) = paging_server(2, Some(3)).await;
        let emails = member_emails(api.as_ref(), "l1", MemberLimits::default())
            .await
            .unwrap();
        assert_eq!(emails.len(), 6);
        assert_eq!(emails[0], "p0-0@example.com");
        assert_eq!(emails[5], "p2-1@example.com");
        assert_eq!(asked.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_list_that_never_ends_is_refused_at_the_limits() {
        let limits = |members, pages| MemberLimits { members, pages };
        // Too many members: stopped at the limit, never more than one page past it.
        let (api, asked) = paging_server(10, None).await;
        let err = member_emails(api.as_ref(), "l1", limits(25, 1000))
            .await
            .unwrap_err();
        assert_eq!(err.type_name(), "LimitExceeded", "{err}");
        assert_eq!(
            err.to_string(),
            "the Autopilot list l1 has more than 25 members, more than an export reads: stopped reading it"
        );
        assert_eq!(asked.load(Ordering::SeqCst), 3);
        // Pages that never end: stopped at the page limit.
        let (api, asked) = paging_server(1, None).await;
        let err = member_emails(api.as_ref(), "l1", limits(1000, 10))
            .await
            .unwrap_err();
        assert_eq!(err.type_name(), "InvalidResponse", "{err}");
        assert!(
            err.to_string().contains("went on for more than 10 pages"),
            "{err}"
        );
        assert_eq!(asked.load(Ordering::SeqCst), 10);
        // The defaults.
        let defaults = MemberLimits::default();
        assert_eq!((defaults.members, defaults.pages), (5_000_000, 1_000_000));
    }
}
