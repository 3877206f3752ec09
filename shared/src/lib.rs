//! autopilot-export's domain: the Autopilot client, the storage ports and their adapters, data
//! matching, and the jobs an export is made of. The command line and the Lambda functions are thin
//! shells around the jobs here.

pub mod autopilot;
