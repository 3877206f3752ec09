//! A wide profile table, as a CDP's unified profiles or a warehouse's customer table holds
//! them: the ten columns of [`crate::data`]'s snapshots (the same values, profile for profile,
//! and the same two overlapping segments) followed by fifty attributes ([`ATTRIBUTES`]) — 17
//! measures (counts, amounts of money with cents, scores), 9 flags, 4 dates and 2 timestamps,
//! 14 short strings (codes, an E.164 phone number, postal codes, picks of a few values) and 4
//! longer ones (a user agent of about 120 characters, a list of interests, and two free-text
//! fields, a service note and a review, empty for most profiles). A row is about 620 bytes of
//! CSV, so 1,000,000 profiles (1.1 M rows) make 0.69 GB of CSV, and 0.14 GB as Snappy Parquet.
//!
//! The attributes' values come from a hash of the profile and the column, so they are the same
//! on every run and compress as real columns do: low-cardinality ones well (dictionaries), the
//! measures and the text less. A cell holding a comma is quoted; none holds a quote or a line end.

use crate::data::{self, SEGMENTS};
use shared::snapshot::parquet::write::ColumnType;
use std::fmt::Write as _;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::LazyLock;

/// How an attribute's values are made from a random number of its profile.
#[derive(Debug, Clone, Copy)]
enum Values {
    /// A count below `max`, most of them small; empty one profile in `empty_in` (0: never).
    Count { max: u64, empty_in: u64 },
    /// An amount below `max` with cents, most of them small.
    Money { max: u64 },
    /// A score in [0, 1) with four digits.
    Score,
    /// `true` for `percent` % of the profiles.
    Flag { percent: u64 },
    /// A day of the `years` years from `from` (`YYYY-MM-DD`); empty one profile in `empty_in`.
    Day {
        from: u64,
        years: u64,
        empty_in: u64,
    },
    /// An instant of 2025, in RFC 3339 (UTC).
    Instant,
    /// One of the `|`-separated values.
    Pick(&'static str),
    /// An E.164 phone number (`+` and 11 digits).
    Phone,
    /// Five digits.
    Postal,
    /// `prefix` and four digits below `count`.
    Code { prefix: &'static str, count: u64 },
    /// `min..=max` words of [`WORDS`]; empty for `empty` % of the profiles.
    Prose { min: u64, max: u64, empty: u64 },
    /// Two to six of [`INTERESTS`], separated by `;`.
    Interests,
}

const fn count(max: u64, empty_in: u64) -> Values {
    Values::Count { max, empty_in }
}

const fn day(from: u64, years: u64, empty_in: u64) -> Values {
    Values::Day {
        from,
        years,
        empty_in,
    }
}

const fn prose(min: u64, max: u64, empty: u64) -> Values {
    Values::Prose { min, max, empty }
}

const fn code(prefix: &'static str, count: u64) -> Values {
    Values::Code { prefix, count }
}

impl Values {
    /// The column type a warehouse gives them.
    fn column_type(self) -> ColumnType {
        match self {
            Values::Count { .. } => ColumnType::Int64,
            Values::Money { .. } => ColumnType::Decimal {
                precision: 12,
                scale: 2,
            },
            Values::Score => ColumnType::Double,
            Values::Flag { .. } => ColumnType::Bool,
            Values::Day { .. } => ColumnType::Date,
            Values::Instant => ColumnType::Timestamp,
            _ => ColumnType::Text,
        }
    }

    /// The words or values they are made of, when they are.
    fn choices(self) -> Vec<&'static str> {
        match self {
            Values::Pick(values) => values.split('|').collect(),
            Values::Prose { .. } => WORDS.split(' ').collect(),
            Values::Interests => INTERESTS.split(' ').collect(),
            _ => Vec::new(),
        }
    }

    /// Appends the value for random number `r` to `out`, of `choices` (see [`Values::choices`]).
    fn write(self, r: u64, choices: &[&str], out: &mut String) {
        // Two independent parts of `r`, and their product for the values that are mostly small.
        let (low, high) = (r & 0xffff_ffff, r >> 32);
        let skewed = |max: u64| (low % max) * (high % max) / max;
        let empty = |one_in: u64| one_in != 0 && r.is_multiple_of(one_in);
        let choice = |k: u64| choices[(k % choices.len() as u64) as usize];
        let _ = match self {
            Values::Count { empty_in, .. } | Values::Day { empty_in, .. } if empty(empty_in) => {
                Ok(())
            }
            Values::Count { max, .. } => write!(out, "{}", skewed(max)),
            Values::Money { max } => write!(out, "{}.{:02}", skewed(max), high % 100),
            Values::Score => write!(out, "0.{:04}", low % 10_000),
            Values::Flag { percent } => write!(out, "{}", low % 100 < percent),
            Values::Day { from, years, .. } => write!(
                out,
                "{}-{:02}-{:02}",
                from + low % years,
                high % 12 + 1,
                low / 7 % 28 + 1
            ),
            Values::Instant => write!(
                out,
                "2025-{:02}-{:02}T{:02}:{:02}:{:02}Z",
                low % 12 + 1,
                high % 28 + 1,
                low / 13 % 24,
                high / 7 % 60,
                low / 17 % 60
            ),
            Values::Pick(_) => write!(out, "{}", choice(low)),
            Values::Phone => write!(out, "+{}{:010}", high % 9 + 1, r % 10_000_000_000),
            Values::Postal => write!(out, "{:05}", low % 100_000),
            Values::Code { prefix, count } => write!(out, "{prefix}{:04}", low % count),
            Values::Prose { min, max, empty } => {
                if low % 100 >= empty {
                    let mut r = r;
                    for k in 0..min + high % (max - min + 1) {
                        if k > 0 {
                            out.push_str(if r.is_multiple_of(9) { ", " } else { " " });
                        }
                        r = mix(r);
                        out.push_str(choice(r));
                    }
                }
                Ok(())
            }
            Values::Interests => {
                for k in 0..2 + high % 5 {
                    out.push_str(if k == 0 { "" } else { ";" });
                    out.push_str(choice(low >> (4 * k)));
                }
                Ok(())
            }
        };
    }
}

/// The words of the free-text attributes.
const WORDS: &str = "the order arrived late and customer asked for a refund size was too small \
    exchange requested happy with quality delivery fast colour not as shown will buy again called \
    about her his account password reset prefers email contact great service store staff helpful \
    returned item damaged box gift";
const INTERESTS: &str = "running hiking yoga cooking travel photography gaming gardening cycling \
    fashion music reading skincare tennis camping design";

/// The fifty attributes after the ten columns of the snapshots.
const ATTRIBUTES: [(&str, Values); 50] = {
    use Values::*;
    [
        ("lifetime_value", Money { max: 20_000 }),
        ("orders_count", count(120, 0)),
        ("orders_last_12m", count(40, 0)),
        ("avg_order_value", Money { max: 400 }),
        ("last_order_amount", Money { max: 1_500 }),
        ("days_since_last_order", count(1_500, 12)),
        ("total_refunds", Money { max: 800 }),
        ("loyalty_points", count(60_000, 0)),
        ("email_opens_90d", count(90, 0)),
        ("email_clicks_90d", count(30, 0)),
        ("web_sessions_30d", count(80, 0)),
        ("app_sessions_30d", count(200, 3)),
        ("cart_abandons_90d", count(15, 0)),
        ("support_tickets", count(12, 0)),
        ("nps_score", count(11, 2)),
        ("churn_score", Score),
        ("propensity_score", Score),
        ("email_opt_in", Flag { percent: 72 }),
        ("sms_opt_in", Flag { percent: 31 }),
        ("push_opt_in", Flag { percent: 24 }),
        ("is_employee", Flag { percent: 1 }),
        ("has_app", Flag { percent: 38 }),
        ("is_subscriber", Flag { percent: 17 }),
        ("gdpr_consent", Flag { percent: 88 }),
        ("do_not_call", Flag { percent: 6 }),
        ("has_returned_item", Flag { percent: 22 }),
        ("first_order_date", day(2015, 11, 12)),
        ("last_order_date", day(2024, 2, 12)),
        ("birthday", day(1950, 55, 5)),
        ("last_email_open_date", day(2025, 1, 4)),
        ("last_login_at", Instant),
        ("consent_updated_at", Instant),
        ("gender", Pick("female|male|nonbinary|unknown")),
        ("country_code", Pick("PT|JP|KE|CA|CL|US|GB|DE|FR|BR")),
        ("region", Pick("EMEA|APAC|AMER|LATAM")),
        ("postal_code", Postal),
        ("phone", Phone),
        ("preferred_language", Pick("en|pt|ja|sw|fr|es|de")),
        ("preferred_channel", Pick("email|sms|push|none")),
        ("acquisition_channel", Pick("organic_search|paid_social|referral|email|affiliate|display|direct|marketplace")),
        ("device_type", Pick("desktop|mobile|tablet")),
        ("favourite_category", Pick("footwear|outerwear|accessories|home|beauty|kids|sportswear|electronics")),
        ("timezone", Pick("Europe/Lisbon|Asia/Tokyo|Africa/Nairobi|America/Toronto|America/Santiago|America/New_York|Europe/London")),
        ("home_store", code("store-", 900)),
        ("rfm_segment", Pick("champions|loyal|potential_loyalist|new|promising|needs_attention|about_to_sleep|at_risk|cannot_lose|hibernating|lost")),
        ("user_agent", Pick(USER_AGENTS)),
        ("interests", Interests),
        ("service_note", prose(6, 24, 75)),
        ("last_review", prose(10, 40, 85)),
        ("referrer_code", code("ref-", 10_000)),
    ]
};

/// Browsers' user agents, `|`-separated.
const USER_AGENTS: &str = concat!(
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36|",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1|",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 Safari/605.1.15|",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36|",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0|",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.67",
);

/// The table's columns, typed as a warehouse holds them: the snapshots' ten, then [`ATTRIBUTES`].
pub fn columns() -> Vec<(&'static str, ColumnType)> {
    let attributes = ATTRIBUTES.iter().map(|(n, v)| (*n, v.column_type()));
    crate::layouts::COLUMNS
        .into_iter()
        .chain(attributes)
        .collect()
}

/// splitmix64: a well-mixed number of `x`.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Each attribute's [`Values::choices`], split once.
static CHOICES: LazyLock<Vec<Vec<&str>>> =
    LazyLock::new(|| ATTRIBUTES.iter().map(|(_, v)| v.choices()).collect());

/// Profile `i`'s row, without its line end, into `line` (cleared first).
fn row(i: u64, line: &mut String, cell: &mut String) {
    line.clear();
    line.push_str(&data::profile_line(i, false, false));
    for (k, ((_, values), choices)) in ATTRIBUTES.iter().zip(CHOICES.iter()).enumerate() {
        cell.clear();
        values.write(mix(i << 6 | k as u64), choices, cell);
        line.push(',');
        if cell.contains(',') {
            line.push('"');
            line.push_str(cell);
            line.push('"');
        } else {
            line.push_str(cell);
        }
    }
}

/// Writes both segments of `profiles` profiles as wide tables into `dir` (created when
/// missing), one CSV file a segment named as [`SEGMENTS`]' with its header row.
pub fn write(dir: &Path, profiles: u64) -> std::io::Result<data::Written> {
    std::fs::create_dir_all(dir)?;
    let header: Vec<&str> = columns().into_iter().map(|(name, _)| name).collect();
    let header = format!("{}\n", header.join(","));
    let mut written = data::Written::default();
    let (mut line, mut cell) = (String::new(), String::new());
    for ((_, file), (from, to)) in SEGMENTS.iter().zip(data::ranges(profiles)) {
        let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(dir.join(file))?);
        out.write_all(header.as_bytes())?;
        written.bytes += header.len() as u64;
        for i in from..to {
            row(i, &mut line, &mut cell);
            line.push('\n');
            out.write_all(line.as_bytes())?;
            written.bytes += line.len() as u64;
            written.rows += 1;
        }
        out.flush()?;
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reading;

    #[test]
    fn a_wide_row_has_every_column_and_begins_with_the_snapshots_row() {
        let (mut line, mut cell) = (String::new(), String::new());
        let mut bytes = 0;
        for i in 0..2_000 {
            row(i, &mut line, &mut cell);
            assert!(line.starts_with(&data::profile_line(i, false, false)));
            let cells = crate::layouts::cells(&line, columns().len());
            assert_eq!(cells.len(), 60, "{line}");
            assert!(!line.contains('\n'));
            bytes += line.len() + 1;
        }
        // The size the module's doc states.
        let per_row = bytes / 2_000;
        assert!((580..660).contains(&per_row), "{per_row} bytes a row");
    }

    #[test]
    fn the_parquet_table_holds_the_same_rows_as_the_csv_one() {
        let dir = std::env::temp_dir().join(format!("bench-wide-{}", std::process::id()));
        let written = write(&dir.join("csv"), 500).unwrap();
        assert_eq!(written.rows, 550);
        let parquet = crate::layouts::parquet(&dir.join("csv"), &dir.join("pq"), &columns());
        let parquet: Vec<String> = parquet.unwrap().sources.into_iter().map(|s| s.1).collect();
        let csv: Vec<String> = SEGMENTS
            .iter()
            .map(|(_, file)| dir.join("csv").join(file).display().to_string())
            .collect();
        let from_csv = reading::count(reading::MAPPED, &csv).unwrap();
        assert_eq!(from_csv.0, 550);
        assert_eq!(reading::count(reading::MAPPED, &parquet).unwrap(), from_csv);
        // Every column reads, whatever its type.
        let all: Vec<&str> = columns().into_iter().map(|(name, _)| name).collect();
        assert_eq!(reading::count(&all.join(","), &parquet).unwrap().0, 550);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
