//! The checks a mapping passes before it is saved, for the API it is sent to: known standard
//! fields, well-formed custom keys, no consent fields ([`Vocabulary::check`]).

use crate::audience_api::Vocabulary;
use crate::destination::DataMatching;

/// Checks a mapping before it is saved for an API of `vocabulary`.
pub fn validate(matching: &DataMatching, vocabulary: &Vocabulary) -> Result<(), String> {
    vocabulary.check(matching)
}
