//! One column chunk read a batch of rows at a time, each value written as text by the rules of
//! the `kinds` module; a null writes nothing (an empty cell).

use super::contain::contained;
use super::kinds::{Kind, Unit};
use crate::snapshot::csv::borrowed_text;
use chrono::NaiveTime;
use parquet::basic::Type as Physical;
use parquet::column::page::PageReader;
use parquet::column::reader::{get_column_reader, ColumnReader};
use parquet::data_type::{ByteArray, FixedLenByteArray, Int96};
use parquet::errors::ParquetError;
use parquet::schema::types::ColumnDescPtr;
use std::fmt::Write;

/// The values read of one column, by physical type.
enum Values {
    Bool(Vec<bool>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    I96(Vec<Int96>),
    F32(Vec<f32>),
    F64(Vec<f64>),
    Bytes(Vec<ByteArray>),
    Fixed(Vec<FixedLenByteArray>),
}

/// A column chunk being read, and the rows of the last [`Cursor::load`] being written.
pub struct Cursor {
    kind: Kind,
    reader: ColumnReader,
    values: Values,
    defs: Vec<i16>,
    max_def: i16,
    /// The next row and the next value of the loaded ones.
    row: usize,
    value: usize,
}

impl Cursor {
    /// Reads the column `column` (of kind `kind`, checked to fit its physical type) from `pages`.
    pub fn new(column: ColumnDescPtr, kind: Kind, pages: Box<dyn PageReader>) -> Self {
        let max_def = column.max_def_level();
        let values = match column.physical_type() {
            Physical::BOOLEAN => Values::Bool(Vec::new()),
            Physical::INT32 => Values::I32(Vec::new()),
            Physical::INT64 => Values::I64(Vec::new()),
            Physical::INT96 => Values::I96(Vec::new()),
            Physical::FLOAT => Values::F32(Vec::new()),
            Physical::DOUBLE => Values::F64(Vec::new()),
            Physical::BYTE_ARRAY => Values::Bytes(Vec::new()),
            Physical::FIXED_LEN_BYTE_ARRAY => Values::Fixed(Vec::new()),
        };
        Self {
            kind,
            reader: get_column_reader(column, pages),
            values,
            defs: Vec::new(),
            max_def,
            row: 0,
            value: 0,
        }
    }

    /// Reads the next `rows` rows (fewer where the chunk ends); returns how many were read.
    pub fn load(&mut self, rows: usize) -> Result<usize, ParquetError> {
        self.defs.clear();
        self.row = 0;
        self.value = 0;
        let defs = (self.max_def > 0).then_some(&mut self.defs);
        // The crate's decoder may panic on malformed pages: contained, it is this file's error.
        macro_rules! read {
            ($reader:expr, $values:expr) => {{
                $values.clear();
                contained(|| $reader.read_records(rows, defs, None, $values))?.0
            }};
        }
        Ok(match (&mut self.reader, &mut self.values) {
            (ColumnReader::BoolColumnReader(r), Values::Bool(v)) => read!(r, v),
            (ColumnReader::Int32ColumnReader(r), Values::I32(v)) => read!(r, v),
            (ColumnReader::Int64ColumnReader(r), Values::I64(v)) => read!(r, v),
            (ColumnReader::Int96ColumnReader(r), Values::I96(v)) => read!(r, v),
            (ColumnReader::FloatColumnReader(r), Values::F32(v)) => read!(r, v),
            (ColumnReader::DoubleColumnReader(r), Values::F64(v)) => read!(r, v),
            (ColumnReader::ByteArrayColumnReader(r), Values::Bytes(v)) => read!(r, v),
            (ColumnReader::FixedLenByteArrayColumnReader(r), Values::Fixed(v)) => read!(r, v),
            _ => {
                return Err(ParquetError::General(
                    "column reader of another type".into(),
                ))
            }
        })
    }

    /// Writes the next loaded row's value as text into `out` (nothing for a null).
    pub fn write_next(&mut self, out: &mut String) -> Result<(), String> {
        let row = self.row;
        self.row += 1;
        if self.max_def > 0 && self.defs.get(row).is_none_or(|d| *d < self.max_def) {
            return Ok(());
        }
        let at = self.value;
        self.value += 1;
        let missing = || "a column holds fewer values than its rows".to_string();
        match &self.values {
            Values::Bool(v) => out.push_str(if *v.get(at).ok_or_else(missing)? {
                "true"
            } else {
                "false"
            }),
            Values::I32(v) => write_int(
                self.kind,
                i64::from(*v.get(at).ok_or_else(missing)?),
                true,
                out,
            ),
            Values::I64(v) => write_int(self.kind, *v.get(at).ok_or_else(missing)?, false, out),
            Values::I96(v) => {
                let data = v.get(at).ok_or_else(missing)?.data();
                let nanos_of_day = i64::from(data[0]) | (i64::from(data[1]) << 32);
                let days = i64::from(data[2]) - 2_440_588;
                let nanos = i128::from(days) * 86_400_000_000_000 + i128::from(nanos_of_day);
                write_timestamp(nanos, Unit::Nanos, out);
            }
            Values::F32(v) => write!(out, "{}", v.get(at).ok_or_else(missing)?).unwrap_or(()),
            Values::F64(v) => write!(out, "{}", v.get(at).ok_or_else(missing)?).unwrap_or(()),
            Values::Bytes(v) => self.write_bytes(v.get(at).ok_or_else(missing)?.data(), out)?,
            Values::Fixed(v) => self.write_bytes(v.get(at).ok_or_else(missing)?.data(), out)?,
        }
        Ok(())
    }

