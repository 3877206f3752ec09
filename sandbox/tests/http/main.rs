//! The sandbox through HTTP, as a client sees it: a real sandbox on a free port and requests through
//! reqwest. Each module covers one part of the Ortto mode's contract (the `ortto` module doc of the
//! crate).

mod admin;
mod fields_and_tags;
mod limits;
mod merge;
mod people;
mod support;
