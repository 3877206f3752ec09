//! `S3Store`: objects in the data bucket, written with server-side encryption (the bucket is
//! versioned: [`ObjectStore::delete_versions`] deletes what a delete leaves behind); and `S3Snapshots`:
//! segment snapshots read from `s3://` URLs inside the deployment's boundary, as a stream.

use async_trait::async_trait;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{Delete, ObjectIdentifier, ServerSideEncryption};
use bytes::Bytes;
use shared::store::{check_key, ObjectStore, StoreError};

#[derive(Debug, Clone)]
pub struct S3Store {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl S3Store {
    pub fn new(client: aws_sdk_s3::Client, bucket: &str) -> Self {
        Self {
            client,
            bucket: bucket.to_string(),
        }
    }
}

/// A failed S3 call: its code for the caller, the whole error for the log.
fn failed<E>(key: &str, err: SdkError<E, HttpResponse>) -> StoreError
where
    E: std::error::Error + ProvideErrorMetadata + 'static,
{
    let (key, source) = (key.to_string(), super::summary(key, &err).into());
    if super::transient(&err) {
        StoreError::Io { key, source }
    } else {
        StoreError::Refused { key, source }
    }
}

#[async_trait]
impl ObjectStore for S3Store {
    async fn get(&self, key: &str) -> Result<Bytes, StoreError> {
        check_key(key)?;
        let object = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| match e.as_service_error() {
                Some(service) if service.is_no_such_key() => StoreError::NotFound(key.to_string()),
                _ => failed(key, e),
            })?;
        let body = object.body.collect().await.map_err(|e| StoreError::Io {
            key: key.to_string(),
            source: super::describe(&e).into(),
        })?;
        Ok(body.into_bytes())
    }

    async fn put(&self, key: &str, data: Bytes) -> Result<(), StoreError> {
        check_key(key)?;
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .server_side_encryption(ServerSideEncryption::Aes256)
            .body(ByteStream::from(data))
            .send()
            .await
            .map_err(|e| failed(key, e))?;
        Ok(())
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let mut keys = Vec::new();
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| failed(prefix, e))?;
            keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_string)),
            );
        }
        keys.sort();
        Ok(keys)
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        check_key(key)?;
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| failed(key, e))?;
        Ok(())
    }

    async fn put_if_absent(&self, key: &str, data: Bytes) -> Result<bool, StoreError> {
        check_key(key)?;
        let result = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .if_none_match("*")
            .server_side_encryption(ServerSideEncryption::Aes256)
            .body(ByteStream::from(data))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 412) => Ok(false),
            Err(e) => Err(failed(key, e)),
        }
    }

    /// Lists every version and delete marker under `prefix` (ListObjectVersions, 1,000 a page)
    /// and deletes each page by version id (DeleteObjects, quiet: only failures are answered).
    /// Needs `s3:ListBucketVersions` on the bucket and `s3:DeleteObjectVersion` on the prefix.
    async fn delete_versions(&self, prefix: &str) -> Result<usize, StoreError> {
        let mut deleted = 0;
        let (mut key_marker, mut version_marker) = (None::<String>, None::<String>);
        loop {
            let page = self
                .client
                .list_object_versions()
                .bucket(&self.bucket)
                .prefix(prefix)
                .set_key_marker(key_marker.take())
                .set_version_id_marker(version_marker.take())
                .send()
                .await
                .map_err(|e| failed(prefix, e))?;
            let versions = page
                .versions()
                .iter()
                .map(|v| (v.key(), v.version_id()))
                .chain(
                    page.delete_markers()
                        .iter()
                        .map(|m| (m.key(), m.version_id())),
                );
            let ids = versions
                .filter_map(|(key, version)| {
                    ObjectIdentifier::builder()
                        .key(key?)
                        .set_version_id(version.map(str::to_string))
                        .build()
                        .ok()
                })
                .collect::<Vec<_>>();
            deleted += ids.len();
            self.delete_identified(prefix, ids).await?;
            if page.is_truncated() != Some(true) {
                return Ok(deleted);
            }
            key_marker = page.next_key_marker().map(str::to_string);
            version_marker = page.next_version_id_marker().map(str::to_string);
        }
    }
}

impl S3Store {
    /// Deletes up to 1,000 object versions in one DeleteObjects request; a version S3 could not
    /// delete fails the call, naming how many were left.
    async fn delete_identified(
        &self,
        prefix: &str,
        ids: Vec<ObjectIdentifier>,
    ) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        let request = Delete::builder()
            .set_objects(Some(ids))
            .quiet(true)
            .build()
            .map_err(|e| StoreError::Io {
                key: prefix.to_string(),
                source: Box::new(e),
            })?;
        let answer = self
            .client
            .delete_objects()
            .bucket(&self.bucket)
            .delete(request)
            .send()
            .await
            .map_err(|e| failed(prefix, e))?;
        match answer.errors() {
            [] => Ok(()),
            errors => {
                let codes: Vec<&str> = errors.iter().filter_map(|e| e.code()).collect();
                tracing::warn!(
                    prefix,
                    left = errors.len(),
                    ?codes,
                    "object versions not deleted"
                );
                let (key, source) = (
                    prefix.to_string(),
                    format!(
                        "{} object versions were not deleted (S3 answered {})",
                        errors.len(),
                        codes.first().unwrap_or(&"with an error")
                    )
                    .into(),
                );
                // A refusal stays one; anything else (SlowDown, InternalError) may pass.
                if codes.contains(&"AccessDenied") {
                    Err(StoreError::Refused { key, source })
                } else {
                    Err(StoreError::Io { key, source })
                }
            }
        }
    }
}
