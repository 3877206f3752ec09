//! The account and list calls of the API, and the shapes of their answers.

use super::answer::printable;
use super::{AutopilotClient, AutopilotError};
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
    fn checked(mut self) -> Result<Self, AutopilotError> {
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
            Err(AutopilotError::NoAccount)
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

impl AutopilotClient {
    /// `GET /account`: the account the key belongs to; a 401 means the key is not valid, an
    /// answer without an account means the URL is not Autopilot's.
    pub async fn account(&self) -> Result<Account, AutopilotError> {
        let account: Account = self
            .call(Method::GET, &["account"], None, "account")
            .await?;
        account.checked()
    }

    /// `GET /lists`.
    pub async fn lists(&self) -> Result<Vec<ListInfo>, AutopilotError> {
        #[derive(Deserialize)]
        struct Lists {
            lists: Vec<ListInfo>,
        }
        let lists: Lists = self.call(Method::GET, &["lists"], None, "list").await?;
        Ok(lists.lists)
    }

    /// `POST /list`: creates a list and returns its id.
    pub async fn create_list(&self, name: &str) -> Result<String, AutopilotError> {
        #[derive(Deserialize)]
        struct Created {
            list_id: String,
        }
        let body = serde_json::json!({ "name": name });
        let created: Created = self
            .call(Method::POST, &["list"], Some(&body), "list")
            .await?;
        Ok(created.list_id)
    }

    /// `POST /list/{list}/contact/{email}`: adds an existing contact to a list.
    pub async fn add_to_list(&self, list_id: &str, email: &str) -> Result<(), AutopilotError> {
        self.call::<Value>(
            Method::POST,
            &["list", list_id, "contact", email],
            None,
            "contact",
        )
        .await
        .map(drop)
    }

    /// `DELETE /list/{list}/contact/{email}`: takes a contact off a list (the contact stays).
    pub async fn remove_from_list(&self, list_id: &str, email: &str) -> Result<(), AutopilotError> {
        self.call::<Value>(
            Method::DELETE,
            &["list", list_id, "contact", email],
            None,
            "contact",
        )
        .await
        .map(drop)
    }

    /// `GET /list/{list}/contact/{email}`: whether the contact is on the list.
    pub async fn is_member(&self, list_id: &str, email: &str) -> Result<bool, AutopilotError> {
        match self
            .call::<Value>(
                Method::GET,
                &["list", list_id, "contact", email],
                None,
                "contact",
            )
            .await
        {
            Ok(_) => Ok(true),
            Err(AutopilotError::NotFound { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// `GET /list/{list}/contacts[/{bookmark}]`: one page of members.
    pub async fn list_members_page(
        &self,
        list_id: &str,
        bookmark: Option<&str>,
    ) -> Result<MemberPage, AutopilotError> {
        let mut path = vec!["list", list_id, "contacts"];
        path.extend(bookmark);
        self.call(Method::GET, &path, None, "list").await
    }

    /// Every member of a list, following bookmarks.
    pub async fn list_members(&self, list_id: &str) -> Result<Vec<Value>, AutopilotError> {
        let mut members = Vec::new();
        let mut bookmark: Option<String> = None;
        loop {
            let page = self.list_members_page(list_id, bookmark.as_deref()).await?;
            let empty = page.contacts.is_empty();
            members.extend(page.contacts);
            match page.bookmark {
                Some(next) if !empty && bookmark.as_deref() != Some(next.as_str()) => {
                    bookmark = Some(next)
                }
                _ => return Ok(members),
            }
        }
    }
}
