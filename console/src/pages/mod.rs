//! The pages, rendered on the server with maud (which escapes every value).

pub mod destination;
pub mod destinations;
pub mod layout;
pub mod matching;
pub mod preview;
pub mod report;
pub mod setup;
pub mod verify;
