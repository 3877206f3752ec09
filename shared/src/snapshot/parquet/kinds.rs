//! Parquet column types as this reader turns them into text, by the same rules as CSV cells
//! once they are text: strings as they are (UTF-8, else Windows-1252), integers in decimal,
//! decimals with all their scale's digits (`12.50`: refused by an `integer--` field, never
//! truncated), booleans `true`/`false`, dates `YYYY-MM-DD`, timestamps in RFC 3339 UTC (a
//! timestamp without a time zone is taken as UTC, as a date-time in a CSV cell is), floats in
//! their shortest exact form. A nested or repeated column, or a type no field can hold, is a
//! configuration error naming the column.

use parquet::basic::{ConvertedType, LogicalType, TimeUnit, Type as Physical};
use parquet::schema::types::ColumnDescriptor;

/// What a column holds, as far as its text goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Bool,
    Int,
    UnsignedInt,
    Float,
    Decimal {
        scale: u32,
    },
    Date,
    Timestamp(Unit),
    Time(Unit),
    /// Twelve bytes of nanoseconds and a Julian day (Spark, Impala).
    Int96,
    Uuid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Millis,
    Micros,
    Nanos,
}

impl Unit {
    /// Units in a second.
    pub fn per_second(self) -> i64 {
        match self {
            Unit::Millis => 1_000,
            Unit::Micros => 1_000_000,
            Unit::Nanos => 1_000_000_000,
        }
    }

    fn of(unit: &TimeUnit) -> Self {
        match unit {
            TimeUnit::MILLIS => Unit::Millis,
            TimeUnit::MICROS => Unit::Micros,
            TimeUnit::NANOS => Unit::Nanos,
        }
    }
}

impl Kind {
    /// The kind of a leaf column, or what it holds that no field can be filled from.
    pub fn of(column: &ColumnDescriptor) -> Result<Self, String> {
        let physical = column.physical_type();
        let kind = match column.logical_type_ref() {
            Some(logical) => from_logical(logical, physical)?,
            None => from_converted(column.converted_type(), physical)?,
        };
        if let Kind::Decimal { scale } = kind {
            if scale > 38 || column.type_precision() > 38 {
                return Err("a decimal of more than 38 digits".into());
            }
        }
        match (kind, physical) {
            (Kind::Decimal { .. }, _) => Ok(kind),
            (_, Physical::INT96) => Ok(Kind::Int96),
            (Kind::Text, Physical::BOOLEAN) => Ok(Kind::Bool),
            (Kind::Text, Physical::INT32 | Physical::INT64) => Ok(Kind::Int),
            (Kind::Text, Physical::FLOAT | Physical::DOUBLE) => Ok(Kind::Float),
            _ => Ok(kind),
        }
    }

    /// The type as the user knows it, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Kind::Text => "text",
            Kind::Bool => "boolean",
            Kind::Int | Kind::UnsignedInt => "integer",
            Kind::Float => "floating-point number",
            Kind::Decimal { .. } => "decimal",
            Kind::Date => "date",
            Kind::Timestamp(_) | Kind::Int96 => "timestamp",
            Kind::Time(_) => "time of day",
            Kind::Uuid => "UUID",
        }
    }
}

fn from_logical(logical: &LogicalType, physical: Physical) -> Result<Kind, String> {
    Ok(match logical {
        LogicalType::String | LogicalType::Enum | LogicalType::Json => Kind::Text,
        LogicalType::Decimal(d) => Kind::Decimal {
            scale: u32::try_from(d.scale).map_err(|_| "a decimal of negative scale")?,
        },
        LogicalType::Date => Kind::Date,
        LogicalType::Timestamp(t) => Kind::Timestamp(Unit::of(&t.unit)),
        LogicalType::Time(t) => Kind::Time(Unit::of(&t.unit)),
        LogicalType::Integer(i) if !i.is_signed => Kind::UnsignedInt,
        LogicalType::Integer(_) => Kind::Int,
        LogicalType::Uuid if physical == Physical::FIXED_LEN_BYTE_ARRAY => Kind::Uuid,
        LogicalType::Unknown => Kind::Text,
        LogicalType::Map | LogicalType::List => return Err("a map or list".into()),
        other => return Err(format!("{other:?} values")),
    })
}

fn from_converted(converted: ConvertedType, physical: Physical) -> Result<Kind, String> {
    Ok(match converted {
        ConvertedType::DECIMAL => {
            return Err("a decimal without its scale (an old writer's file)".into());
        }
        ConvertedType::DATE => Kind::Date,
        ConvertedType::TIMESTAMP_MILLIS => Kind::Timestamp(Unit::Millis),
        ConvertedType::TIMESTAMP_MICROS => Kind::Timestamp(Unit::Micros),
        ConvertedType::TIME_MILLIS => Kind::Time(Unit::Millis),
        ConvertedType::TIME_MICROS => Kind::Time(Unit::Micros),
        ConvertedType::UINT_8
        | ConvertedType::UINT_16
        | ConvertedType::UINT_32
        | ConvertedType::UINT_64 => Kind::UnsignedInt,
        ConvertedType::MAP | ConvertedType::MAP_KEY_VALUE | ConvertedType::LIST => {
            return Err("a map or list".into())
        }
        ConvertedType::INTERVAL => return Err("intervals".into()),
        _ if physical == Physical::FIXED_LEN_BYTE_ARRAY => Kind::Text,
        _ => Kind::Text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use parquet::schema::parser::parse_message_type;
    use parquet::schema::types::SchemaDescriptor;
    use std::sync::Arc;

    #[test]
    fn kinds_follow_the_logical_types() {
        let schema = parse_message_type(
            "message m {
                required binary s (STRING);
                optional int32 i;
                optional int64 big (INTEGER(64, false));
                optional int32 d (DATE);
                optional int64 ts (TIMESTAMP(MICROS, true));
                optional int96 legacy;
                optional fixed_len_byte_array(8) money (DECIMAL(16, 2));
                optional boolean b;
                optional double f;
                optional fixed_len_byte_array(16) id (UUID);
                optional int64 old_ts (TIMESTAMP_MILLIS);
            }",
        )
        .unwrap();
        let descr = SchemaDescriptor::new(Arc::new(schema));
        let kinds: Vec<Kind> = descr
            .columns()
            .iter()
            .map(|c| Kind::of(c).unwrap())
            .collect();
        assert_eq!(
            kinds,
            [
                Kind::Text,
                Kind::Int,
                Kind::UnsignedInt,
                Kind::Date,
                Kind::Timestamp(Unit::Micros),
                Kind::Int96,
                Kind::Decimal { scale: 2 },
                Kind::Bool,
                Kind::Float,
                Kind::Uuid,
                Kind::Timestamp(Unit::Millis),
            ]
        );
    }
}
