//! When a stack's schedule runs next: its `ScheduleExpression` parameter, an EventBridge schedule
//! expression, either `rate(N minute|minutes|hour|hours|day|days)` or a six-field
//! `cron(minutes hours day-of-month month day-of-week year)` in UTC. Fields take `*`, numbers,
//! lists (`1,15`), ranges (`MON-FRI`, `8-17`), steps (`0/15`, `*/5`), and month and day names;
//! one of day-of-month and day-of-week is `?`, and day-of-week counts 1 (SUN) to 7 (SAT), as
//! EventBridge does. The rarer forms (`L`, `W`, `#`) are refused, and the pages then say the
//! expression without a time.
//!
//! A rate runs every period counted from when its rule was made, which the stack does not say
//! exactly: its next run is counted from an anchor (the stack's creation), and shown as "about".

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Timelike, Utc};

/// A parsed schedule expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expression {
    Rate(Duration),
    Cron(Box<Cron>),
}

/// A cron expression's allowed values, field by field.
#[derive(Debug, Clone, PartialEq)]
pub struct Cron {
    minutes: Vec<u32>,
    hours: Vec<u32>,
    /// `None` when `?` (the day-of-week field decides).
    days_of_month: Option<Vec<u32>>,
    months: Vec<u32>,
    /// 1 (Sunday) to 7 (Saturday); `None` when `?`.
    days_of_week: Option<Vec<u32>>,
    /// `None` for any year.
    years: Option<Vec<u32>>,
}

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

impl std::str::FromStr for Expression {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if let Some(inner) = text.strip_prefix("rate(").and_then(|t| t.strip_suffix(')')) {
            return rate(inner).map(Expression::Rate);
        }
        if let Some(inner) = text.strip_prefix("cron(").and_then(|t| t.strip_suffix(')')) {
            return cron(inner).map(|c| Expression::Cron(Box::new(c)));
        }
        Err("a schedule expression is rate(…) or cron(…)".into())
    }
}

fn rate(inner: &str) -> Result<Duration, String> {
    let mut parts = inner.split_whitespace();
    let (Some(n), Some(unit), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err("a rate is rate(N unit)".into());
    };
    let n: i64 = n
        .parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or("a rate's number is a whole number from 1")?;
    match unit {
        "minute" | "minutes" => Ok(Duration::minutes(n)),
        "hour" | "hours" => Ok(Duration::hours(n)),
        "day" | "days" => Ok(Duration::days(n)),
        _ => Err(format!(
            "'{unit}' is not a rate unit: minutes, hours or days"
        )),
    }
}

fn cron(inner: &str) -> Result<Cron, String> {
    let fields: Vec<&str> = inner.split_whitespace().collect();
    let [minutes, hours, dom, month, dow, year] = fields[..] else {
        return Err("a cron expression has six fields".into());
    };
    let optional = |field: &str, min, max, names: &[&str]| match field {
        "?" => Ok(None),
        _ => values(field, min, max, names).map(Some),
    };
    let days_of_month = optional(dom, 1, 31, &[])?;
    let days_of_week = optional(dow, 1, 7, &DAYS)?;
    if days_of_month.is_some() == days_of_week.is_some() {
        return Err("one of day-of-month and day-of-week must be ?".into());
    }
    Ok(Cron {
        minutes: values(minutes, 0, 59, &[])?,
        hours: values(hours, 0, 23, &[])?,
        days_of_month,
        months: values(month, 1, 12, &MONTHS)?,
        days_of_week,
        years: match year {
            "*" => None,
            _ => Some(values(year, 1970, 2199, &[])?),
        },
    })
}

/// The values a field allows, sorted; `names` are the words for `min..`.
fn values(field: &str, min: u32, max: u32, names: &[&str]) -> Result<Vec<u32>, String> {
    let number = |text: &str| -> Result<u32, String> {
        let upper = text.to_ascii_uppercase();
        if let Some(i) = names.iter().position(|n| *n == upper) {
            return Ok(min + i as u32);
        }
        text.parse::<u32>()
            .ok()
            .filter(|v| (min..=max).contains(v))
            .ok_or_else(|| format!("'{text}' is not a value from {min} to {max}"))
    };
    let mut allowed = Vec::new();
    for part in field.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((range, step)) => (range, step.parse::<u32>().ok().filter(|s| *s > 0)),
            None => (part, Some(1)),
        };
        let step = step.ok_or_else(|| format!("'{part}' has no step from 1"))?;
        let (from, to) = match range {
            "*" => (min, max),
            _ => match range.split_once('-') {
                Some((a, b)) => (number(a)?, number(b)?),
                // `5/15` runs from 5 to the end.
                None if part.contains('/') => (number(range)?, max),
                None => (number(range)?, number(range)?),
            },
        };
        if from > to {
            return Err(format!("'{range}' runs backwards"));
        }
        allowed.extend((from..=to).step_by(step as usize));
    }
    allowed.sort_unstable();
    allowed.dedup();
    Ok(allowed)
}

