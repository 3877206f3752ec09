//! `S3Store`: objects in the data bucket, written with server-side encryption; and `S3Snapshots`:
//! segment snapshots read from `s3://` URLs inside the deployment's boundary, as a stream.

use async_trait::async_trait;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ServerSideEncryption;
use bytes::Bytes;
use shared::destination::Boundary;
use shared::snapshot::{SnapshotError, SnapshotReader};
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
}

/// Reads `s3://bucket/key` snapshots as streams; local paths are refused (a Lambda function has
/// no business reading its own file system for customer data), and so is any source outside
/// the boundary it is given ([`S3Snapshots::within`]), whatever the stored destination says.
#[derive(Debug, Clone)]
pub struct S3Snapshots {
    client: aws_sdk_s3::Client,
    runtime: tokio::runtime::Handle,
    boundary: Boundary,
}

impl S3Snapshots {
    /// Reads any `s3://` URL. Must be called inside the Tokio runtime that will serve the reads.
    pub fn new(client: aws_sdk_s3::Client) -> Self {
        Self {
            client,
            runtime: tokio::runtime::Handle::current(),
            boundary: Boundary::anywhere(),
        }
    }

    /// Reads only sources inside `boundary` (the deployment's snapshot bucket and prefix).
    pub fn within(self, boundary: Boundary) -> Self {
        Self { boundary, ..self }
    }
}

impl SnapshotReader for S3Snapshots {
    /// Called on a blocking thread: the request is made on the runtime and the body bridged into
    /// a synchronous reader, so the snapshot streams without being held whole.
    fn open(&self, source: &str) -> Result<Box<dyn std::io::Read + Send>, SnapshotError> {
        self.boundary.check_snapshot(source)?;
        let (bucket, key) = source
            .strip_prefix("s3://")
            .and_then(|rest| rest.split_once('/'))
            .filter(|(b, k)| !b.is_empty() && !k.is_empty())
            .ok_or_else(|| {
                format!(
                    "'{source}' is not an s3://bucket/key URL: on AWS, segments are read from S3"
                )
            })?;
        let request = self.client.get_object().bucket(bucket).key(key).send();
        let object = self.runtime.block_on(request).map_err(|e| match e.as_service_error() {
            Some(service) if service.is_no_such_key() => SnapshotError::invalid(format!(
                "the snapshot {source} does not exist: check the URL, or configure the segment again"
            )),
            // Without s3:ListBucket on the snapshot bucket, a missing object is a 403.
            _ if e.code() == Some("AccessDenied") => SnapshotError::invalid(format!(
                "the snapshot {source} does not exist or this stack may not read it: check the URL, the bucket's policy and its encryption key ({})",
                super::summary(source, &e)
            )),
            // A timeout, throttling, a 5xx or a lost connection: the export may be retried.
            _ if super::transient(&e) => SnapshotError::transient(format!(
                "the snapshot {source} cannot be read: {}",
                super::summary(source, &e)
            )),
            _ => SnapshotError::invalid(format!(
                "the snapshot {source} cannot be read: {}",
                super::summary(source, &e)
            )),
        })?;
        let reader = object.body.into_async_read();
        Ok(Box::new(tokio_util::io::SyncIoBridge::new_with_handle(
            reader,
            self.runtime.clone(),
        )))
    }
}
