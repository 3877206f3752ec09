//! How a segment's contacts are written in the baseline document: the bytes of [`Members`]
//! compressed as an LZ4 frame (with its content checksum) and written as one base64 text field of
//! the JSON document, after a tag naming the form and the bytes' size: `c2:{size}:{base64}`.
//! Both ways are streamed — compressed and encoded straight into the document, decoded and
//! decompressed straight into a buffer of the stated size — so neither holds the compressed bytes
//! beside the document and the contacts.
//!
//! Read too: the `c1:` form written before (one LZ4 block, its size first, in base64), and the
//! JSON object of address → fingerprint of older baselines. The next baseline written is `c2:`.

use super::members::Members;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use lz4_flex::frame::{BlockSize, FrameDecoder, FrameEncoder, FrameInfo};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Serializer;
use std::fmt;
use std::io::{self, Read, Write};

/// What starts the text of the compact form (and names its version).
const TAG: &str = "c2:";
/// The form written before: one LZ4 block, its size first.
const BLOCK_TAG: &str = "c1:";
/// LZ4 never expands data more than this: a stated size above it is damage, not data, and is
/// not allocated.
const MAX_RATIO: usize = 255;
const DAMAGED: &str = "the baseline's contacts are damaged";

/// Serde: contacts written compact.
pub(super) fn serialize<S: Serializer>(
    contacts: &Members,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    // Written straight into the document: no copy of the text is made first.
    serializer.collect_str(&Packed(contacts.as_bytes()))
}

/// Serde: contacts read compact, or as the object of address → fingerprint of older baselines.
pub(super) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Members, D::Error> {
    deserializer.deserialize_any(Contacts)
}

/// The compact text of some bytes: the tag, their size, then the base64 of their LZ4 frame.
struct Packed<'a>(&'a [u8]);

impl fmt::Display for Packed<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{TAG}{}:", self.0.len())?;
        let text = base64::write::EncoderWriter::new(Text(f), &STANDARD);
        let info = FrameInfo::new()
            .block_size(BlockSize::Max4MB)
            .content_checksum(true);
        let mut frame = FrameEncoder::with_frame_info(info, text);
        frame.write_all(self.0).map_err(|_| fmt::Error)?;
        let mut text = frame.finish().map_err(|_| fmt::Error)?;
        text.finish().map_err(|_| fmt::Error)?;
        Ok(())
    }
}

/// Base64 output handed on to a formatter (it is ASCII text).
struct Text<'a, 'b>(&'a mut fmt::Formatter<'b>);

impl Write for Text<'_, '_> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let text = std::str::from_utf8(bytes).map_err(|_| io::ErrorKind::InvalidData)?;
        self.0
            .write_str(text)
            .map_err(|_| io::Error::other("the document could not be written"))?;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The bytes of the compact text, or why they cannot be read.
fn unpack(text: &str) -> Result<Vec<u8>, &'static str> {
    if let Some(rest) = text.strip_prefix(TAG) {
        unpack_frame(rest)
    } else if let Some(body) = text.strip_prefix(BLOCK_TAG) {
        unpack_block(body)
    } else {
        Err("the baseline's contacts are in an unknown form")
    }
}

/// `{size}:{base64 of an LZ4 frame}`, decoded and decompressed as it is read.
fn unpack_frame(rest: &str) -> Result<Vec<u8>, &'static str> {
    let (size, body) = rest.split_once(':').ok_or(DAMAGED)?;
    let size: usize = size.parse().map_err(|_| DAMAGED)?;
    if size > body.len().saturating_mul(MAX_RATIO) {
        return Err(DAMAGED);
    }
    let mut bytes = Vec::with_capacity(size);
    let frame = FrameDecoder::new(base64::read::DecoderReader::new(body.as_bytes(), &STANDARD));
    // One byte more than stated is asked for, so that the frame is read to its end (and its
    // checksum checked) and a longer one is seen.
    frame
        .take(size as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|_| DAMAGED)?;
    if bytes.len() != size {
        return Err(DAMAGED);
    }
    Ok(bytes)
}

/// The `c1:` form: base64 of one LZ4 block, its size first.
fn unpack_block(body: &str) -> Result<Vec<u8>, &'static str> {
    let packed = STANDARD.decode(body).map_err(|_| DAMAGED)?;
    let stated = packed
        .get(..4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .ok_or(DAMAGED)?;
    if stated > packed.len().saturating_mul(MAX_RATIO) {
        return Err(DAMAGED);
    }
    lz4_flex::decompress_size_prepended(&packed).map_err(|_| DAMAGED)
}

