//! The account and list calls of the API, and the shapes of their answers.

use super::AutopilotClient;
use crate::http_api::{printable, ApiError, Request};
use crate::text::thousands;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The account a key belongs to (`GET /account`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    #[serde(default)]
    pub instance_id: Value,
    #[serde(default)]
    pub organization_name: Option<String>,
}

/// The longest account name kept; Autopilot's are short.
const MAX_ACCOUNT_NAME_CHARS: usize = 120;

impl Account {
    /// The account, its name made printable; refused when it has neither an id nor a name: a
    /// server that answers `{}` (or anything else) to every request is not Autopilot.
    fn checked(mut self) -> Result<Self, ApiError> {
        self.organization_name = self
            .organization_name
            .map(|name| printable(&name, MAX_ACCOUNT_NAME_CHARS))
            .filter(|name| !name.is_empty());
        let has_id = match &self.instance_id {
            Value::Number(_) => true,
            Value::String(id) => !id.trim().is_empty(),
            _ => false,
        };
        if has_id || self.organization_name.is_some() {
            Ok(self)
        } else {
            Err(ApiError::NoAccount {
                api: super::DIALECT.api,
                call: "GET /account",
            })
        }
    }
}

/// How much of one list is read at most: an Autopilot that pages for ever (or a server that is
/// not Autopilot) must not fill memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListLimits {
    pub members: usize,
    pub pages: usize,
}

impl Default for ListLimits {
    /// 5,000,000 members (about 300 MB of emails at most), 1,000,000 pages.
    fn default() -> Self {
        Self {
            members: 5_000_000,
            pages: 1_000_000,
        }
    }
}

/// One list (`GET /lists`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListInfo {
    pub list_id: String,
    pub title: String,
}

/// A page of list members (`GET /list/{id}/contacts`).
#[derive(Debug, Clone, Deserialize)]
pub struct MemberPage {
    #[serde(default)]
    pub contacts: Vec<Value>,
    #[serde(default)]
    pub total_contacts: Option<u64>,
    #[serde(default)]
    pub bookmark: Option<String>,
}

/// A list member as read back by a verification: its email and whether it unsubscribed, nothing
/// else of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberStatus {
    pub email: String,
    pub unsubscribed: bool,
}

/// A page of [`MemberStatus`]es and the bookmark of the next page, if Autopilot gave one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberStatusPage {
    pub members: Vec<MemberStatus>,
    pub bookmark: Option<String>,
}

/// `unsubscribed` as Autopilot may write it: `true`, or the text `"true"`; anything else is false.
fn is_true(value: &Value) -> bool {
    match value {
        Value::Bool(b) => *b,
        Value::String(s) => s.trim().eq_ignore_ascii_case("true"),
        _ => false,
    }
}

impl AutopilotClient {
    /// `GET /account`: the account the key belongs to; a 401 means the key is not valid, an
    /// answer without an account means the URL is not Autopilot's.
    pub async fn account(&self) -> Result<Account, ApiError> {
        let account: Account = self
            .http
            .send(&Request::new(Method::GET, &["account"], "account"))
            .await?;
        account.checked()
    }

    /// `GET /lists`.
    pub async fn lists(&self) -> Result<Vec<ListInfo>, ApiError> {
        #[derive(Deserialize)]
        struct Lists {
            lists: Vec<ListInfo>,
        }
        let lists: Lists = self
            .http
            .send(&Request::new(Method::GET, &["lists"], "list"))
            .await?;
        Ok(lists.lists)
    }

    /// `POST /list`: creates a list and returns its id.
    pub async fn create_list(&self, name: &str) -> Result<String, ApiError> {
        #[derive(Deserialize)]
        struct Created {
            list_id: String,
        }
        let body = serde_json::json!({ "name": name });
        let created: Created = self
            .http
            .send(&Request::new(Method::POST, &["list"], "list").with_body(&body))
            .await?;
        Ok(created.list_id)
    }

    /// `POST /list/{list}/contact/{email}`: adds an existing contact to a list.
    pub async fn add_to_list(&self, list_id: &str, email: &str) -> Result<(), ApiError> {
        let path = ["list", list_id, "contact", email];
        self.http
            .send::<Value>(&Request::new(Method::POST, &path, "contact"))
            .await
            .map(drop)
    }

    /// `DELETE /list/{list}/contact/{email}`: takes a contact off a list (the contact stays).
    pub async fn remove_from_list(&self, list_id: &str, email: &str) -> Result<(), ApiError> {
        let path = ["list", list_id, "contact", email];
        self.http
            .send::<Value>(&Request::new(Method::DELETE, &path, "contact"))
            .await
            .map(drop)
    }

