//! autopilot-export's domain: the ports (`ObjectStore`, `SecretStore`, `SnapshotReader`, and
//! `AudienceApi`, the API of the audience tool an export sends to) with their adapters (a folder,
//! owner-only files, local files; Autopilot's API, on the generic HTTP machinery of `http_api`),
//! data matching, the error taxonomy, and the jobs an export is made of. No AWS SDK and no Lambda
//! runtime: the AWS adapters live in `adapters/aws` (crate `aws-adapters`), what the Lambda
//! functions share in `adapters/lambda` (crate `lambda-glue`). The command line and the Lambda
//! functions are thin shells around the jobs here.

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
pub mod jobs;
pub mod local_export;
pub mod local_lock;
pub mod memory;
pub mod retention;
pub mod secrets;
pub mod snapshot;
pub mod store;
#[cfg(any(test, feature = "test-support"))]
pub mod test_support;
pub mod text;

pub use error::ErrorKind;
pub use jobs::{Deps, JobError};