struct Contacts;

impl<'de> Visitor<'de> for Contacts {
    type Value = Members;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a baseline's contacts")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        let bytes = unpack(text).map_err(E::custom)?;
        Members::from_bytes(bytes).map_err(E::custom)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut contacts = Vec::with_capacity(map.size_hint().unwrap_or(0).min(1 << 20));
        while let Some((email, fp)) = map.next_entry::<String, u64>()? {
            contacts.push((email, fp));
        }
        Ok(contacts.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Holder {
        #[serde(with = "super")]
        contacts: Members,
    }

    fn contacts(n: u64) -> Members {
        (0..n)
            .map(|i| (format!("person{i}@example.com"), i.wrapping_mul(0x9e37)))
            .collect()
    }

    #[test]
    fn contacts_round_trip_compressed() {
        let holder = Holder {
            contacts: contacts(1000),
        };
        let json = serde_json::to_string(&holder).unwrap();
        let size = holder.contacts.as_bytes().len();
        assert!(json.contains(&format!("\"c2:{size}:")), "{}", &json[..40]);
        assert!(!json.contains("example.com"), "addresses are compressed");
        assert!(json.len() < size, "{} of {size} bytes", json.len());
        assert_eq!(serde_json::from_str::<Holder>(&json).unwrap(), holder);
        let empty = Holder {
            contacts: Members::default(),
        };
        let json = serde_json::to_string(&empty).unwrap();
        assert_eq!(serde_json::from_str::<Holder>(&json).unwrap(), empty);
    }

    #[test]
    fn the_block_form_written_before_is_read() {
        let members = contacts(300);
        let packed = lz4_flex::compress_prepend_size(members.as_bytes());
        let json = format!(
            r#"{{"contacts": "{BLOCK_TAG}{}"}}"#,
            STANDARD.encode(&packed)
        );
        let read: Holder = serde_json::from_str(&json).unwrap();
        assert_eq!(read.contacts, members);
    }

    #[test]
    fn an_older_baseline_object_is_read() {
        let read: Holder =
            serde_json::from_str(r#"{"contacts": {"a@x.io": 7, "b@x.io": 8}}"#).unwrap();
        assert_eq!(
            read.contacts.to_map(),
            std::collections::HashMap::from([("a@x.io".into(), 7), ("b@x.io".into(), 8)])
        );
    }

    #[test]
    fn damaged_contacts_are_an_error_not_a_panic() {
        for text in [
            r#""c1:!!""#,
            r#""c1:AAAA""#,
            r#""other""#,
            r#""c2:5""#,
            r#""c2:x:AAAA""#,
        ] {
            let json = format!(r#"{{"contacts": {text}}}"#);
            assert!(serde_json::from_str::<Holder>(&json).is_err(), "{text}");
        }
        // A stated size of 4 GB ahead of a few bytes is refused before anything is allocated.
        let mut packed = u32::MAX.to_le_bytes().to_vec();
        packed.extend_from_slice(&[0x10, b'x']);
        let text = format!("{BLOCK_TAG}{}", STANDARD.encode(&packed));
        assert_eq!(unpack(&text), Err(DAMAGED));
        assert_eq!(unpack(&format!("{TAG}{}:AAAA", usize::MAX)), Err(DAMAGED));
        // A frame cut short, one byte changed, or a size that is not the frame's own.
        let good = Packed(contacts(200).as_bytes()).to_string();
        let (head, body) = good.rsplit_once(':').unwrap();
        let size: usize = head[TAG.len()..].parse().unwrap();
        assert_eq!(unpack(&good).map(|b| b.len()), Ok(size));
        let cut = format!("{head}:{}", &body[..body.len() / 2]);
        let mut bytes = STANDARD.decode(body).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0x55;
        let changed = format!("{head}:{}", STANDARD.encode(&bytes));
        for (what, text) in [
            ("cut", cut),
            ("changed", changed),
            ("longer", format!("{TAG}{}:{body}", size - 1)),
            ("shorter", format!("{TAG}{}:{body}", size + 1)),
        ] {
            assert_eq!(unpack(&text), Err(DAMAGED), "{what}");
        }
    }
}
