//! What a local export holds while it sends: a few chunks at a time, however many there are.

use super::*;
use crate::audience_api::ClientSettings;
use crate::jobs::finalize::Status;
use crate::store::{LocalStore, ObjectStore, StoreError};
use crate::test_support::{local_deps, write_people, TestDestination, KEY};
use async_trait::async_trait;
use bytes::Bytes;
use sandbox::{Sandbox, SandboxConfig};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// A local store that counts the chunks read and not yet finished (their result not stored):
/// the chunks whose contacts are in memory.
struct Counting {
    inner: LocalStore,
    open: Mutex<std::collections::HashSet<String>>,
    most_open: AtomicUsize,
}

#[async_trait]
impl ObjectStore for Counting {
    async fn get(&self, key: &str) -> Result<Bytes, StoreError> {
        if key.contains("/chunks/") {
            let mut open = self.open.lock().unwrap();
            open.insert(key.rsplit('/').next().unwrap_or_default().to_string());
            self.most_open.fetch_max(open.len(), Ordering::SeqCst);
        }
        self.inner.get(key).await
    }

    async fn put(&self, key: &str, data: Bytes) -> Result<(), StoreError> {
        self.inner.put(key, data).await?;
        if key.contains("/results/") {
            let name = key.rsplit('/').next().unwrap_or_default();
            self.open.lock().unwrap().remove(name);
        }
        Ok(())
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        self.inner.list(prefix).await
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.inner.delete(key).await
    }

    async fn put_if_absent(&self, key: &str, data: Bytes) -> Result<bool, StoreError> {
        self.inner.put_if_absent(key, data).await
    }

    async fn delete_versions(&self, prefix: &str) -> Result<usize, StoreError> {
        self.inner.delete_versions(prefix).await
    }
}

/// `people` contacts of one segment, connected to a sandbox with no rate limit.
async fn destination(
    dir: &std::path::Path,
    store: Arc<Counting>,
    people: u32,
) -> (Sandbox, Deps, String) {
    let snapshot = dir.join("segment.csv");
    write_people(&snapshot, people).unwrap();
    let sandbox = Sandbox::start(SandboxConfig::with_key(KEY), 0)
        .await
        .unwrap();
    let deps = Deps {
        store,
        ..local_deps(dir, ClientSettings::default())
    };
    let dest = TestDestination::new(sandbox.base_url())
        .named("Members")
        .rate(10_000.0)
        .segment("Members", &snapshot)
        .create(&deps)
        .await
        .unwrap();
    (sandbox, deps, dest)
}

#[test]
fn enough_chunks_go_at_once_to_keep_the_requests_in_flight_busy_and_no_more() {
    for concurrency in [0, 1, 8, 9, 16, 64] {
        let chunks = chunks_at_once(concurrency);
        let slots = chunks * upload_chunk::REQUESTS_IN_FLIGHT;
        assert!(slots > concurrency, "{concurrency}: {chunks}");
        assert!(
            slots <= concurrency.max(1) + 2 * upload_chunk::REQUESTS_IN_FLIGHT,
            "{concurrency}: {chunks}"
        );
    }
}

#[tokio::test]
async fn an_export_of_many_chunks_holds_a_few_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Counting {
        inner: LocalStore::new(dir.path().join("data")),
        open: Mutex::default(),
        most_open: AtomicUsize::new(0),
    });
    let (_sandbox, deps, dest) = destination(dir.path(), store.clone(), 2_000).await;
    let options = Options {
        chunk_size: Some(50),
        ..Options::new(&dest)
    };
    let report = run(&deps, &options, &|_| {}).await.unwrap();
    assert_eq!(report.status, Status::Succeeded);
    // Chunks grow to 90 contacts at the default profile limit: 23 of them.
    assert_eq!((report.chunks, report.totals.sent), (23, 2_000));
    let most = store.most_open.load(Ordering::SeqCst);
    assert!(
        (1..=chunks_at_once(DEFAULT_CONCURRENCY)).contains(&most),
        "{most} chunks in memory at once"
    );
}
