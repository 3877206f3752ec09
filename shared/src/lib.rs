//! autopilot-export's domain: the Autopilot client, the storage ports and their adapters, data
//! matching, and the jobs an export is made of. The command line and the Lambda functions are thin
//! shells around the jobs here.

pub mod autopilot;
#[cfg(feature = "aws")]
pub mod aws;
pub mod baseline;
pub mod csv_snapshot;
pub mod destination;
pub mod email;
pub mod error;
pub mod field_mapping;
pub mod jobs;
pub mod local_export;
pub mod retention;
pub mod secrets;
pub mod store;

pub use error::ErrorKind;
pub use jobs::{Deps, JobError};
