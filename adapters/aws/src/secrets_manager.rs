//! `SecretsManagerSecrets`: one Secrets Manager secret per destination, named
//! `{prefix}{destination_id}`. Deleted without a recovery window: a removed destination's key is
//! gone at once.

use async_trait::async_trait;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};
use secrecy::{ExposeSecret, SecretString};
use shared::secrets::{SecretError, SecretStore};

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

#[async_trait]
impl SecretStore for SecretsManagerSecrets {
    async fn put(&self, destination_id: &str, key: &SecretString) -> Result<(), SecretError> {
        let name = self.name(destination_id);
        let created = self
            .client
            .create_secret()
            .name(&name)
            .description("Autopilot API key of an autopilot-export destination")
            .secret_string(key.expose_secret())
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
                    .secret_id(&name)
                    .secret_string(key.expose_secret())
                    .send()
                    .await
                    .map_err(|e| failed(destination_id, &e))?;
                Ok(())
            }
            Err(e) => Err(failed(destination_id, &e)),
        }
    }

    async fn get(&self, destination_id: &str) -> Result<SecretString, SecretError> {
        let answer = self
            .client
            .get_secret_value()
            .secret_id(self.name(destination_id))
            .send()
            .await
            .map_err(|e| match e.as_service_error() {
                Some(s) if s.is_resource_not_found_exception() => {
                    SecretError::NotFound(destination_id.to_string())
                }
                _ => failed(destination_id, &e),
            })?;
        answer
            .secret_string()
            .map(|s| SecretString::from(s.to_string()))
            .ok_or_else(|| SecretError::NotFound(destination_id.to_string()))
    }

    async fn delete(&self, destination_id: &str) -> Result<(), SecretError> {
        let deleted = self
            .client
            .delete_secret()
            .secret_id(self.name(destination_id))
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
