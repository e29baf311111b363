//! The owner's results: how many missed calls became texted-back, replied and booked leads,
//! and what the booked jobs were worth, per day or week of a period in the business's time
//! zone. Synchronous (call from a blocking task).
//!
//! Missed calls count by when they rang ([`calls::missed_between`]). The later stages follow
//! the leads those calls opened ([`leads::opened_between`], leads with a first call): a lead
//! counts in the bucket its first call rang in, by what has happened to it since (a cohort),
//! so a call on Monday booked on Thursday is Monday's booking.

use chrono::{DateTime, Datelike, Days, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use textback_store::{Store, calls, leads};

use crate::dto::{Funnel, FunnelBucket, FunnelQuery, FunnelRow, IpcError};

/// The longest period one request covers.
pub const MAX_DAYS: i64 = 366;

fn invalid(message: String) -> IpcError {
    IpcError::new("invalid_input", message)
}

fn parse_date(field: &str, s: &str) -> Result<NaiveDate, IpcError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| invalid(format!("{field}: {s:?} is not a date like 2026-03-01")))
}

/// The instant a calendar day starts in `tz`. Where midnight does not exist (a DST change at
/// midnight), the first instant of the day that does.
pub fn start_of_day(tz: Tz, date: NaiveDate) -> DateTime<Utc> {
    let midnight = date.and_hms_opt(0, 0, 0).unwrap_or_default();
    for minutes in (0..=180).step_by(15) {
        let local = midnight + chrono::Duration::minutes(minutes);
        if let Some(t) = tz.from_local_datetime(&local).earliest() {
            return t.with_timezone(&Utc);
        }
    }
    // No time zone skips three hours; treat the day as starting at UTC midnight.
    midnight.and_utc()
}

/// The buckets of `[from, to]`: one per day, or one per Monday-to-Sunday week cut to the
/// period. Each is (first day, last day), in order.
pub fn buckets(
    from: NaiveDate,
    to: NaiveDate,
    bucket: FunnelBucket,
) -> Vec<(NaiveDate, NaiveDate)> {
    let mut out = Vec::new();
    let mut start = from;
    while start <= to {
        let end = match bucket {
            FunnelBucket::Day => start,
            FunnelBucket::Week => {
                let to_sunday = 6 - u64::from(start.weekday().num_days_from_monday());
                start
                    .checked_add_days(Days::new(to_sunday))
                    .unwrap_or(to)
                    .min(to)
            }
        };
        out.push((start, end));
        let Some(next) = end.checked_add_days(Days::new(1)) else {
            break;
        };
        start = next;
    }
    out
}

/// Which bucket a day falls in (buckets are in order and cover the period without gaps).
fn bucket_of(buckets: &[(NaiveDate, NaiveDate)], day: NaiveDate) -> Option<usize> {
    let i = buckets.partition_point(|(_, end)| *end < day);
    buckets.get(i).filter(|(start, _)| *start <= day).map(|_| i)
}

fn add(total: &mut FunnelRow, row: &FunnelRow) {
    total.missed_calls += row.missed_calls;
    total.texted_back += row.texted_back;
    total.replied += row.replied;
    total.booked += row.booked;
    total.job_value_cents += row.job_value_cents;
    total.booked_without_value += row.booked_without_value;
}

