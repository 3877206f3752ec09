//! The API key a client sends: held so that every request reads the current one, swapped for a
//! fresh one when the API refuses it and the [`KeySource`] has another (the key was rotated in
//! another process), and sent in a header that is never printed.

use super::ApiError;
use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret, SecretString};
use std::sync::{Arc, RwLock};

/// Where a client reads its key again when the API refuses it: the key may have been rotated
/// (in another process) while this one kept the old key. `None` when it cannot be read.
#[async_trait::async_trait]
pub trait KeySource: Send + Sync {
    async fn current_key(&self) -> Option<SecretString>;
}

/// The key in use, and where to look for a newer one.
pub(super) struct KeyHolder {
    key: RwLock<SecretString>,
    /// Asked once per request answered 401, so a rotated key is picked up without a restart.
    source: Option<Arc<dyn KeySource>>,
}

impl KeyHolder {
    /// Refuses a key no HTTP header can carry (empty, or holding a line break).
    pub(super) fn new(
        key: SecretString,
        source: Option<Arc<dyn KeySource>>,
    ) -> Result<Self, ApiError> {
        if !usable(&key) {
            return Err(ApiError::UnusableKey);
        }
        Ok(Self {
            key: RwLock::new(key),
            source,
        })
    }

    /// The key to send now.
    pub(super) fn current(&self) -> SecretString {
        self.key.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// After a 401 answered to `used`: whether the key is now a different one (another request
    /// already read it again, or the key source has a new one), so the request is worth repeating.
    pub(super) async fn changed_since(&self, used: &SecretString) -> bool {
        if self.current().expose_secret() != used.expose_secret() {
            return true;
        }
        let Some(source) = &self.source else {
            return false;
        };
        let Some(fresh) = source.current_key().await.filter(usable) else {
            return false;
        };
        if fresh.expose_secret() == used.expose_secret() {
            return false;
        }
        tracing::info!("the API key was refused and a different one is stored now: using it");
        *self.key.write().unwrap_or_else(|e| e.into_inner()) = fresh;
        true
    }
}

/// A key an HTTP header can carry.
fn usable(key: &SecretString) -> bool {
    !key.expose_secret().is_empty() && HeaderValue::from_str(key.expose_secret()).is_ok()
}

/// The key as a header value marked sensitive: kept out of `Debug` output and never put in an
/// HTTP/2 header compression table.
pub(super) fn key_header(key: &SecretString) -> Result<HeaderValue, ApiError> {
    let mut value =
        HeaderValue::from_str(key.expose_secret()).map_err(|_| ApiError::UnusableKey)?;
    value.set_sensitive(true);
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Stored(&'static str);

    #[async_trait::async_trait]
    impl KeySource for Stored {
        async fn current_key(&self) -> Option<SecretString> {
            Some(SecretString::from(self.0.to_string()))
        }
    }

    fn key(text: &str) -> SecretString {
        SecretString::from(text.to_string())
    }

    #[test]
    fn a_key_no_header_can_carry_is_refused() {
        for bad in ["", "two\nlines"] {
            assert!(matches!(
                KeyHolder::new(key(bad), None),
                Err(ApiError::UnusableKey)
            ));
        }
    }

    #[tokio::test]
    async fn a_refused_key_is_swapped_only_for_a_different_usable_one() {
        let same = KeyHolder::new(key("old"), Some(Arc::new(Stored("old")))).unwrap();
        assert!(!same.changed_since(&key("old")).await);
        let unusable = KeyHolder::new(key("old"), Some(Arc::new(Stored("")))).unwrap();
        assert!(!unusable.changed_since(&key("old")).await);
        assert_eq!(unusable.current().expose_secret(), "old");
        let rotated = KeyHolder::new(key("old"), Some(Arc::new(Stored("new")))).unwrap();
        assert!(rotated.changed_since(&key("old")).await);
        assert_eq!(rotated.current().expose_secret(), "new");
        // A request that used the old key after another one already swapped it goes again.
        assert!(rotated.changed_since(&key("old")).await);
        let alone = KeyHolder::new(key("old"), None).unwrap();
        assert!(!alone.changed_since(&key("old")).await);
    }
}