    fn write_bytes(&self, bytes: &[u8], out: &mut String) -> Result<(), String> {
        match self.kind {
            Kind::Decimal { scale } => {
                if bytes.is_empty() || bytes.len() > 16 {
                    return Err(format!("a decimal of {} bytes", bytes.len()));
                }
                // Big-endian two's complement, sign-extended.
                let mut unscaled: i128 = if bytes[0] & 0x80 != 0 { -1 } else { 0 };
                for b in bytes {
                    unscaled = (unscaled << 8) | i128::from(*b);
                }
                write_decimal(unscaled, scale, out);
            }
            Kind::Uuid if bytes.len() == 16 => {
                for (i, b) in bytes.iter().enumerate() {
                    if matches!(i, 4 | 6 | 8 | 10) {
                        out.push('-');
                    }
                    write!(out, "{b:02x}").unwrap_or(());
                }
            }
            _ => out.push_str(&borrowed_text(bytes)),
        }
        Ok(())
    }
}

/// An integer of kind `kind` stored as 32 (`narrow`) or 64 bits.
fn write_int(kind: Kind, value: i64, narrow: bool, out: &mut String) {
    let mut digits = itoa::Buffer::new();
    match kind {
        Kind::UnsignedInt if narrow => out.push_str(digits.format(value as u32)),
        Kind::UnsignedInt => out.push_str(digits.format(value as u64)),
        Kind::Decimal { scale } => write_decimal(i128::from(value), scale, out),
        Kind::Date => write_date(value, out),
        Kind::Timestamp(unit) => write_timestamp(i128::from(value), unit, out),
        Kind::Time(unit) => {
            let per = unit.per_second();
            let seconds = u32::try_from(value.div_euclid(per)).unwrap_or(u32::MAX);
            let nanos = (value.rem_euclid(per) * (1_000_000_000 / per)) as u32;
            match NaiveTime::from_num_seconds_from_midnight_opt(seconds, nanos) {
                Some(time) => write!(out, "{}", time.format("%H:%M:%S%.f")),
                None => write!(out, "time {value}"),
            }
            .unwrap_or(());
        }
        _ => out.push_str(digits.format(value)),
    }
}

/// The year, month and day `days` after 1970-01-01 (proleptic Gregorian; Howard Hinnant's
/// `civil_from_days`).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// `n` as exactly `width` digits (`n` is below 10^width).
fn push_digits(out: &mut String, n: u32, width: usize) {
    let mut buf = [b'0'; 9];
    let mut n = n;
    for slot in buf[..width].iter_mut().rev() {
        *slot = b'0' + (n % 10) as u8;
        n /= 10;
    }
    out.push_str(std::str::from_utf8(&buf[..width]).unwrap_or_default());
}

/// `YYYY-MM-DD` of the date `days` after 1970-01-01, as a CSV cell holds it.
fn write_date(days: i64, out: &mut String) {
    match civil(days) {
        (year @ 0..=9999, month, day) => {
            push_digits(out, year as u32, 4);
            out.push('-');
            push_digits(out, month, 2);
            out.push('-');
            push_digits(out, day, 2);
        }
        // Beyond any date a field takes: text no date field reads.
        _ => write!(out, "day {days} from 1970-01-01").unwrap_or(()),
    }
}

/// `unscaled` × 10^-`scale`, with every digit of the scale.
fn write_decimal(unscaled: i128, scale: u32, out: &mut String) {
    if unscaled < 0 {
        out.push('-');
    }
    let mut buffer = itoa::Buffer::new();
    let digits = buffer.format(unscaled.unsigned_abs());
    let scale = scale as usize;
    if scale == 0 {
        out.push_str(digits);
        return;
    }
    if digits.len() <= scale {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', scale - digits.len()));
        out.push_str(digits);
    } else {
        let (whole, fraction) = digits.split_at(digits.len() - scale);
        out.push_str(whole);
        out.push('.');
        out.push_str(fraction);
    }
}

/// A point in time `value` units after 1970 as RFC 3339 in UTC (`2024-03-15T10:00:00Z`), its
/// fraction only when there is one, in milli-, micro- or nanoseconds as it needs.
fn write_timestamp(value: i128, unit: Unit, out: &mut String) {
    let per = i128::from(unit.per_second());
    let seconds = value.div_euclid(per);
    let nanos = (value.rem_euclid(per) * (1_000_000_000 / per)) as u32;
    let days = seconds.div_euclid(86_400);
    let of_day = seconds.rem_euclid(86_400) as u32;
    let Some((year @ 0..=9999, month, day)) = i64::try_from(days).ok().map(civil) else {
        write!(out, "timestamp {value}").unwrap_or(());
        return;
    };
    push_digits(out, year as u32, 4);
    out.push('-');
    push_digits(out, month, 2);
    out.push('-');
    push_digits(out, day, 2);
    out.push('T');
    push_digits(out, of_day / 3600, 2);
    out.push(':');
    push_digits(out, of_day / 60 % 60, 2);
    out.push(':');
    push_digits(out, of_day % 60, 2);
    match nanos {
        0 => {}
        n if n % 1_000_000 == 0 => {
            out.push('.');
            push_digits(out, n / 1_000_000, 3);
        }
        n if n % 1000 == 0 => {
            out.push('.');
            push_digits(out, n / 1000, 6);
        }
        n => {
            out.push('.');
            push_digits(out, n, 9);
        }
    }
    out.push('Z');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(f: impl Fn(&mut String)) -> String {
        let mut out = String::new();
        f(&mut out);
        out
    }

    #[test]
    fn dates_and_timestamps_are_written_as_chrono_writes_them() {
        use chrono::{DateTime, NaiveDate, SecondsFormat};
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
        for days in (-719_528..2_932_897).step_by(997) {
            let expected = (epoch + chrono::Duration::days(days))
                .format("%Y-%m-%d")
                .to_string();
            assert_eq!(text(|o| write_date(days, o)), expected, "{days}");
        }
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..20_000 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            let nanos = state as i64 / 1_000_000_000 * 1_000_000_000
                + [0, 123_000_000, 456_000, 7][(state % 4) as usize];
            let time = DateTime::from_timestamp(
                nanos.div_euclid(1_000_000_000),
                nanos.rem_euclid(1_000_000_000) as u32,
            )
            .unwrap();
            let expected = time.to_rfc3339_opts(SecondsFormat::AutoSi, true);
            let got = text(|o| write_timestamp(i128::from(nanos), Unit::Nanos, o));
            assert_eq!(got, expected, "{nanos}");
        }
    }

