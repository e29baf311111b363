use chrono::{DateTime, TimeZone, Utc};

/// Milliseconds since the Unix epoch, the store's one time representation.
pub fn to_millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// The inverse of [`to_millis`]; out-of-range values (only possible from a hand-edited file)
/// clamp to the epoch rather than failing a whole query.
pub fn from_millis(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

pub(crate) fn opt_from_millis(ms: Option<i64>) -> Option<DateTime<Utc>> {
    ms.map(from_millis)
}
