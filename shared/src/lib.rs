//! autopilot-export's domain and use-cases, in layers; each imports only the layers below it.
//!
//! - [`app`], the application layer: the use-cases every front door calls (start an export and
//!   say how it stands, run one in this process, verify, the scheduled refresh, the webhook) and
//!   the launcher port exports and verifications start through;
//! - [`jobs`]: the steps of an export as the state machine runs them (plan, upload-chunk,
//!   finalize) and a destination's set-up and removal (connect, configure, remove), with the
//!   export lock and progress they share, and [`Deps`], the ports they run against;
//! - the domain they work on: destinations and the deployment's boundary ([`destination`]), the
//!   baseline of what the last export left ([`baseline`]), data matching ([`field_mapping`]),
//!   contacts ([`contact`]), costs ([`cost`]), retention, the data folder's lock ([`local_lock`]);
//! - the ports and their adapters: `ObjectStore` ([`store`], a folder), `SecretStore`
//!   ([`secrets`], owner-only files), `SnapshotReader` ([`snapshot`], the segments' files) and
//!   `AudienceApi` ([`audience_api`], the API of the audience tool an export sends to: Autopilot's
//!   in [`autopilot`], on the generic HTTP machinery of [`http_api`]);
//! - the error taxonomy ([`error`]) and [`JobError`], what every layer answers with.
//!
//! No AWS SDK and no Lambda runtime: the AWS adapters live in `adapters/aws` (crate
//! `aws-adapters`), what the Lambda functions share in `adapters/lambda` (crate `lambda-glue`).
//! The command line, the console, the HTTP API and the Lambda functions are front doors: they
//! translate their input into calls of [`app`] and [`jobs`], and the results into their output.

pub mod app;
pub mod audience_api;
pub mod autopilot;
pub mod baseline;
pub mod contact;
pub mod cost;
pub mod destination;
pub mod email;
pub mod error;
pub mod field_mapping;
pub mod http_api;
pub mod job_error;
pub mod jobs;
pub mod local_lock;
pub mod memory;
pub mod ortto;
pub mod retention;
pub mod secrets;
pub mod snapshot;
pub mod store;
#[cfg(any(test, feature = "test-support"))]
pub mod test_support;
pub mod text;

pub use error::ErrorKind;
pub use job_error::JobError;
pub use jobs::Deps;