    #[test]
    fn decimals_keep_every_digit_of_their_scale() {
        for (unscaled, scale, expected) in [
            (1250, 2, "12.50"),
            (-1250, 2, "-12.50"),
            (5, 3, "0.005"),
            (-5, 3, "-0.005"),
            (1200, 0, "1200"),
            (0, 2, "0.00"),
            (i128::MAX, 38, "1.70141183460469231731687303715884105727"),
        ] {
            assert_eq!(text(|o| write_decimal(unscaled, scale, o)), expected);
        }
    }

    #[test]
    fn dates_and_times_are_written_as_csv_cells_would_be() {
        assert_eq!(
            text(|o| write_int(Kind::Date, 19_797, true, o)),
            "2024-03-15"
        );
        assert_eq!(text(|o| write_int(Kind::Date, -1, true, o)), "1969-12-31");
        assert_eq!(
            text(|o| write_int(Kind::Date, i64::from(i32::MAX), true, o)),
            "day 2147483647 from 1970-01-01"
        );
        let micros = 1_710_496_800_000_000i64;
        assert_eq!(
            text(|o| write_int(Kind::Timestamp(Unit::Micros), micros, false, o)),
            "2024-03-15T10:00:00Z"
        );
        assert_eq!(
            text(|o| write_int(Kind::Timestamp(Unit::Millis), 1_710_496_800_123, false, o)),
            "2024-03-15T10:00:00.123Z"
        );
        assert_eq!(
            text(|o| write_int(Kind::Timestamp(Unit::Nanos), i64::MIN, false, o)),
            "1677-09-21T00:12:43.145224192Z"
        );
        assert_eq!(
            text(|o| write_int(Kind::Time(Unit::Millis), 3_723_004, true, o)),
            "01:02:03.004"
        );
        assert_eq!(
            text(|o| write_int(Kind::UnsignedInt, -1, true, o)),
            "4294967295"
        );
        assert_eq!(text(|o| write_int(Kind::Int, -42, false, o)), "-42");
    }
}
