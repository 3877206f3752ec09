//! `SecretsManagerSecrets`: one Secrets Manager secret per destination, named
//! `{prefix}{destination_id}`, and one per named secret of it, `{prefix}{destination_id}/{name}`
//! (the stack's functions may use every secret under `{prefix}`). Deleted without a recovery
//! window: a removed destination's key is gone at once.

use async_trait::async_trait;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};
use secrecy::{ExposeSecret, SecretString};
use shared::secrets::{Named, SecretError, SecretStore};

#[derive(Debug, Clone)]
pub struct SecretsManagerSecrets {
    client: aws_sdk_secretsmanager::Client,
    prefix: String,
}

impl SecretsManagerSecrets {
    pub fn new(client: aws_sdk_secretsmanager::Client, prefix: &str) -> Self {
        Self {
            client,
            prefix: prefix.to_string(),
        }
    }

    fn name(&self, destination_id: &str) -> String {
        format!("{}{destination_id}", self.prefix)
    }

    /// A named secret's name: the API key's, a slash, the secret's name.
    fn named(&self, destination_id: &str, name: Named) -> String {
        format!("{}/{}", self.name(destination_id), name.as_str())
    }
}

/// A failed Secrets Manager call: its code for the caller, the whole error for the log.
fn failed<E>(destination: &str, err: &SdkError<E, HttpResponse>) -> SecretError
where
    E: std::error::Error + ProvideErrorMetadata + 'static,
{
    let source = super::summary(&format!("secret of {destination}"), err).into();
    let destination = destination.to_string();
    if super::transient(err) {
        SecretError::Io {
            destination,
            source,
        }
    } else {
        SecretError::Refused {
            destination,
            source,
        }
    }
}

impl SecretsManagerSecrets {
    /// Creates the secret, or gives the one that exists a new value.
    async fn write(
        &self,
        destination_id: &str,
        name: &str,
        description: &str,
        value: &SecretString,
    ) -> Result<(), SecretError> {
        let created = self
            .client
            .create_secret()
            .name(name)
            .description(description)
            .secret_string(value.expose_secret())
            .send()
            .await;
        match created {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_exists_exception()) =>
            {
                self.client
                    .put_secret_value()
                    .secret_id(name)
                    .secret_string(value.expose_secret())
                    .send()
                    .await
                    .map_err(|e| failed(destination_id, &e))?;
                Ok(())
            }
            Err(e) => Err(failed(destination_id, &e)),
        }
    }

    /// The secret's value; `None` when there is no such secret.
    async fn read(
        &self,
        destination_id: &str,
        name: &str,
    ) -> Result<Option<SecretString>, SecretError> {
        let answer = self.client.get_secret_value().secret_id(name).send().await;
        match answer {
            Ok(answer) => Ok(answer
                .secret_string()
                .map(|s| SecretString::from(s.to_string()))),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(failed(destination_id, &e)),
        }
    }

    /// Deletes the secret at once, without a recovery window.
    async fn remove(&self, destination_id: &str, name: &str) -> Result<(), SecretError> {
        let deleted = self
            .client
            .delete_secret()
            .secret_id(name)
            .force_delete_without_recovery(true)
            .send()
            .await;
        match deleted {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(failed(destination_id, &e)),
        }
    }
}

#[async_trait]
impl SecretStore for SecretsManagerSecrets {
    async fn put(&self, destination_id: &str, key: &SecretString) -> Result<(), SecretError> {
        let name = self.name(destination_id);
        let description = "Autopilot API key of an autopilot-export destination";
        self.write(destination_id, &name, description, key).await
    }

    async fn get(&self, destination_id: &str) -> Result<SecretString, SecretError> {
        self.read(destination_id, &self.name(destination_id))
            .await?
            .ok_or_else(|| SecretError::NotFound(destination_id.to_string()))
    }

    async fn delete(&self, destination_id: &str) -> Result<(), SecretError> {
        self.remove(destination_id, &self.name(destination_id))
            .await
    }

    async fn put_named(
        &self,
        destination_id: &str,
        name: Named,
        value: &SecretString,
    ) -> Result<(), SecretError> {
        let description = format!("The {} of an autopilot-export destination", name.describe());
        let secret = self.named(destination_id, name);
        self.write(destination_id, &secret, &description, value)
            .await
    }

    async fn get_named(
        &self,
        destination_id: &str,
        name: Named,
    ) -> Result<Option<SecretString>, SecretError> {
        self.read(destination_id, &self.named(destination_id, name))
            .await
    }

    async fn delete_named(&self, destination_id: &str, name: Named) -> Result<(), SecretError> {
        self.remove(destination_id, &self.named(destination_id, name))
            .await
    }
}
