//! Tests of the compact contacts: lookups, the merge, damaged bytes.

use super::*;

fn members(n: u64) -> Members {
    (0..n)
        .map(|i| (format!("person{i}@example.com"), i.wrapping_mul(0x9e37)))
        .collect()
}

#[test]
fn contacts_are_found_by_address_and_by_hash() {
    for n in [0, 1, 2, 3, 1000] {
        let m = members(n);
        assert_eq!(m.len(), n as usize);
        let index = m.index();
        for i in 0..n {
            let email = format!("person{i}@example.com");
            assert_eq!(m.get(&email), Some(i.wrapping_mul(0x9e37)), "{n}: {email}");
            let hash = crate::baseline::key_hash(&email);
            assert_eq!(index.position(hash), m.position(hash));
        }
        assert_eq!(m.get("nobody@example.com"), None);
        assert_eq!(
            index.position(crate::baseline::key_hash("nobody@x.io")),
            None
        );
        assert_eq!(m.to_map().len(), n as usize);
        assert_eq!(Members::from(m.to_map()), m);
    }
}

#[test]
fn records_are_sorted_and_sixteen_bytes() {
    let m = members(1000);
    let hashes: Vec<u64> = (0..1000).map(|i| m.hash_at(i)).collect();
    assert!(hashes.windows(2).all(|w| w[0] < w[1]));
    let addresses: usize = m.keys().map(|e| e.len() + 2).sum();
    assert_eq!(m.as_bytes().len(), 8 + 1000 * RECORD + addresses);
    assert_eq!(Members::from_bytes(m.as_bytes().to_vec()).unwrap(), m);
}

#[test]
fn the_first_of_two_entries_with_one_hash_is_kept() {
    let h = crate::baseline::key_hash("a@x.io");
    let m = Members::build(vec![(h, 1, "a@x.io"), (h, 2, "a@x.io")]);
    assert_eq!((m.len(), m.get("a@x.io")), (1, Some(1)));
    // The same through a merge (which collecting uses) and through collecting.
    let b = crate::baseline::key_hash("b@x.io");
    let merged = Members::default().rebuilt(
        |_| None,
        vec![
            (h, 1, "a@x.io".into()),
            (b, 5, "b@x.io".into()),
            (h, 2, "a@x.io".into()),
        ],
    );
    assert_eq!((merged.len(), merged.get("a@x.io")), (2, Some(1)));
    assert!(Members::from_bytes(merged.as_bytes().to_vec()).is_ok());
    let collected: Members = [("a@x.io".to_string(), 3), ("a@x.io".to_string(), 4)]
        .into_iter()
        .collect();
    assert_eq!((collected.len(), collected.get("a@x.io")), (1, Some(3)));
}

#[test]
fn a_rebuilt_set_keeps_what_it_is_told_and_adds_the_rest() {
    let m = members(100);
    let odd: std::collections::HashMap<String, u64> = (0..100)
        .filter(|i| i % 2 == 1)
        .map(|i| (format!("person{i}@example.com"), 7))
        .collect();
    let kept = m.rebuilt(
        |i| odd.get(m.keys().nth(i).unwrap()).copied(),
        vec![
            (
                crate::baseline::key_hash("new@x.io"),
                9,
                "new@x.io".to_string(),
            ),
            (
                crate::baseline::key_hash("new2@x.io"),
                8,
                "new2@x.io".to_string(),
            ),
        ],
    );
    let mut expected = odd.clone();
    expected.insert("new@x.io".into(), 9);
    expected.insert("new2@x.io".into(), 8);
    assert_eq!(kept.to_map(), expected);
    assert_eq!(kept, Members::from(expected.clone()));
    assert!(Members::from_bytes(kept.as_bytes().to_vec()).is_ok());
    // An added contact the set already holds: the kept record wins; one not kept is added.
    let twice = kept.rebuilt(
        |i| Some(kept.fingerprint_at(i)),
        vec![(
            crate::baseline::key_hash("new@x.io"),
            1,
            "new@x.io".to_string(),
        )],
    );
    assert_eq!(twice, kept);
    let without = kept.rebuilt(
        |i| {
            (kept.hash_at(i) != crate::baseline::key_hash("new@x.io"))
                .then(|| kept.fingerprint_at(i))
        },
        vec![(
            crate::baseline::key_hash("new@x.io"),
            1,
            "new@x.io".to_string(),
        )],
    );
    expected.insert("new@x.io".into(), 1);
    assert_eq!(without, Members::from(expected));
}

#[test]
fn damaged_bytes_are_an_error_not_a_panic() {
    let good = members(10).as_bytes().to_vec();
    for cut in [0, 7, 8, 50, good.len() - 1] {
        assert!(
            Members::from_bytes(good[..cut].to_vec()).is_err(),
            "cut at {cut}"
        );
    }
    let mut huge = good.clone();
    huge[..8].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(Members::from_bytes(huge).is_err());
    let mut longer = good.clone();
    longer.push(0);
    assert!(
        Members::from_bytes(longer).is_err(),
        "bytes after the last address"
    );
    let mut unsorted = good.clone();
    let (first, second) = (good[8..16].to_vec(), good[8 + RECORD..16 + RECORD].to_vec());
    unsorted[8..16].copy_from_slice(&second);
    unsorted[8 + RECORD..16 + RECORD].copy_from_slice(&first);
    assert!(
        Members::from_bytes(unsorted).is_err(),
        "records out of order"
    );
}
