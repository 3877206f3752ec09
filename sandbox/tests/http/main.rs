//! The sandbox through HTTP, as a client sees it: a real sandbox on a free port and requests through
//! reqwest. `both_modes` and `boundary` cover what the two modes share; the other modules each cover
//! one part of the Ortto mode's contract (the `ortto` module doc of the crate).

mod admin;
mod both_modes;
mod boundary;
mod fields_and_tags;
mod limits;
mod merge;
mod people;
mod support;
