//! A stand-in for the audience tool, in the demo and in every test: an HTTP server imitating
//! Autopilot's REST API v1 or, started with [`Api::Ortto`], Ortto's API (see the `ortto` module
//! for its contract and the table of what the sandbox does where Ortto's documentation is silent).
//! Both modes share the store of contacts (a million of them in about 150 MB), the per-key
//! token-bucket rate limit answering 429 with `{"error": {"try-in-seconds": n}}` (and
//! `Retry-After`, switchable), the injected faults, the counters and `/admin`.
//!
//! Autopilot mode serves Autopilot's calls under `/v1` with Autopilot's rules (key header, at most
//! 100 contacts per bulk upsert, one invalid contact fails the whole request, typed custom fields,
//! lists and members with bookmark paging). Unlike Autopilot it also refuses any address in the
//! reserved `.invalid` domain, as Autopilot may refuse addresses for reasons a client cannot
//! check, so the rejected-by-Autopilot path is exercised end to end (Ortto mode marks such people
//! `invalid`). Like Autopilot's documentation, its 400 says what is wrong but not with which
//! contact; an admin setting (`PUT /admin/refusals {"name_refused": "position"}` or `"email"`,
//! default `"none"`) makes it name the contact, by its JSON path in the request (`contacts[3]: …`)
//! or by its address (`"position_from_one"` counts from 1, an answer a client must not misread).
//!
//! `/admin` (no API key, no limit) shows the state and counters, changes faults, keys and settings
//! at run time, and does what a person does by hand in the tool (Autopilot: unsubscribe a contact,
//! take a member off a list, delete a list; Ortto: see its module).
//!
//! It listens on 127.0.0.1 only and answers only programs on this machine (the `boundary`
//! module): a request whose `Host` is not a loopback name is answered 421, one a web page of
//! another origin made 403, and `/admin` needs the admin token printed at start, as
//! `Authorization: Bearer TOKEN` ([`Sandbox::admin_token`]; the in-process handle needs none).

// Handlers return ready HTTP responses as their errors, the way axum is meant to be used.
#![allow(clippy::result_large_err)]

mod admin;
mod autopilot;
mod boundary;
mod config;
mod control;
mod gate;
pub mod limits;
mod ortto;
mod server;
pub mod store;

pub use autopilot::RefusalNaming;
pub use boundary::AdminToken;
pub use config::{Api, Region, SandboxConfig};
pub use limits::{Counters, Faults};
pub use ortto::{EmptyStrings, MixedBatch, OrttoSettings};
pub use server::Sandbox;
pub use store::{ListSnapshot, StateSnapshot};

pub(crate) use server::ConnectionKill;
