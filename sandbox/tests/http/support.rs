//! A sandbox in Ortto mode and a client for it.

use reqwest::{Method, StatusCode};
use sandbox::{Sandbox, SandboxConfig};
use serde_json::{json, Value};

pub const KEY: &str = "ortto-key";

/// A running Ortto sandbox and an HTTP client for it.
pub struct Ortto {
    pub sandbox: Sandbox,
    client: reqwest::Client,
}

/// An answer: its status, its `Retry-After` header if any, its JSON body (`null` if none).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub retry_after: Option<String>,
    pub body: Value,
}

impl Ortto {
    /// An Ortto sandbox accepting [`KEY`], configured by `config`.
    pub async fn start(config: impl FnOnce(SandboxConfig) -> SandboxConfig) -> Ortto {
        let sandbox = Sandbox::start(config(SandboxConfig::ortto(KEY)), 0)
            .await
            .expect("the sandbox starts on a free port");
        Ortto {
            sandbox,
            client: reqwest::Client::new(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sandbox.base_url())
    }

    /// A request with `key` (none if `None`) and a JSON body.
    pub async fn send(&self, method: Method, path: &str, key: Option<&str>, body: Value) -> Answer {
        let mut request = self.client.request(method, self.url(path)).json(&body);
        if let Some(key) = key {
            request = request.header("X-Api-Key", key);
        }
        let response = request.send().await.expect("the sandbox answers");
        Answer::of(response).await
    }

    /// `POST path` with the key.
    pub async fn call(&self, path: &str, body: Value) -> Answer {
        self.send(Method::POST, path, Some(KEY), body).await
    }

    /// `POST /v1/person/merge` of `people`, with `options` besides.
    pub async fn merge(&self, people: Value, options: Value) -> Answer {
        let mut body = json!({"people": people, "merge_by": ["str::email"]});
        if let (Some(body), Some(options)) = (body.as_object_mut(), options.as_object()) {
            body.extend(options.clone());
        }
        self.call("/v1/person/merge", body).await
    }

    /// An `/admin` route, with the admin token.
    pub async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        let mut request = self
            .client
            .request(method, self.url(&format!("/admin{path}")))
            .bearer_auth(self.sandbox.admin_token());
        if let Some(body) = body {
            request = request.json(&body);
        }
        Answer::of(request.send().await.expect("the sandbox answers")).await
    }

    /// The status of an `/admin` route without a body: what a person does by hand.
    pub async fn by_hand(&self, method: Method, path: &str) -> StatusCode {
        self.admin(method, path, None).await.status
    }

    /// Changes settings through `PUT /admin/settings`.
    pub async fn settings(&self, changes: Value) {
        let answer = self.admin(Method::PUT, "/settings", Some(changes)).await;
        assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    }

    /// The people of `/admin/state`, by address.
    pub async fn person(&self, email: &str) -> Option<Value> {
        let state = self.admin(Method::GET, "/state", None).await.body;
        state["contacts"]
            .as_array()?
            .iter()
            .find(|p| p["email"] == email)
            .cloned()
    }
}

impl Answer {
    async fn of(response: reqwest::Response) -> Answer {
        let status = response.status();
        let retry_after = response
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap_or_default().to_string());
        let text = response.text().await.expect("a body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer {
            status,
            retry_after,
            body,
        }
    }

    /// The statuses of a merge's `people`.
    pub fn statuses(&self) -> Vec<String> {
        self.body["people"]
            .as_array()
            .map(|people| {
                people
                    .iter()
                    .map(|p| p["status"].as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// A person of a merge with `str::email` and `fields` besides.
pub fn person(email: &str, fields: Value) -> Value {
    let mut all = json!({"str::email": email});
    if let (Some(all), Some(fields)) = (all.as_object_mut(), fields.as_object()) {
        all.extend(fields.clone());
    }
    json!({ "fields": all })
}