impl Cron {
    fn on_day(&self, day: NaiveDate) -> bool {
        let year_ok = self
            .years
            .as_ref()
            .is_none_or(|y| y.contains(&(day.year() as u32)));
        let day_ok = match (&self.days_of_month, &self.days_of_week) {
            (Some(dom), _) => dom.contains(&day.day()),
            (None, Some(dow)) => dow.contains(&(day.weekday().num_days_from_sunday() + 1)),
            (None, None) => true,
        };
        year_ok && day_ok && self.months.contains(&day.month())
    }

    /// The first time after `now` (to the minute), looking up to five years ahead.
    fn next_after(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let first_day = now.date_naive();
        (0..5 * 366).find_map(|offset| {
            let day = first_day + Duration::days(offset);
            if !self.on_day(day) {
                return None;
            }
            let times = self
                .hours
                .iter()
                .flat_map(|h| self.minutes.iter().map(|m| (*h, *m)));
            let mut times =
                times.filter(|(h, m)| day > first_day || (*h, *m) > (now.hour(), now.minute()));
            let (h, m) = times.next()?;
            Utc.from_local_datetime(&day.and_hms_opt(h, m, 0)?).single()
        })
    }
}

impl Expression {
    /// The next run after `now`; a rate counts its periods from `anchor`.
    pub fn next_after(&self, now: DateTime<Utc>, anchor: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Expression::Rate(period) => {
                let seconds = period.num_seconds();
                let since = (now - anchor).num_seconds().max(0);
                let periods = since / seconds + 1;
                Some(anchor + Duration::seconds(periods * seconds))
            }
            Expression::Cron(cron) => cron.next_after(now),
        }
    }

    /// Whether the time shown is approximate (a rate, whose start the stack does not record).
    pub fn is_approximate(&self) -> bool {
        matches!(self, Expression::Rate(_))
    }
}

/// A deployed stack's schedule: its `ScheduleExpression` and `ScheduleState` parameters, and
/// when the stack was made (the start a rate counts from).
#[derive(Debug, Clone)]
pub struct Deployed {
    pub expression: String,
    pub enabled: bool,
    pub anchor: DateTime<Utc>,
}

/// What the pages say of a destination's next scheduled run.
#[derive(Debug, Clone, PartialEq)]
pub enum NextRun {
    /// The destination's schedule is off.
    Off,
    /// On, but no schedule runs here: the console works on a data folder.
    Local,
    /// The stack's schedule is disabled (`ScheduleState` DISABLED).
    StackOff,
    At {
        time: DateTime<Utc>,
        approximate: bool,
    },
    /// An expression whose next time this console does not compute, said as it is.
    Unknown(String),
}

