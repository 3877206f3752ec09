//! The account and list calls of the API, and the shapes of their answers.

use super::AutopilotClient;
use crate::audience_api::{MemberPage, MemberStatus};
use crate::http_api::{printable, ApiError, Request};
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
/// The longest account id kept.
const MAX_ACCOUNT_ID_CHARS: usize = 200;

impl Account {
    /// The account, its name made printable; refused when it has neither an id nor a name: a
    /// server that answers `{}` (or anything else) to every request is not Autopilot.
    fn checked(mut self) -> Result<Self, ApiError> {
        self.organization_name = self
            .organization_name
            .map(|name| printable(&name, MAX_ACCOUNT_NAME_CHARS))
            .filter(|name| !name.is_empty());
        if self.id().is_some() || self.organization_name.is_some() {
            Ok(self)
        } else {
            Err(ApiError::NoAccount {
                api: super::DIALECT.api,
                call: "GET /account",
            })
        }
    }

    /// Autopilot's id of the account (`instance_id`, a number or a string), when it has one.
    pub fn id(&self) -> Option<String> {
        match &self.instance_id {
            Value::Number(n) => Some(n.to_string()),
            Value::String(s) if !s.trim().is_empty() => {
                Some(s.trim().chars().take(MAX_ACCOUNT_ID_CHARS).collect())
            }
            _ => None,
        }
    }
}

/// One list (`GET /lists`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListInfo {
    pub list_id: String,
    pub title: String,
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
    /// `GET /account`: the account the key belongs to; a 401 means the key is not valid, a 404
    /// or an answer without an account means the URL is not Autopilot's.
    pub async fn account(&self) -> Result<Account, ApiError> {
        let account: Account = self
            .http
            .send(&Request::new(Method::GET, &["account"], "account"))
            .await
            .map_err(|e| e.of_account_call("GET /account"))?;
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

    /// `GET /list/{list}/contacts[/{bookmark}]`: one page of members, each read as its email and
    /// whether it unsubscribed (members without an email are skipped), and the bookmark of the
    /// next page. A 404 is [`ApiError::NotFound`]: the list does not exist.
    pub async fn list_members_page(
        &self,
        list_id: &str,
        bookmark: Option<&str>,
    ) -> Result<MemberPage, ApiError> {
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
        Ok(MemberPage {
            members,
            cursor: page.bookmark,
        })
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

    #[test]
    fn an_account_id_is_a_number_or_a_text_trimmed() {
        let id = |value: Value| {
            Account {
                instance_id: value,
                organization_name: None,
            }
            .id()
        };
        assert_eq!(id(json!(12345)), Some("12345".into()));
        assert_eq!(id(json!(" abc ")), Some("abc".into()));
        assert_eq!(id(json!("  ")), None);
        assert_eq!(id(Value::Null), None);
        assert_eq!(id(json!("x".repeat(300))).unwrap().len(), 200);
    }
}
