//! The `SecretStore` port: one API key per destination, and nowhere else; beside it, a
//! destination's other secrets by name ([`Named`]: the key that signs its webhook posts), each
//! stored apart from the API key and from each other.
//! Adapters: [`FileSecrets`] (files readable by the owner only) here; Secrets Manager in the
//! `aws-adapters` crate. Every adapter must pass [`conformance`].

mod file;

pub use file::FileSecrets;

use async_trait::async_trait;
use secrecy::SecretString;

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("no API key is stored for destination {0}: connect it again")]
    NotFound(String),
    /// The folder of a file store is open to other users: no key is read or written there.
    #[error("the secrets folder {dir} can be opened by other users, and it holds the API keys: run `chmod 700 {dir}` (and rotate a key in Autopilot if others may have read it)")]
    Exposed { dir: String },
    /// A failure that may pass (a timeout, a lost connection, a server fault, throttling).
    #[error("the secret store failed for destination {destination}: {source}")]
    Io {
        destination: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The secret store refused in a way trying again does not change (access denied, a key
    /// policy): the deployment is wrong.
    #[error("the secret store refused for destination {destination}: {source}")]
    Refused {
        destination: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// A secret a destination keeps besides its API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Named {
    /// The key that signs the posts of its notification webhook (`app::notify`).
    WebhookSigning,
}

impl Named {
    /// The name adapters store it under, after the destination's id (which has no `.` or `/`,
    /// so it can never be mistaken for another destination's key).
    pub fn as_str(self) -> &'static str {
        match self {
            Named::WebhookSigning => "webhook-signing",
        }
    }

    /// What it is, for people.
    pub fn describe(self) -> &'static str {
        match self {
            Named::WebhookSigning => "webhook signing secret",
        }
    }
}

#[async_trait]
pub trait SecretStore: Send + Sync {
    async fn put(&self, destination_id: &str, key: &SecretString) -> Result<(), SecretError>;
    async fn get(&self, destination_id: &str) -> Result<SecretString, SecretError>;
    /// Deletes the key; deleting a missing key is not an error.
    async fn delete(&self, destination_id: &str) -> Result<(), SecretError>;
    /// Stores (or replaces) the destination's `name`d secret.
    async fn put_named(
        &self,
        destination_id: &str,
        name: Named,
        value: &SecretString,
    ) -> Result<(), SecretError>;
    /// The destination's `name`d secret; `None` when it has none.
    async fn get_named(
        &self,
        destination_id: &str,
        name: Named,
    ) -> Result<Option<SecretString>, SecretError>;
    /// Deletes the destination's `name`d secret; deleting a missing one is not an error.
    async fn delete_named(&self, destination_id: &str, name: Named) -> Result<(), SecretError>;
}

/// The behaviour every `SecretStore` adapter must show.
pub mod conformance {
    use super::*;
    use secrecy::ExposeSecret;

    pub async fn run(secrets: &dyn SecretStore) {
        assert!(matches!(
            secrets.get("conformance-d1").await,
            Err(SecretError::NotFound(_))
        ));
        secrets
            .put("conformance-d1", &SecretString::from("k1".to_string()))
            .await
            .unwrap();
        secrets
            .put("conformance-d2", &SecretString::from("k2".to_string()))
            .await
            .unwrap();
        assert_eq!(
            secrets.get("conformance-d1").await.unwrap().expose_secret(),
            "k1"
        );
        secrets
            .put("conformance-d1", &SecretString::from("k1b".to_string()))
            .await
            .unwrap();
        assert_eq!(
            secrets.get("conformance-d1").await.unwrap().expose_secret(),
            "k1b",
            "put replaces"
        );
        assert_eq!(
            secrets.get("conformance-d2").await.unwrap().expose_secret(),
            "k2",
            "one key per destination"
        );
        secrets.delete("conformance-d1").await.unwrap();
        secrets.delete("conformance-d1").await.unwrap();
        let err = secrets.get("conformance-d1").await.unwrap_err();
        assert!(matches!(err, SecretError::NotFound(_)));
        assert!(!err.to_string().contains("k1"));
        secrets.delete("conformance-d2").await.unwrap();
        named(secrets).await;
    }

    /// A named secret lives apart from the API key: neither replaces nor deletes the other.
    async fn named(secrets: &dyn SecretStore) {
        let (d, name) = ("conformance-d3", Named::WebhookSigning);
        let value = |text: &str| SecretString::from(text.to_string());
        assert!(secrets.get_named(d, name).await.unwrap().is_none());
        secrets.put(d, &value("api-key")).await.unwrap();
        assert!(secrets.get_named(d, name).await.unwrap().is_none());
        secrets.put_named(d, name, &value("s1")).await.unwrap();
        secrets.put_named(d, name, &value("s2")).await.unwrap();
        let stored = secrets.get_named(d, name).await.unwrap().unwrap();
        assert_eq!(stored.expose_secret(), "s2", "put_named replaces");
        assert_eq!(secrets.get(d).await.unwrap().expose_secret(), "api-key");
        secrets.delete(d).await.unwrap();
        assert!(secrets.get_named(d, name).await.unwrap().is_some());
        secrets.delete_named(d, name).await.unwrap();
        secrets.delete_named(d, name).await.unwrap();
        assert!(secrets.get_named(d, name).await.unwrap().is_none());
    }
}