    /// `GET /list/{list}/contact/{email}`: whether the contact is on the list.
    pub async fn is_member(&self, list_id: &str, email: &str) -> Result<bool, ApiError> {
        let path = ["list", list_id, "contact", email];
        match self
            .http
            .send::<Value>(&Request::new(Method::GET, &path, "contact"))
            .await
        {
            Ok(_) => Ok(true),
            Err(ApiError::NotFound { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// `GET /list/{list}/contacts[/{bookmark}]`: one page of members.
    pub async fn list_members_page(
        &self,
        list_id: &str,
        bookmark: Option<&str>,
    ) -> Result<MemberPage, ApiError> {
        let mut path = vec!["list", list_id, "contacts"];
        path.extend(bookmark);
        self.http
            .send(&Request::new(Method::GET, &path, "list"))
            .await
    }

    /// `GET /list/{list}/contacts[/{bookmark}]`: one page of members, each read as its email and
    /// whether it unsubscribed (members without an email are skipped). A 404 is
    /// [`ApiError::NotFound`]: the list does not exist.
    pub async fn list_member_statuses_page(
        &self,
        list_id: &str,
        bookmark: Option<&str>,
    ) -> Result<MemberStatusPage, ApiError> {
        #[derive(Deserialize)]
        struct Page {
            #[serde(default)]
            contacts: Vec<Member>,
            #[serde(default)]
            bookmark: Option<String>,
        }
        #[derive(Deserialize)]
        struct Member {
            #[serde(default, rename = "Email")]
            email: Value,
            #[serde(default)]
            unsubscribed: Value,
        }
        let mut path = vec!["list", list_id, "contacts"];
        path.extend(bookmark);
        let page: Page = self
            .http
            .send(&Request::new(Method::GET, &path, "list"))
            .await?;
        let members = page
            .contacts
            .into_iter()
            .filter_map(|m| match m.email {
                Value::String(email) => Some(MemberStatus {
                    email,
                    unsubscribed: is_true(&m.unsubscribed),
                }),
                _ => None,
            })
            .collect();
        Ok(MemberStatusPage {
            members,
            bookmark: page.bookmark,
        })
    }

    /// The email of every member of a list, following bookmarks, within [`ListLimits`]: nothing
    /// else of a member is kept.
    pub async fn list_member_emails(&self, list_id: &str) -> Result<Vec<String>, ApiError> {
        self.read_member_emails(list_id, ListLimits::default())
            .await
    }

    /// Every member of a list as `{"Email": …}` alone, within [`ListLimits`]. Prefer
    /// [`Self::list_member_emails`]; this stays for the callers that read members as JSON.
    pub async fn list_members(&self, list_id: &str) -> Result<Vec<Value>, ApiError> {
        let emails = self.list_member_emails(list_id).await?;
        Ok(emails
            .into_iter()
            .map(|email| serde_json::json!({ "Email": email }))
            .collect())
    }

    pub(crate) async fn read_member_emails(
        &self,
        list_id: &str,
        limits: ListLimits,
    ) -> Result<Vec<String>, ApiError> {
        let list = printable(list_id, 80);
        let mut emails = Vec::new();
        let mut bookmark: Option<String> = None;
        for _ in 0..limits.pages {
            let page = self
                .list_member_statuses_page(list_id, bookmark.as_deref())
                .await?;
            let empty = page.members.is_empty();
            emails.extend(page.members.into_iter().map(|m| m.email));
            if emails.len() > limits.members {
                return Err(ApiError::AudienceTooLarge {
                    api: super::DIALECT.api,
                    audience: format!("list {list}"),
                    limit: limits.members,
                });
            }
            match page.bookmark {
                Some(next) if !empty && bookmark.as_deref() != Some(next.as_str()) => {
                    bookmark = Some(next)
                }
                _ => return Ok(emails),
            }
        }
        Err(ApiError::invalid_response(
            super::DIALECT.api,
            format!(
                "the Autopilot list {list} went on for more than {} pages: stopped reading it",
                thousands(limits.pages as u64)
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unsubscribed_is_read_as_written_or_as_text_and_false_otherwise() {
        let table = [
            (json!(true), true),
            (json!("true"), true),
            (json!(" TRUE "), true),
            (json!(false), false),
            (json!("false"), false),
            (json!(1), false),
            (Value::Null, false),
        ];
        for (value, expected) in table {
            assert_eq!(is_true(&value), expected, "{value}");
        }
    }
}
