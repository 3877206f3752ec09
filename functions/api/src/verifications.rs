//! `POST /destinations/{id}/verify` and `GET /destinations/{id}/verifications/{vid}`: a
//! verification runs as an asynchronous job (on AWS an execution of the export state machine, in
//! steps that each read for at most ten minutes), so a list of any size is verified whatever API
//! Gateway's 30 seconds. The start answers 202 with the verification's id and where to read it;
//! the status is `running` with its progress (lists, pages and members read), then the result the
//! command's `verify --json` prints with `"status": "succeeded"`, or `"failed"` with a reason.

use super::{parse, Answer, Api, Caller};
use serde::Deserialize;
use serde_json::{json, Value};
use shared::app::audit::{Action, Entry};
use shared::app::verify::job::{VerificationStatus, VerifyRequest};
use shared::app::verify::runs;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct VerifyBody {
    /// Put missing members back on their lists.
    #[serde(default)]
    repair: bool,
}

impl Api {
    pub(super) async fn start_verification(
        &self,
        id: &str,
        body: &[u8],
        caller: &Caller,
    ) -> Result<Answer, Answer> {
        let body: VerifyBody = parse(body)?;
        let destination = shared::app::destinations::read(&self.deps, id).await?;
        self.boundary.check_destination(&destination)?;
        let request = VerifyRequest {
            destination_id: destination.id.clone(),
            repair: body.repair,
            ..VerifyRequest::default()
        };
        let started = runs::start(&self.deps, self.launcher.as_ref(), &request).await?;
        let entry = Entry::now(caller.name(), Action::Verify, &destination.id).details(format!(
            "verification {started}{}",
            if body.repair { ", repair" } else { "" }
        ));
        self.record(entry).await?;
        let status_url = format!("/destinations/{}/verifications/{started}", destination.id);
        Ok(Answer::ok(
            202,
            json!({"verification_id": started, "status": "running", "status_url": status_url}),
        ))
    }

    pub(super) async fn verification_status(&self, id: &str, vid: &str) -> Result<Answer, Answer> {
        let record = runs::status(&self.deps, self.launcher.as_ref(), id, vid).await?;
        let body = match (record.status, record.result.as_ref()) {
            (VerificationStatus::Succeeded, Some(result)) => {
                let mut body = json!(result);
                if let Value::Object(fields) = &mut body {
                    fields.insert("verification_id".into(), json!(vid));
                    fields.insert("status".into(), json!("succeeded"));
                    fields.insert("in_place".into(), json!(result.in_place()));
                }
                body
            }
            (VerificationStatus::Running, _) => {
                let p = record.progress();
                json!({
                    "verification_id": vid, "status": "running", "repair": record.repair,
                    "started_at": record.started_at,
                    "progress": {"lists": p.lists, "lists_read": p.lists_read, "pages": p.pages,
                                 "members": p.members, "steps": p.steps},
                })
            }
            _ => json!({
                "verification_id": vid, "status": "failed", "repair": record.repair,
                "started_at": record.started_at, "finished_at": record.finished_at,
                "failure": record.failure,
            }),
        };
        Ok(Answer::ok(200, body))
    }
}
