//! `S3Snapshots`: segment snapshots read from `s3://` URLs inside the deployment's boundary — as
//! a stream, by ranged GETs (a Parquet footer, one row group's columns), and listed under a
//! prefix (`s3:ListBucket` on the snapshot prefix is all a listing needs). Every source, prefix
//! and listed object is checked against the boundary before it is asked for.

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use bytes::Bytes;
use shared::destination::Boundary;
use shared::snapshot::{Found, Listed, SnapshotError, SnapshotReader, MAX_LISTED};

/// Reads `s3://bucket/key` snapshots; local paths are refused (a Lambda function has no
/// business reading its own file system for customer data), and so is any source outside the
/// boundary it is given ([`S3Snapshots::within`]), whatever the stored destination says.
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

    /// The bucket and key of `source`, once it is known to lie inside the boundary.
    fn locate<'a>(&self, source: &'a str) -> Result<(&'a str, &'a str), SnapshotError> {
        self.boundary.check_snapshot(source)?;
        source
            .strip_prefix("s3://")
            .and_then(|rest| rest.split_once('/'))
            .filter(|(b, _)| !b.is_empty())
            .ok_or_else(|| {
                SnapshotError::invalid(format!(
                    "'{source}' is not an s3://bucket/key URL: on AWS, segments are read from S3"
                ))
            })
    }

    /// Whether any object lies under `key/` in `bucket`.
    fn has_objects_under(
        &self,
        source: &str,
        bucket: &str,
        key: &str,
    ) -> Result<bool, SnapshotError> {
        let request = self
            .client
            .list_objects_v2()
            .bucket(bucket)
            .prefix(format!("{}/", key.trim_end_matches('/')))
            .max_keys(1)
            .send();
        let page = self
            .runtime
            .block_on(request)
            .map_err(|e| failed(source, e))?;
        Ok(!page.contents().is_empty())
    }
}

/// A failed S3 call about `source`, for the user: never AWS's own text (see [`super::summary`]).
fn failed<E>(source: &str, e: SdkError<E, HttpResponse>) -> SnapshotError
where
    E: std::error::Error + ProvideErrorMetadata + 'static,
{
    // Without s3:ListBucket on the snapshot bucket, a missing object is a 403.
    if e.code() == Some("AccessDenied") {
        return SnapshotError::invalid(format!(
            "the snapshot {source} does not exist or this stack may not read it: check the URL, the bucket's policy and its encryption key ({})",
            super::summary(source, &e)
        ));
    }
    // A timeout, throttling, a 5xx or a lost connection: the export may be retried.
    let message = format!(
        "the snapshot {source} cannot be read: {}",
        super::summary(source, &e)
    );
    if super::transient(&e) {
        SnapshotError::transient(message)
    } else {
        SnapshotError::invalid(message)
    }
}

fn missing(source: &str) -> SnapshotError {
    SnapshotError::missing(format!(
        "the snapshot {source} does not exist: check the URL, or configure the segment again"
    ))
}

impl SnapshotReader for S3Snapshots {
    /// Called on a blocking thread: the request is made on the runtime and the body bridged into
    /// a synchronous reader, so the snapshot streams without being held whole.
    fn open(&self, source: &str) -> Result<Box<dyn std::io::Read + Send>, SnapshotError> {
        let (bucket, key) = self.locate(source)?;
        let request = self.client.get_object().bucket(bucket).key(key).send();
        let object = self
            .runtime
            .block_on(request)
            .map_err(|e| match e.as_service_error() {
                Some(service) if service.is_no_such_key() => missing(source),
                _ => failed(source, e),
            })?;
        let reader = object.body.into_async_read();
        Ok(Box::new(tokio_util::io::SyncIoBridge::new_with_handle(
            reader,
            self.runtime.clone(),
        )))
    }

    fn stat(&self, source: &str) -> Result<Found, SnapshotError> {
        let (bucket, key) = self.locate(source)?;
        if !key.is_empty() && !key.ends_with('/') {
            let request = self.client.head_object().bucket(bucket).key(key).send();
            match self.runtime.block_on(request) {
                Ok(head) => {
                    let size = head.content_length().and_then(|n| u64::try_from(n).ok());
                    return Ok(Found::File { size });
                }
                Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => {}
                Err(e) => return Err(failed(source, e)),
            }
        }
        Ok(if self.has_objects_under(source, bucket, key)? {
            Found::Folder
        } else {
            Found::Missing
        })
    }

    fn list(&self, prefix: &str) -> Result<Vec<Listed>, SnapshotError> {
        let (bucket, key) = self.locate(prefix)?;
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(bucket)
            .prefix(key)
            .into_paginator()
            .send();
        let mut found = Vec::new();
        while let Some(page) = self.runtime.block_on(pages.next()) {
            let page = page.map_err(|e| failed(prefix, e))?;
            for object in page.contents() {
                let Some(key) = object.key() else { continue };
                if found.len() == MAX_LISTED {
                    return Err(shared::snapshot::too_many_listed(prefix));
                }
                found.push(Listed {
                    source: format!("s3://{bucket}/{key}"),
                    size: object
                        .size()
                        .and_then(|n| u64::try_from(n).ok())
                        .unwrap_or(0),
                });
            }
        }
        // What lies outside the boundary (the connector's own objects, when they share the
        // bucket) is not there for a segment.
        found.retain(|l| self.boundary.check_snapshot(&l.source).is_ok());
        found.sort_by(|a, b| a.source.cmp(&b.source));
        Ok(found)
    }

    fn read_range(&self, source: &str, start: u64, len: u64) -> Result<Bytes, SnapshotError> {
        let (bucket, key) = self.locate(source)?;
        if len == 0 {
            return Ok(Bytes::new());
        }
        let range = format!("bytes={start}-{}", start + len - 1);
        let request = self
            .client
            .get_object()
            .bucket(bucket)
            .key(key)
            .range(range)
            .send();
        let object = self
            .runtime
            .block_on(request)
            .map_err(|e| match e.as_service_error() {
                Some(service) if service.is_no_such_key() => missing(source),
                // A range that starts past the end.
                _ if e.raw_response().is_some_and(|r| r.status().as_u16() == 416) => {
                    shared::snapshot::ended_early(source, start, len)
                }
                _ => failed(source, e),
            })?;
        let body = self
            .runtime
            .block_on(object.body.collect())
            .map_err(|e| {
                SnapshotError::transient(format!(
                    "the snapshot {source} cannot be read: {}",
                    super::describe(&e)
                ))
            })?
            .into_bytes();
        if (body.len() as u64) < len {
            return Err(shared::snapshot::ended_early(source, start, len));
        }
        Ok(body)
    }
}
