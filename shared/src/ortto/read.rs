//! Ortto's reading calls, and custom-field creation: `POST /v1/tags/get` (the account's tags,
//! a bare array), `POST /v1/person/get` (a page of a tag's people, `contacts: null` when empty),
//! `POST /v1/person/custom-field/get` and `/create`.

use super::OrttoClient;
use crate::audience_api::MemberStatus;
use crate::http_api::{printable, ApiError, Request};
use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;

/// People in one page of members: Ortto's most.
pub(super) const PAGE_SIZE: usize = 500;

/// A tag of the account.
#[derive(Debug, Clone, Deserialize)]
pub(super) struct Tag {
    #[serde(default)]
    pub id: Value,
    pub name: String,
    #[serde(default)]
    pub instance_id: Option<String>,
}

impl OrttoClient {
    async fn post<T: serde::de::DeserializeOwned>(
        &self,
        path: &[&str],
        body: &Value,
    ) -> Result<T, ApiError> {
        self.http
            .send(&Request::new(Method::POST, path, "call").with_body(body))
            .await
    }

    /// The account's tags whose name holds `q` (all of them for `""`).
    pub(super) async fn tags(&self, q: &str) -> Result<Vec<Tag>, ApiError> {
        let body = if q.is_empty() {
            json!({})
        } else {
            json!({ "q": q })
        };
        self.post(&["v1", "tags", "get"], &body).await
    }

    /// The tag named `name` exactly, if the account has it.
    pub(super) async fn tag(&self, name: &str) -> Result<Option<Tag>, ApiError> {
        Ok(self.tags(name).await?.into_iter().find(|t| t.name == name))
    }

    /// One page of the people tagged `tag` (its id) after `cursor_id`: each one's address and
    /// whether it unsubscribed (`bol::p` false); the next page's cursor when there is one.
    pub(super) async fn tagged_page(
        &self,
        tag: &str,
        cursor_id: Option<&str>,
    ) -> Result<(Vec<MemberStatus>, Option<String>), ApiError> {
        #[derive(Deserialize)]
        struct Page {
            #[serde(default)]
            contacts: Option<Vec<Person>>,
            #[serde(default)]
            cursor_id: Option<String>,
            #[serde(default)]
            has_more: bool,
        }
        #[derive(Deserialize)]
        struct Person {
            #[serde(default)]
            fields: HashMap<String, Value>,
        }
        let value = tag.parse::<u64>().map_or_else(|_| json!(tag), Value::from);
        let mut body = json!({
            "limit": PAGE_SIZE,
            "fields": ["str::email", "bol::p"],
            "filter": {"$u4s::is": {"field_id": "u4s::t", "value": value}},
        });
        if let Some(cursor) = cursor_id {
            body["cursor_id"] = json!(cursor);
        }
        let page: Page = self.post(&["v1", "person", "get"], &body).await?;
        let members = (page.contacts.unwrap_or_default().into_iter())
            .filter_map(|p| {
                let email = p.fields.get("str::email")?.as_str()?.to_string();
                let unsubscribed = p.fields.get("bol::p") == Some(&Value::Bool(false));
                Some(MemberStatus {
                    email,
                    unsubscribed,
                })
            })
            .collect();
        let next = page.cursor_id.filter(|_| page.has_more);
        Ok((members, next))
    }

    /// The account's custom fields: lower-cased name → (id, type shown).
    pub(super) async fn custom_fields(
        &self,
    ) -> Result<HashMap<String, (String, String)>, ApiError> {
        #[derive(Deserialize)]
        struct Fields {
            #[serde(default)]
            fields: Option<Vec<Item>>,
        }
        #[derive(Deserialize)]
        struct Item {
            field: Field,
        }
        #[derive(Deserialize)]
        struct Field {
            id: String,
            name: String,
            #[serde(default)]
            display_type: String,
        }
        let path = ["v1", "person", "custom-field", "get"];
        let fields: Fields = self.post(&path, &json!({})).await?;
        Ok((fields.fields.unwrap_or_default().into_iter())
            .map(|i| {
                (
                    i.field.name.to_lowercase(),
                    (i.field.id, i.field.display_type),
                )
            })
            .collect())
    }

    /// Creates the custom field `name` of `field_type`: its id. Ortto's refusal (its limit
    /// reached, a name taken) is an error saying what to do.
    pub(super) async fn create_custom_field(
        &self,
        name: &str,
        field_type: &str,
    ) -> Result<String, ApiError> {
        #[derive(Deserialize)]
        struct Created {
            field_id: String,
        }
        let path = ["v1", "person", "custom-field", "create"];
        let body = json!({"type": field_type, "name": name, "track_changes": false});
        match self.post::<Created>(&path, &body).await {
            Ok(created) => Ok(created.field_id),
            Err(ApiError::Rejected { api, status, message }) => Err(ApiError::Rejected {
                api,
                status,
                message: format!(
                    "it could not create the custom field '{}' ({message}). An Ortto account holds 100 to 200 custom person fields depending on its plan: delete fields it no longer uses in Ortto, or map fewer custom fields; nothing was sent",
                    printable(name, 80)
                ),
            }),
            Err(e) => Err(e),
        }
    }
}
