//! Event time: the timestamp in the telemetry, never the wall clock.
//!
//! Stored as microseconds since the Unix epoch in UTC, so that comparisons and
//! window arithmetic are integer operations. Parsing accepts the handful of
//! shapes real sensors write (Sysmon's `2020-07-22 03:27:52.776`, RFC 3339 with
//! up to nine fractional digits and `Z` or an offset) and rejects absurd years,
//! which in real data mean a broken clock or a corrupt record.

use std::fmt;

use chrono::{DateTime, Datelike, NaiveDate, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A point in event time, microseconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

/// Years outside this range are treated as a corrupt timestamp, not as data.
const MIN_YEAR: i32 = 1990;
const MAX_YEAR: i32 = 2100;

pub const MICROS_PER_SECOND: i64 = 1_000_000;
pub const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SECOND;

/// A span of time in microseconds, the unit event time is kept in: every
/// configured duration and day count is converted to one once, here.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(transparent)]
pub struct Micros(pub i64);

impl Micros {
    /// `days` whole days.
    pub const fn days(days: u32) -> Micros {
        Micros(days as i64 * MICROS_PER_DAY)
    }

    /// Whole days in this span (rounded toward zero).
    pub const fn whole_days(self) -> i64 {
        self.0 / MICROS_PER_DAY
    }

    /// A configured duration; one too long for 292,000 years saturates.
    pub fn of(duration: std::time::Duration) -> Micros {
        Micros(i64::try_from(duration.as_micros()).unwrap_or(i64::MAX))
    }
}

impl Timestamp {
    pub const fn from_micros(micros: i64) -> Self {
        Timestamp(micros)
    }

    pub const fn as_micros(self) -> i64 {
        self.0
    }

    pub fn from_unix_seconds_f64(seconds: f64) -> Option<Self> {
        if !seconds.is_finite() {
            return None;
        }
        let micros = (seconds * MICROS_PER_SECOND as f64).round();
        let ts = Timestamp(micros as i64);
        ts.is_plausible().then_some(ts)
    }

    /// This instant moved later by `span`, saturating at the end of time.
    pub const fn plus(self, span: Micros) -> Timestamp {
        Timestamp(self.0.saturating_add(span.0))
    }

    /// This instant moved earlier by `span`, saturating at the start of time.
    pub const fn minus(self, span: Micros) -> Timestamp {
        Timestamp(self.0.saturating_sub(span.0))
    }

    /// How long after `earlier` this instant is (negative if before).
    pub const fn since(self, earlier: Timestamp) -> Micros {
        Micros(self.0.saturating_sub(earlier.0))
    }

    /// The UTC day this instant falls on, counted from the epoch.
    pub const fn day(self) -> i64 {
        self.0.div_euclid(MICROS_PER_DAY)
    }

    /// Parses the timestamp shapes that endpoint sensors write.
    ///
    /// `YYYY-MM-DD[ T]hh:mm:ss[.fraction][Z|±hh:mm]`; no zone means UTC (Sysmon's
    /// `UtcTime`). Returns `None` for anything else, including years outside
    /// 1990..=2100.
    pub fn parse(text: &str) -> Option<Self> {
        let b = text.trim().as_bytes();
        if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
            return None;
        }
        if b[10] != b' ' && b[10] != b'T' {
            return None;
        }
        let year = digits(&b[0..4])? as i32;
        let month = digits(&b[5..7])?;
        let day = digits(&b[8..10])?;
        let hour = digits(&b[11..13])?;
        let minute = digits(&b[14..16])?;
        let second = digits(&b[17..19])?;
        if !(MIN_YEAR..=MAX_YEAR).contains(&year) || hour > 23 || minute > 59 || second > 60 {
            return None;
        }
        let date = NaiveDate::from_ymd_opt(year, month, day)?;
        let mut rest = &b[19..];
        let mut micros_frac: i64 = 0;
        if let Some((&b'.', frac)) = rest.split_first() {
            let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
            if n == 0 {
                return None;
            }
            // Keep microsecond precision; extra digits (Azure writes seven) are truncated.
            let mut scale = 100_000;
            for &d in &frac[..n.min(6)] {
                micros_frac += i64::from(d - b'0') * scale;
                scale /= 10;
            }
            rest = &frac[n..];
        }
        let offset_seconds: i64 = match rest {
            [] | [b'Z'] | [b'z'] => 0,
            [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2]
            | [sign @ (b'+' | b'-'), h1, h2, m1, m2] => {
                let h = digits(&[*h1, *h2])? as i64;
                let m = digits(&[*m1, *m2])? as i64;
                let s = (h * 3600) + (m * 60);
                if *sign == b'+' { s } else { -s }
            }
            _ => return None,
        };
        let days = i64::from(date.num_days_from_ce() - UNIX_EPOCH_DAYS_FROM_CE);
        let seconds = days * 86_400
            + i64::from(hour) * 3600
            + i64::from(minute) * 60
            + i64::from(second.min(59))
            - offset_seconds;
        Some(Timestamp(seconds * MICROS_PER_SECOND + micros_frac))
    }

    /// The same bounds as [`Timestamp::parse`]: 1990-01-01T00:00:00Z (631,152,000 s)
    /// to 2100-12-31T23:59:59Z (4,133,980,799 s).
    fn is_plausible(self) -> bool {
        const LO: i64 = 631_152_000 * MICROS_PER_SECOND;
        const HI: i64 = 4_133_980_799 * MICROS_PER_SECOND;
        (LO..=HI).contains(&self.0)
    }

    pub fn to_datetime(self) -> DateTime<Utc> {
        DateTime::from_timestamp_micros(self.0).unwrap_or_default()
    }
}

