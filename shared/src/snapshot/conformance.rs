//! The behaviour every `SnapshotReader` adapter must show: opening, telling files from folders
//! and missing sources, listing a prefix at any depth in name order with sizes, and ranged
//! reads. Run by each adapter's tests over a place of its own (a temporary folder; a bucket
//! prefix on moto).

use super::{Found, Listed, SnapshotReader};
use crate::error::ErrorKind;
use std::io::Read;

/// The objects the suite writes under its root, and their bytes.
pub fn objects() -> Vec<(&'static str, Vec<u8>)> {
    let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    vec![
        ("a.csv", b"email\na@x.io\n".to_vec()),
        ("ab.csv", b"email\nb@x.io\n".to_vec()),
        ("sub/b.csv", b"email\nc@x.io\n".to_vec()),
        ("sub/deeper/c.bin", big),
        ("sub/_SUCCESS", Vec::new()),
        ("subway.csv", b"email\n".to_vec()),
    ]
}

/// Checks `reader` over the objects of [`objects`], written under `root` (a folder or prefix
/// ending in `/`) by `put(relative name, bytes)`. Panics naming the broken rule.
pub fn run(reader: &dyn SnapshotReader, root: &str, put: &dyn Fn(&str, &[u8])) {
    let objects = objects();
    for (name, bytes) in &objects {
        put(name, bytes);
    }
    let at = |name: &str| format!("{root}{name}");
    let size = |name: &str| objects.iter().find(|(n, _)| *n == name).unwrap().1.len() as u64;
    let listed = |names: &[&str]| -> Vec<Listed> {
        names
            .iter()
            .map(|n| Listed {
                source: at(n),
                size: size(n),
            })
            .collect()
    };

    let mut text = String::new();
    reader
        .open(&at("sub/b.csv"))
        .expect("open an object")
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(text, "email\nc@x.io\n", "open streams the whole object");
    let missing = reader
        .open(&at("nope.csv"))
        .err()
        .expect("a missing object");
    assert_eq!(missing.kind(), ErrorKind::InvalidInput, "{missing}");
    assert!(missing.message().contains("does not exist"), "{missing}");
    assert!(
        missing.is_missing(),
        "a missing object is told apart: {missing}"
    );

    assert_eq!(
        reader.stat(&at("a.csv")).unwrap(),
        Found::File { size: Some(13) },
        "stat gives an object's size"
    );
    assert_eq!(
        reader.stat(&at("sub/_SUCCESS")).unwrap(),
        Found::File { size: Some(0) },
        "an empty object is an object"
    );
    assert_eq!(
        reader.stat(&at("sub")).unwrap(),
        Found::Folder,
        "a name with objects below it is a folder"
    );
    assert_eq!(reader.stat(&at("su")).unwrap(), Found::Missing);
    assert_eq!(reader.stat(&at("nope.csv")).unwrap(), Found::Missing);

    assert_eq!(
        reader.list(&at("sub/")).unwrap(),
        listed(&["sub/_SUCCESS", "sub/b.csv", "sub/deeper/c.bin"]),
        "a folder lists everything below it, at any depth, in name order"
    );
    assert_eq!(
        reader.list(&at("a")).unwrap(),
        listed(&["a.csv", "ab.csv"]),
        "a prefix need not end at a folder"
    );
    assert_eq!(
        reader.list(&at("sub")).unwrap(),
        listed(&[
            "sub/_SUCCESS",
            "sub/b.csv",
            "sub/deeper/c.bin",
            "subway.csv"
        ]),
    );
    assert!(
        reader.list(&at("none/")).unwrap().is_empty(),
        "an empty prefix lists nothing, without an error"
    );

    let big = &objects
        .iter()
        .find(|(n, _)| *n == "sub/deeper/c.bin")
        .unwrap()
        .1;
    let source = at("sub/deeper/c.bin");
    assert_eq!(
        reader.read_range(&source, 1000, 5000).unwrap(),
        big[1000..6000],
        "a range in the middle"
    );
    let end = big.len() as u64;
    assert_eq!(
        reader.read_range(&source, end - 8, 8).unwrap(),
        big[big.len() - 8..],
        "the last bytes (a Parquet footer)"
    );
    let past = reader
        .read_range(&source, end - 8, 16)
        .expect_err("past the end");
    assert_eq!(past.kind(), ErrorKind::InvalidInput, "{past}");
    let gone = reader.read_range(&at("nope.bin"), 0, 4).err().unwrap();
    assert!(gone.message().contains("does not exist"), "{gone}");
    assert!(gone.is_missing(), "{gone}");
}