/// The funnel for `q`, its dates in the business's time zone `tz`.
pub fn build(store: &Store, tz: Tz, q: &FunnelQuery) -> Result<Funnel, IpcError> {
    let from = parse_date("from", &q.from)?;
    let to = parse_date("to", &q.to)?;
    if to < from {
        return Err(invalid(format!(
            "the period ends ({to}) before it starts ({from})"
        )));
    }
    if (to - from).num_days() >= MAX_DAYS {
        return Err(invalid(format!(
            "the period is longer than {MAX_DAYS} days; choose a shorter one"
        )));
    }
    let after = to
        .checked_add_days(Days::new(1))
        .ok_or_else(|| invalid(format!("to: {to} is too far in the future")))?;
    let (start, end) = (start_of_day(tz, from), start_of_day(tz, after));
    let (missed, opened, rang) = store.read(|c| {
        let missed = calls::missed_between(c, start, end)?;
        // A lead opens once its call has ended and been decided: a call late on the last day
        // may open its lead after the period.
        let opened = leads::opened_between(c, start, end + chrono::Duration::days(1))?;
        let first_calls: Vec<i64> = opened.iter().filter_map(|l| l.first_call_id).collect();
        let rang = calls::rang_at(c, &first_calls)?;
        Ok((missed, opened, rang))
    })?;

    let spans = buckets(from, to, q.bucket);
    let mut rows: Vec<FunnelRow> = spans
        .iter()
        .map(|(s, e)| FunnelRow {
            start: s.to_string(),
            end: e.to_string(),
            ..FunnelRow::default()
        })
        .collect();
    let day = |t: DateTime<Utc>| t.with_timezone(&tz).date_naive();
    for at in missed {
        if let Some(i) = bucket_of(&spans, day(at)) {
            rows[i].missed_calls += 1;
        }
    }
    // Leads a missed call opened; one a person opened by marking a conversation booked is not
    // a recovered missed call.
    for lead in &opened {
        let Some(call) = lead.first_call_id else {
            continue;
        };
        let at = rang.get(&call).copied().unwrap_or(lead.opened_at);
        let Some(i) = (start..end)
            .contains(&at)
            .then(|| bucket_of(&spans, day(at)))
            .flatten()
        else {
            continue;
        };
        let row = &mut rows[i];
        // NOTE: leads from before the lifecycle (schema 5) have no touch count or reply time;
        // their state still says how far they got.
        if lead.touches > 0 || matches!(lead.state.as_str(), "texted" | "replied") {
            row.texted_back += 1;
        }
        if lead.replied_at.is_some() || lead.state == "replied" {
            row.replied += 1;
        }
        if lead.state == "booked" {
            row.booked += 1;
            match lead.job_value_cents {
                Some(v) => row.job_value_cents += v.max(0),
                None => row.booked_without_value += 1,
            }
        }
    }
    let mut totals = FunnelRow {
        start: from.to_string(),
        end: to.to_string(),
        ..FunnelRow::default()
    };
    for r in &rows {
        add(&mut totals, r);
    }
    Ok(Funnel {
        from: from.to_string(),
        to: to.to_string(),
        time_zone: tz.name().to_owned(),
        bucket: q.bucket,
        rows,
        totals,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn weeks_run_monday_to_sunday_and_are_cut_to_the_period() {
        // 2026-03-04 is a Wednesday.
        let weeks = buckets(d("2026-03-04"), d("2026-03-17"), FunnelBucket::Week);
        assert_eq!(
            weeks,
            vec![
                (d("2026-03-04"), d("2026-03-08")),
                (d("2026-03-09"), d("2026-03-15")),
                (d("2026-03-16"), d("2026-03-17")),
            ],
            "a partial first week, a whole one, a partial last one"
        );
        let days = buckets(d("2026-02-27"), d("2026-03-02"), FunnelBucket::Day);
        assert_eq!(days.len(), 4, "Feb 27, 28, Mar 1, 2: {days:?}");
        assert_eq!(bucket_of(&weeks, d("2026-03-15")), Some(1));
        assert_eq!(bucket_of(&weeks, d("2026-03-18")), None, "after the period");
        assert_eq!(
            bucket_of(&weeks, d("2026-03-03")),
            None,
            "before the period"
        );
    }

    #[test]
    fn a_day_starts_at_local_midnight_even_across_dst() {
        let chicago: Tz = "America/Chicago".parse().unwrap();
        // DST starts 2026-03-08 at 02:00 in Chicago: midnight is still CST (UTC-6).
        assert_eq!(
            start_of_day(chicago, d("2026-03-08")).to_rfc3339(),
            "2026-03-08T06:00:00+00:00"
        );
        assert_eq!(
            start_of_day(chicago, d("2026-03-09")).to_rfc3339(),
            "2026-03-09T05:00:00+00:00",
            "the next day starts at CDT midnight (UTC-5)"
        );
        // Santiago skips 00:00-01:00 when DST starts (2026-09-06): the day starts at 01:00.
        let santiago: Tz = "America/Santiago".parse().unwrap();
        assert_eq!(
            start_of_day(santiago, d("2026-09-06")).to_rfc3339(),
            "2026-09-06T04:00:00+00:00"
        );
    }
}
