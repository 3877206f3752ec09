//! Calls into the parquet crate's decoding with its panics contained. On some malformed input
//! the crate asserts where it should return an error (a PLAIN byte array whose length prefix is
//! cut short slices past its page's end, for one): such a panic becomes the error of the file
//! being read, and is not printed, so that no input makes the command panic. Panics anywhere
//! else, our own code's included, are reported as before: the hook passes them on.

use parquet::errors::ParquetError;
use std::cell::Cell;
use std::panic::AssertUnwindSafe;
use std::sync::Once;

thread_local! {
    /// Whether this thread is inside [`contained`].
    static INSIDE: Cell<bool> = const { Cell::new(false) };
}

static HOOK: Once = Once::new();

/// Runs `decode`; a panic inside it is an error saying the file is malformed. The state the
/// call worked on is left as the panic left it: the caller drops it.
pub fn contained<T>(decode: impl FnOnce() -> Result<T, ParquetError>) -> Result<T, ParquetError> {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !INSIDE.with(Cell::get) {
                previous(info);
            }
        }));
    });
    let was = INSIDE.with(|inside| inside.replace(true));
    let result = std::panic::catch_unwind(AssertUnwindSafe(decode));
    INSIDE.with(|inside| inside.set(was));
    result.unwrap_or_else(|_| {
        Err(ParquetError::General(
            "its data is malformed where the decoder expected more".into(),
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_inside_is_an_error_and_the_thread_goes_on() {
        let err = contained::<()>(|| panic!("index out of range")).unwrap_err();
        assert!(err.to_string().contains("malformed"), "{err}");
        assert_eq!(contained(|| Ok(7)).unwrap(), 7);
        assert!(!INSIDE.with(Cell::get));
        // Outside, a panic is a panic.
        assert!(std::panic::catch_unwind(|| panic!("ours")).is_err());
    }
}
