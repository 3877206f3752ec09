//! Data matching: checks a destination's mapping, resolves it against a snapshot's header (where
//! each column it uses must appear once), and turns each row into a contact or a reason it cannot
//! be one.
//!
//! Rules: the email is trimmed, checked and its domain put in ASCII ([`crate::email::normalise`]); empty
//! values are dropped (a field in the destination is never overwritten with nothing); custom values are
//! converted to their declared type (`string`, `integer`, `float`, `boolean`, `date`) or the row
//! is refused.
//!
//! By role: `validate` checks a mapping before it is saved, `custom` reads custom field keys and
//! converts values to their type, `row` maps a snapshot's rows, `quick` fingerprints a row
//! without building its contact.

mod custom;
mod quick;
mod row;
#[cfg(test)]
mod tests;
mod validate;

pub use custom::CustomType;
pub use row::{column_positions, RowMapper, RowProblem};
pub use validate::validate;