/// 1970-01-01 counted as chrono's `num_days_from_ce` counts (0001-01-01 is
/// day 1): each timestamp's days since the epoch are one subtraction, not a
/// date built for the epoch and a duration between the two.
const UNIX_EPOCH_DAYS_FROM_CE: i32 = 719_163;

fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

impl Timestamp {
    /// The wall clock now (for analysts' decisions, never for event time).
    pub fn now() -> Timestamp {
        let micros = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
        Timestamp::from_micros(micros)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            &self
                .to_datetime()
                .to_rfc3339_opts(SecondsFormat::AutoSi, true),
        )
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        Timestamp::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("unreadable timestamp {text:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_epoch_constant_is_chronos_day_of_1970_01_01() {
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("a date");
        assert_eq!(epoch.num_days_from_ce(), UNIX_EPOCH_DAYS_FROM_CE);
        let first = Timestamp::parse("1990-01-01T00:00:00Z").expect("the first accepted day");
        assert_eq!(first.as_micros(), 631_152_000 * 1_000_000);
        let day = Timestamp::parse("2024-03-04 00:00:00").expect("parses");
        assert_eq!(day.as_micros(), 1_709_510_400 * 1_000_000);
    }

    #[test]
    fn sysmon_utc_time_is_utc() {
        let t = Timestamp::parse("2020-07-22 03:27:52.776").unwrap();
        assert_eq!(t.to_string(), "2020-07-22T03:27:52.776Z");
    }

    #[test]
    fn azure_seven_digit_fraction_is_truncated_to_micros() {
        let t = Timestamp::parse("2022-05-13T08:54:05.1230000Z").unwrap();
        assert_eq!(t.to_string(), "2022-05-13T08:54:05.123Z");
    }

    #[test]
    fn offsets_are_applied() {
        let a = Timestamp::parse("2020-07-21T23:27:52-04:00").unwrap();
        let b = Timestamp::parse("2020-07-22 03:27:52").unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn absurd_and_malformed_times_are_rejected() {
        for bad in [
            "1601-01-01 00:00:00.000",
            "9999-12-31T23:59:59Z",
            "2020-13-01 00:00:00",
            "2020-02-30 00:00:00",
            "2020-07-22 03:27",
            "2020-07-22 03:27:52.",
            "2020-07-22 03:27:52 garbage",
            "",
        ] {
            assert_eq!(Timestamp::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn day_buckets_are_utc_days() {
        let t = Timestamp::parse("2020-01-02T00:00:00Z").unwrap();
        assert_eq!(t.day(), 18263);
        assert_eq!(
            Timestamp::parse("2020-01-01T23:59:59.999Z").unwrap().day(),
            18262
        );
        assert_eq!(Timestamp::from_micros(-1).day(), -1);
    }

    #[test]
    fn epoch_seconds_share_the_parse_bounds() {
        let lo = Timestamp::parse("1990-01-01 00:00:00").unwrap();
        let hi = Timestamp::parse("2100-12-31 23:59:59").unwrap();
        assert_eq!(Timestamp::from_unix_seconds_f64(631_152_000.0), Some(lo));
        assert_eq!(Timestamp::from_unix_seconds_f64(4_133_980_799.0), Some(hi));
        assert_eq!(Timestamp::from_unix_seconds_f64(631_151_999.0), None);
        assert_eq!(Timestamp::from_unix_seconds_f64(4_133_980_800.0), None);
        assert_eq!(Timestamp::from_unix_seconds_f64(f64::NAN), None);
    }

    #[test]
    fn serde_round_trip() {
        let t = Timestamp::parse("2019-05-14T02:13:49.843123Z").unwrap();
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, "\"2019-05-14T02:13:49.843123Z\"");
        assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), t);
    }
}
