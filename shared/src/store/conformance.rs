//! The behaviour every `ObjectStore` adapter must show; run by each adapter's tests.

use super::{ObjectStore, StoreError};
use bytes::Bytes;

/// Exercises an empty store; panics with a message naming the broken rule.
pub async fn run(store: &dyn ObjectStore) {
    let missing = store.get("conformance/missing.json").await;
    assert!(
        matches!(missing, Err(StoreError::NotFound(_))),
        "get of a missing key is NotFound"
    );
    assert!(!store.exists("conformance/missing.json").await.unwrap());

    store
        .put("conformance/a/1.json", Bytes::from_static(b"one"))
        .await
        .unwrap();
    store
        .put("conformance/a/2.json", Bytes::from_static(b"two"))
        .await
        .unwrap();
    store
        .put("conformance/b/1.json", Bytes::from_static(b"three"))
        .await
        .unwrap();
    assert_eq!(
        store.get("conformance/a/1.json").await.unwrap(),
        Bytes::from_static(b"one")
    );
    assert!(store.exists("conformance/a/2.json").await.unwrap());

    store
        .put("conformance/a/1.json", Bytes::from_static(b"uno"))
        .await
        .unwrap();
    assert_eq!(
        store.get("conformance/a/1.json").await.unwrap(),
        Bytes::from_static(b"uno"),
        "put overwrites"
    );

    let big = Bytes::from(vec![7u8; 3 * 1024 * 1024]);
    store.put("conformance/big.bin", big.clone()).await.unwrap();
    assert_eq!(
        store.get("conformance/big.bin").await.unwrap(),
        big,
        "large objects round-trip"
    );

    assert_eq!(
        store.list("conformance/a/").await.unwrap(),
        ["conformance/a/1.json", "conformance/a/2.json"],
        "list returns the keys under a prefix, sorted"
    );
    assert_eq!(
        store.list("conformance/b").await.unwrap(),
        ["conformance/b/1.json", "conformance/big.bin"],
        "a prefix need not end at a folder"
    );
    assert!(store.list("conformance/none/").await.unwrap().is_empty());

    store.delete("conformance/a/1.json").await.unwrap();
    store.delete("conformance/a/1.json").await.unwrap();
    assert!(
        !store.exists("conformance/a/1.json").await.unwrap(),
        "delete removes"
    );

    assert!(store
        .put_if_absent("conformance/lock.json", Bytes::from_static(b"first"))
        .await
        .unwrap());
    assert!(!store
        .put_if_absent("conformance/lock.json", Bytes::from_static(b"second"))
        .await
        .unwrap());
    assert_eq!(
        store.get("conformance/lock.json").await.unwrap(),
        Bytes::from_static(b"first"),
        "put_if_absent keeps the first"
    );
    store.delete("conformance/lock.json").await.unwrap();
    assert!(
        store
            .put_if_absent("conformance/lock.json", Bytes::from_static(b"third"))
            .await
            .unwrap(),
        "free again after delete"
    );

    for bad in ["", "/abs", "a/../b", "a//b", "a/./b"] {
        assert!(
            matches!(
                store.put(bad, Bytes::new()).await,
                Err(StoreError::InvalidKey(_))
            ),
            "key {bad:?} is refused"
        );
    }
    for key in store.list("conformance/").await.unwrap() {
        store.delete(&key).await.unwrap();
    }
}
