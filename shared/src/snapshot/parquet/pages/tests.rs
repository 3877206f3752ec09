//! Page headers as writers encode them, and the ones that would make the decoder take more
//! memory than any real file needs.

use super::*;
use parquet::basic::GzipLevel;
use std::io::Write;

/// A page header in the Thrift compact encoding: type, sizes, and an empty data page header.
fn header(uncompressed: i32, compressed: i32) -> Vec<u8> {
    let zigzag = |n: i32| -> Vec<u8> {
        let mut v = ((n << 1) ^ (n >> 31)) as u32;
        let mut out = Vec::new();
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(b);
                return out;
            }
            out.push(b | 0x80);
        }
    };
    let mut out = vec![0x15];
    out.extend(zigzag(0));
    out.push(0x15);
    out.extend(zigzag(uncompressed));
    out.push(0x15);
    out.extend(zigzag(compressed));
    // Field 5, a struct holding num_values (field 1), then the end of both structs.
    out.extend([0x2c, 0x15, 0x02, 0x00, 0x00]);
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

#[test]
fn honest_pages_pass_and_their_sizes_add_up() {
    let page = gzip(b"hello hello hello");
    let mut chunk = header(17, page.len() as i32);
    chunk.extend(&page);
    let page = gzip(b"abcd");
    chunk.extend(header(4, page.len() as i32));
    chunk.extend(&page);
    let gz = Compression::GZIP(GzipLevel::default());
    assert_eq!(check(&chunk, gz), Ok(21));
}

#[test]
fn pages_that_claim_or_take_too_much_are_refused() {
    let gz = Compression::GZIP(GzipLevel::default());
    let huge = header(i32::MAX, 4);
    let err = check(&[huge, b"abcd".to_vec()].concat(), Compression::SNAPPY).unwrap_err();
    assert!(err.contains("more than the 64 MB a page may"), "{err}");

    let err = check(
        &[header(10, 4000), b"abcd".to_vec()].concat(),
        Compression::SNAPPY,
    )
    .unwrap_err();
    assert!(err.contains("longer than its column chunk"), "{err}");

    // A 10 MB gzip page whose header says 100 bytes: read no further than 101.
    let bomb = gzip(&vec![0u8; 10 << 20]);
    let chunk = [header(100, bomb.len() as i32), bomb].concat();
    let err = check(&chunk, gz).unwrap_err();
    assert!(
        err.contains("expands past the size its header claims"),
        "{err}"
    );

    let err = check(&[0x15, 0x80], Compression::SNAPPY).unwrap_err();
    assert!(err.contains("cut short"), "{err}");
    let err = check(&[0x00], Compression::SNAPPY).unwrap_err();
    assert!(err.contains("without its sizes"), "{err}");
    let deep: Vec<u8> = std::iter::repeat_n(0x1c, 100).collect();
    let err = check(&deep, Compression::SNAPPY).unwrap_err();
    assert!(
        err.contains("nested too deep") || err.contains("cut short"),
        "{err}"
    );
}