/// The next run of a destination whose schedule is `on`, under the stack's schedule (`None`
/// when the console works on a data folder).
pub fn next_run(deployed: Option<&Deployed>, on: bool, now: DateTime<Utc>) -> NextRun {
    let Some(deployed) = deployed else {
        return if on { NextRun::Local } else { NextRun::Off };
    };
    if !on {
        return NextRun::Off;
    }
    if !deployed.enabled {
        return NextRun::StackOff;
    }
    let parsed = deployed.expression.parse::<Expression>();
    match parsed.map(|e| (e.next_after(now, deployed.anchor), e.is_approximate())) {
        Ok((Some(time), approximate)) => NextRun::At { time, approximate },
        _ => NextRun::Unknown(deployed.expression.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_run_follows_the_destination_and_the_stack() {
        let now = at("2026-03-10T12:00:00Z");
        let stack = |expression: &str, enabled| Deployed {
            expression: expression.into(),
            enabled,
            anchor: at("2026-01-01T06:30:00Z"),
        };
        assert_eq!(next_run(None, true, now), NextRun::Local);
        assert_eq!(next_run(None, false, now), NextRun::Off);
        let daily = stack("rate(1 day)", true);
        assert_eq!(next_run(Some(&daily), false, now), NextRun::Off);
        assert_eq!(
            next_run(Some(&daily), true, now),
            NextRun::At {
                time: at("2026-03-11T06:30:00Z"),
                approximate: true
            }
        );
        let off = stack("rate(1 day)", false);
        assert_eq!(next_run(Some(&off), true, now), NextRun::StackOff);
        let odd = stack("cron(0 6 L * ? *)", true);
        assert_eq!(
            next_run(Some(&odd), true, now),
            NextRun::Unknown("cron(0 6 L * ? *)".into())
        );
    }

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn next(expression: &str, now: &str) -> String {
        let e: Expression = expression.parse().unwrap();
        let anchor = at("2026-01-01T06:30:00Z");
        e.next_after(at(now), anchor).unwrap().to_rfc3339()
    }

    #[test]
    fn rates_count_whole_periods_from_the_anchor() {
        assert_eq!(
            next("rate(1 day)", "2026-03-10T12:00:00Z"),
            "2026-03-11T06:30:00+00:00"
        );
        assert_eq!(
            next("rate(1 day)", "2026-03-10T06:30:00Z"),
            "2026-03-11T06:30:00+00:00"
        );
        assert_eq!(
            next("rate(6 hours)", "2026-03-10T13:00:00Z"),
            "2026-03-10T18:30:00+00:00"
        );
        assert_eq!(
            next("rate(15 minutes)", "2026-01-01T06:31:00Z"),
            "2026-01-01T06:45:00+00:00"
        );
        // Before the anchor, the first run is one period after it.
        assert_eq!(
            next("rate(1 day)", "2025-12-01T00:00:00Z"),
            "2026-01-02T06:30:00+00:00"
        );
        assert!("rate(1 days)"
            .parse::<Expression>()
            .unwrap()
            .is_approximate());
    }

    #[test]
    fn cron_finds_the_next_matching_minute() {
        // Every day at 06:00.
        assert_eq!(
            next("cron(0 6 * * ? *)", "2026-03-10T05:59:30Z"),
            "2026-03-10T06:00:00+00:00"
        );
        assert_eq!(
            next("cron(0 6 * * ? *)", "2026-03-10T06:00:00Z"),
            "2026-03-11T06:00:00+00:00"
        );
        // Weekdays at 08:15; 2026-03-13 is a Friday.
        let weekdays = "cron(15 8 ? * MON-FRI *)";
        assert_eq!(
            next(weekdays, "2026-03-13T09:00:00Z"),
            "2026-03-16T08:15:00+00:00"
        );
        assert_eq!(
            next("cron(15 8 ? * 2-6 *)", "2026-03-13T09:00:00Z"),
            "2026-03-16T08:15:00+00:00"
        );
        // Every 15 minutes, and the first of the month.
        assert_eq!(
            next("cron(0/15 * * * ? *)", "2026-03-10T10:16:00Z"),
            "2026-03-10T10:30:00+00:00"
        );
        assert_eq!(
            next("cron(*/20 * * * ? *)", "2026-03-10T10:41:00Z"),
            "2026-03-10T11:00:00+00:00"
        );
        assert_eq!(
            next("cron(0 0 1 * ? *)", "2026-02-14T00:00:00Z"),
            "2026-03-01T00:00:00+00:00"
        );
        // Lists, month names, a year.
        assert_eq!(
            next("cron(0 9,17 ? JAN,JUL SUN 2027)", "2026-03-10T00:00:00Z"),
            "2027-01-03T09:00:00+00:00"
        );
        // A year that has passed never runs.
        let e: Expression = "cron(0 0 1 1 ? 2020)".parse().unwrap();
        assert_eq!(
            e.next_after(at("2026-01-01T00:00:00Z"), at("2026-01-01T00:00:00Z")),
            None
        );
        assert!(!e.is_approximate());
    }

    #[test]
    fn what_eventbridge_refuses_or_this_does_not_know_is_refused() {
        for bad in [
            "cron(0 6 * * * *)",
            "cron(0 6 ? * ? *)",
            "cron(0 6 L * ? *)",
            "cron(0 6 ? * 6#3 *)",
            "cron(60 6 * * ? *)",
            "cron(0 6 * *)",
            "cron(0 10-8 * * ? *)",
            "cron(0/0 6 * * ? *)",
            "rate(0 days)",
            "rate(1 week)",
            "rate(1)",
            "at(2026-01-01T00:00:00)",
        ] {
            assert!(bad.parse::<Expression>().is_err(), "{bad}");
        }
    }
}
