//! The use-cases every front door calls — the command line, the console, the HTTP API — written
//! once on the jobs' ports ([`crate::Deps`]), so that each front door only translates its input
//! into these calls and their results into its output.
//!
//! - [`destinations`]: list and read destinations, record who exports run as;
//! - [`exports`]: the history of a destination's exports, one export's report, its refused rows;
//! - [`schedule`]: the scheduled refresh, starting exports through an [`schedule::ExportLauncher`];
//! - [`verify`]: the lists read back from Autopilot and compared with the last export's baseline,
//!   missing members put back on request.
//!
//! Connecting, configuring, removing and exporting are the jobs themselves
//! ([`crate::jobs::connect`], [`crate::jobs::configure`], [`crate::jobs::remove`],
//! [`crate::local_export`]).

pub mod destinations;
pub mod exports;
pub mod schedule;
pub mod verify;
