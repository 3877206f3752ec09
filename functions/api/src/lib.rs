//! The HTTP API of autopilot-export (API Gateway HTTP API, IAM-authorised), as the README's
//! "The HTTP API" section lays it out. Routing and answers live here, apart from the Lambda
//! adapter in `main.rs`, so they are tested as plain functions (`tests/routes.rs` on local
//! adapters and a fake launcher, no AWS). Errors are JSON `{"error": type, "message": text}` with
//! a 4xx for anything the caller can fix; no answer ever contains an API key, and a failed AWS
//! call is answered with the request id its details are logged under, never with AWS's own text.
//!
//! Destinations stay inside the deployment's [`Boundary`]: Autopilot's API host (and the hosts
//! the stack allows) and the snapshot bucket and prefix. A destination's URL cannot be changed:
//! to move it, remove it and connect again. Verifications, which run as asynchronous jobs, have
//! their routes in [`verifications`].
//!
//! Every state-changing call that succeeds — connect, configure, key rotation, export, verify,
//! remove — is recorded in the destination's audit trail ([`app::audit`]) under the IAM principal
//! API Gateway authenticated ([`Caller`]); a connect's `export_user` that names someone else is
//! kept only as a label beside it. `GET /destinations/{id}/exports` answers the trail beside the
//! exports.

use serde::Deserialize;
use serde_json::{json, Value};
use shared::app;
use shared::app::audit::{self, Action};
use shared::app::exports::ExportStatus;
use shared::app::launcher::{ExportLauncher, ExportRequest};
use shared::destination::{self, Boundary};
use shared::jobs::plan::Trigger;
use shared::jobs::{configure, connect, remove};
use shared::secrets::SecretError;
use shared::store::StoreError;
use shared::{Deps, ErrorKind, JobError};
use std::sync::Arc;

mod caller;
mod verifications;

pub use caller::Caller;

/// What the API works with.
pub struct Api {
    pub deps: Deps,
    /// Starts exports and reads their state: on AWS the state machine (`aws_adapters::Executions`).
    pub launcher: Arc<dyn ExportLauncher>,
    /// The rate of destinations connected without one (the template's parameter).
    pub default_requests_per_second: Option<f64>,
    /// Where destinations may send data and read segments from.
    pub boundary: Boundary,
}

/// An answer: status code and JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    /// What failed inside AWS, and whether trying again may work: logged, never answered.
    hidden: Option<(ErrorKind, String)>,
}

impl Answer {
    fn ok(status: u16, body: Value) -> Self {
        Self {
            status,
            body,
            hidden: None,
        }
    }

    fn error(status: u16, error: &str, message: impl Into<String>) -> Self {
        Self::ok(status, json!({"error": error, "message": message.into()}))
    }

    /// A failed AWS call of `kind`: `Transient` (trying again may work) or `Internal` (the
    /// deployment is wrong: a permission, a resource that is not there); its text only logged.
    fn aws_failure(kind: ErrorKind, detail: impl Into<String>) -> Self {
        Self {
            hidden: Some((kind, detail.into())),
            ..Self::error(kind.http_status(), kind.as_str(), "")
        }
    }

    /// Logs what an answer hides and puts the request id in its place.
    fn finish(mut self, caller: &Caller) -> Self {
        if let Some((kind, detail)) = self.hidden.take() {
            tracing::error!(request_id = %caller.request_id, error = %detail, "request failed");
            let what = if kind.retryable() {
                "an AWS service call failed: try again; if it keeps failing"
            } else {
                "an AWS service refused a call (a permission or a resource of the deployment is missing)"
            };
            self.body = json!({
                "error": kind.as_str(),
                "message": format!("{what}, the function's log has the cause under request id {}", caller.request_id),
                "request_id": caller.request_id,
            });
        }
        self
    }
}

impl From<JobError> for Answer {
    /// A failed AWS call (the store, the secrets, Step Functions, a snapshot read) is answered
    /// without AWS's text; Autopilot's errors say what Autopilot did.
    fn from(err: JobError) -> Self {
        let kind = err.kind();
        let aws = match &err {
            JobError::Store(StoreError::Io { .. } | StoreError::Refused { .. })
            | JobError::Secret(SecretError::Io { .. } | SecretError::Refused { .. }) => true,
            JobError::Failed { kind, .. } => {
                matches!(kind, ErrorKind::Transient | ErrorKind::Internal)
            }
            _ => false,
        };
        if aws {
            return Answer::aws_failure(kind, err.to_string());
        }
        Answer::error(kind.http_status(), kind.as_str(), err.to_string())
    }
}

fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Answer> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| Answer::from(shared::jobs::input_error(&e)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigureBody {
    /// Refused: a destination's API and URL are fixed when it is connected.
    #[serde(default, alias = "autopilot_url")]
    api_url: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    api: Option<serde::de::IgnoredAny>,
    /// Refused: the key has its own route.
    #[serde(default)]
    api_key: Option<serde::de::IgnoredAny>,
    data_matching: destination::DataMatching,
    segments: Vec<destination::Segment>,
    #[serde(default)]
    profile_limit: Option<u64>,
    #[serde(default)]
    requests_per_second: Option<f64>,
    #[serde(default)]
    schedule: Option<destination::Schedule>,
    #[serde(default)]
    max_removal_percent: Option<f64>,
    #[serde(default)]
    max_shrink_percent: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyBody {
    api_key: secrecy::SecretString,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ExportBody {
    #[serde(default)]
    dry_run: bool,
    #[serde(default)]
    full: bool,
    #[serde(default)]
    override_guardrails: bool,
}

impl Api {
    /// Answers one request; `path` may carry a query string.
    pub async fn handle(&self, method: &str, path: &str, body: &[u8], caller: &Caller) -> Answer {
        let (path, query) = path.split_once('?').unwrap_or((path, ""));
        let parts: Vec<&str> = path
            .trim_matches('/')
            .split('/')
            .filter(|p| !p.is_empty())
            .collect();
        let result = match (method, parts.as_slice()) {
            ("POST", ["destinations"]) => self.connect(body, caller).await,
            ("GET", ["destinations"]) => self.list().await,
            ("GET", ["destinations", id]) => self.read(id).await,
            ("PUT", ["destinations", id]) => self.configure(id, body, caller).await,
            ("DELETE", ["destinations", id]) => self.remove(id, caller).await,
            ("PUT", ["destinations", id, "key"]) => self.rotate(id, body, caller).await,
            ("POST", ["destinations", id, "exports"]) => self.start_export(id, body, caller).await,
            ("GET", ["destinations", id, "exports"]) => self.history(id, query).await,
            ("GET", ["destinations", id, "exports", export]) => {
                self.export_status(id, export).await
            }
            ("POST", ["destinations", id, "verify"]) => {
                self.start_verification(id, body, caller).await
            }
            ("GET", ["destinations", id, "verifications", vid]) => {
                self.verification_status(id, vid).await
            }
            (
                _,
                ["destinations"]
                | ["destinations", _]
                | ["destinations", _, "key" | "exports" | "verify"]
                | ["destinations", _, "exports" | "verifications", _],
            ) => Err(Answer::error(
                405,
                "MethodNotAllowed",
                format!("{method} is not allowed on {path}"),
            )),
            _ => Err(Answer::error(
                404,
                "NotFound",
                format!("no route {method} {path}"),
            )),
        };
        result.unwrap_or_else(|answer| answer).finish(caller)
    }

    async fn connect(&self, body: &[u8], caller: &Caller) -> Result<Answer, Answer> {
        let mut input: connect::Input = parse(body)?;
        input.requests_per_second = input
            .requests_per_second
            .or(self.default_requests_per_second);
        // Exports run as the principal that connected; a name the body gives is only a label.
        let label = match input.export_user.take() {
            Some(named) => Some(connect::check_name("export user", &named)?.to_string()),
            None => None,
        };
        input.export_user = Some(caller.name().to_string());
        let out = connect::run_within(input, &self.deps, &self.boundary).await?;
        let entry = audit::Entry::now(caller.name(), Action::Connect, &out.destination_id)
            .details("API key checked and stored")
            .label(label.as_deref());
        self.record(entry).await?;
        Ok(Answer::ok(
            201,
            json!({"destination_id": out.destination_id, "account_name": out.account_name}),
        ))
    }

    async fn list(&self) -> Result<Answer, Answer> {
        let found = app::destinations::list(&self.deps).await?;
        Ok(Answer::ok(200, json!({ "destinations": found })))
    }

    async fn read(&self, id: &str) -> Result<Answer, Answer> {
        let destination = app::destinations::read(&self.deps, id).await?;
        Ok(Answer::ok(200, json!(destination)))
    }

    /// Records a call that changed something in the audit trail.
    async fn record(&self, entry: audit::Entry) -> Result<(), Answer> {
        Ok(audit::record(self.deps.store.as_ref(), &entry).await?)
    }

    async fn configure(&self, id: &str, body: &[u8], caller: &Caller) -> Result<Answer, Answer> {
        let body: ConfigureBody = parse(body)?;
        if body.api_url.is_some() || body.api.is_some() {
            return Err(Answer::error(400, "InvalidInput", format!(
                "the API and the API URL of a destination cannot be changed: remove '{id}' (DELETE /destinations/{id}) and connect it again, which checks its key against the new URL"
            )));
        }
        if body.api_key.is_some() {
            return Err(Answer::error(400, "InvalidInput", format!(
                "the API key is not part of the configuration: change it with PUT /destinations/{id}/key"
            )));
        }
        let input = configure::Input {
            destination_id: id.to_string(),
            data_matching: body.data_matching,
            segments: body.segments,
            profile_limit: body.profile_limit,
            requests_per_second: body.requests_per_second,
            schedule: body.schedule,
            max_removal_percent: body.max_removal_percent,
            max_shrink_percent: body.max_shrink_percent,
        };
        let segments = input.segments.len();
        configure::run_within(input, &self.deps, &self.boundary).await?;
        let answer = self.read(id).await?;
        let entry = audit::Entry::now(caller.name(), Action::Configure, id)
            .details(format!("segments: {segments}"));
        self.record(entry).await?;
        Ok(answer)
    }

    async fn remove(&self, id: &str, caller: &Caller) -> Result<Answer, Answer> {
        let out = remove::run(
            remove::Input {
                destination_id: id.to_string(),
            },
            &self.deps,
        )
        .await?;
        let entry = audit::Entry::now(caller.name(), Action::Remove, &out.destination_id);
        self.record(entry).await?;
        Ok(Answer::ok(200, json!(out)))
    }

    async fn rotate(&self, id: &str, body: &[u8], caller: &Caller) -> Result<Answer, Answer> {
        let body: KeyBody = parse(body)?;
        let input = connect::RotateInput {
            destination_id: id.to_string(),
            api_key: body.api_key,
        };
        let out = connect::rotate_key_within(input, &self.deps, &self.boundary).await?;
        let entry = audit::Entry::now(caller.name(), Action::RotateKey, &out.destination_id)
            .details("new API key checked and stored");
        self.record(entry).await?;
        Ok(Answer::ok(
            200,
            json!({"destination_id": out.destination_id, "key_rotated": true}),
        ))
    }

    async fn start_export(&self, id: &str, body: &[u8], caller: &Caller) -> Result<Answer, Answer> {
        let body: ExportBody = parse(body)?;
        let destination = app::destinations::read(&self.deps, id).await?;
        self.boundary.check_destination(&destination)?;
        let request = ExportRequest {
            destination_id: destination.id.clone(),
            full: body.full,
            override_guardrails: body.override_guardrails,
            trigger: Trigger::Api,
        };
        if body.dry_run {
            let preview = app::exports::preview(&self.deps, &request).await?;
            return Ok(Answer::ok(200, json!(preview)));
        }
        match app::exports::start(&self.deps, self.launcher.as_ref(), &request).await {
            Ok(export_id) => {
                let entry = audit::Entry::now(caller.name(), Action::Export, &destination.id)
                    .details(format!(
                        "export {export_id}{}{}",
                        if body.full { ", full" } else { "" },
                        if body.override_guardrails {
                            ", guardrails overridden"
                        } else {
                            ""
                        }
                    ));
                self.record(entry).await?;
                Ok(Answer::ok(202, json!({"export_id": export_id})))
            }
            Err(e) if e.kind() == ErrorKind::NotConfigured => Err(Answer::error(
                e.kind().http_status(),
                e.kind().as_str(),
                format!(
                    "'{id}' has no data matching or segments yet: PUT /destinations/{id} first"
                ),
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// A page of the destination's finished exports, newest first: `?limit=N` (1–100, default
    /// 20) reports after `?skip=M`; `next` is the `skip` of the next page, if there is one. Beside
    /// them, `audit`: the latest `limit` calls that changed the destination, newest first.
    async fn history(&self, id: &str, query: &str) -> Result<Answer, Answer> {
        let number = |name: &str, default: usize| -> Result<usize, Answer> {
            let Some((_, value)) = query
                .split('&')
                .filter_map(|pair| pair.split_once('='))
                .find(|(key, _)| *key == name)
            else {
                return Ok(default);
            };
            value.parse().map_err(|_| {
                Answer::error(
                    400,
                    ErrorKind::InvalidInput.as_str(),
                    format!("{name} must be a whole number"),
                )
            })
        };
        let (limit, skip) = (number("limit", 20)?, number("skip", 0)?);
        if !(1..=100).contains(&limit) {
            return Err(Answer::error(
                400,
                ErrorKind::InvalidInput.as_str(),
                "limit must be between 1 and 100",
            ));
        }
        let destination = app::destinations::read(&self.deps, id).await?;
        let mut page = app::exports::recent(&self.deps, &destination.id, skip, limit + 1).await?;
        let next = (page.len() > limit).then_some(skip + limit);
        page.truncate(limit);
        let trail = audit::recent(self.deps.store.as_ref(), &destination.id, limit).await?;
        Ok(Answer::ok(
            200,
            json!({"exports": page, "next": next, "audit": trail}),
        ))
    }

    async fn export_status(&self, id: &str, export_id: &str) -> Result<Answer, Answer> {
        let status =
            app::exports::status(&self.deps, self.launcher.as_ref(), id, export_id).await?;
        let body = match status {
            ExportStatus::Finished(report) => {
                json!({"export_id": export_id, "status": report.status, "report": report})
            }
            ExportStatus::Running(progress) => {
                json!({"export_id": export_id, "status": "running", "progress": progress})
            }
            ExportStatus::Finishing => json!({"export_id": export_id, "status": "finishing"}),
            ExportStatus::Failed => json!({"export_id": export_id, "status": "failed"}),
        };
        Ok(Answer::ok(200, body))
    }
}
