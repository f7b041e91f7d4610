//! A priced period as rows for the store, and back: the same rows, prices and explanations, so that a past
//! period read from the store is shown exactly as it was while it was current.

use super::store::{PeriodRecord, RowRecord};
use crate::contract::UsageRow;
use crate::money::Credits;
use crate::server::pricing::credit_rules::PriceBasis;
use crate::server::pricing::inconsistent::Inconsistent;
use crate::server::pricing::period_checks::parse_timestamp;
use crate::server::pricing::priced_period::PricedPeriod;
use jiff::Timestamp;

/// A period's identity: the UTC date of its first message, `2024-04-29`. It depends on the upstream's data
/// alone, so every replica, and the same server after a restart, names a period the same way. `None` for a
/// period without messages, which is not recorded.
pub fn period_id(period: &PricedPeriod) -> Option<String> {
    let first = period.times.iter().min()?;
    Some(jiff::tz::TimeZone::UTC.to_datetime(*first).date().to_string())
}

/// When the period named `id` starts: its date at 00:00 UTC.
pub fn period_start(id: &str) -> Option<Timestamp> {
    let date: jiff::civil::Date = id.parse().ok()?;
    jiff::tz::TimeZone::UTC.to_timestamp(date.to_datetime(jiff::civil::Time::midnight())).ok()
}

/// The first and last message's instants, in milliseconds.
pub fn message_bounds_ms(period: &PricedPeriod) -> Option<(i64, i64)> {
    Some((period.times.iter().min()?.as_millisecond(), period.times.iter().max()?.as_millisecond()))
}

/// Each row as the store keeps it, in upstream order.
pub fn stored_rows(period: &PricedPeriod) -> Vec<RowRecord> {
    period
        .rows
        .iter()
        .zip(&period.bases)
        .enumerate()
        .map(|(position, (row, basis))| RowRecord {
            message_id: row.message_id,
            position: position as i64,
            timestamp: row.timestamp.clone(),
            report_id: basis.report_id().and_then(|id| i64::try_from(id).ok()),
            report_name: row.report_name.clone(),
            credits_hundredths: row.credits_used.hundredths(),
            basis: serde_json::to_string(basis).expect("a price basis serialises"),
        })
        .collect()
}

/// The period the store kept, priced as it was; an error names what in the store cannot be read.
pub fn restored_period(period: &PeriodRecord, rows: Vec<RowRecord>) -> Result<PricedPeriod, Inconsistent> {
    let mut usage_rows = Vec::with_capacity(rows.len());
    let mut bases = Vec::with_capacity(rows.len());
    let mut times = Vec::with_capacity(rows.len());
    for row in rows {
        let basis: PriceBasis = serde_json::from_str(&row.basis)
            .map_err(|error| format!("message {} of period {}: its price basis: {error}", row.message_id, period.id))?;
        let time = parse_timestamp(&row.timestamp).ok_or_else(|| {
            format!("message {} of period {}: timestamp `{}`", row.message_id, period.id, row.timestamp)
        })?;
        usage_rows.push(UsageRow {
            message_id: row.message_id,
            timestamp: row.timestamp,
            report_name: row.report_name,
            credits_used: Credits::from_hundredths(row.credits_hundredths),
        });
        bases.push(basis);
        times.push(time);
    }
    let total = Credits::checked_sum(usage_rows.iter().map(|row| row.credits_used))
        .ok_or_else(|| format!("period {}: the credits do not add up within the money type", period.id))?;
    let seen = Timestamp::from_millisecond(period.last_seen_ms)
        .map_err(|error| format!("period {}: last seen {}: {error}", period.id, period.last_seen_ms))?;
    Ok(PricedPeriod::new(usage_rows, bases, times, total, seen))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::pricing::credit_rules::{Fallback, TextCharge};

    fn period() -> PricedPeriod {
        let rows = vec![
            UsageRow {
                message_id: 7,
                timestamp: "2024-05-01T00:30:00.000Z".into(),
                report_name: Some("Lease".into()),
                credits_used: Credits::from_hundredths(7900),
            },
            UsageRow {
                message_id: 3,
                timestamp: "2024-04-30T23:59:59+02:00".into(),
                report_name: None,
                credits_used: Credits::from_hundredths(120),
            },
        ];
        let bases = vec![
            PriceBasis::Report { report_id: 5392, name: "Lease".into() },
            PriceBasis::Text {
                charge: TextCharge { characters: 9, tokens: 3, minimum_applied: false },
                fallback: Some(Fallback::NotFound { report_id: 7321 }),
            },
        ];
        let times = rows.iter().map(|row| parse_timestamp(&row.timestamp).unwrap()).collect();
        PricedPeriod::new(
            rows,
            bases,
            times,
            Credits::from_hundredths(8020),
            Timestamp::from_millisecond(1_714_600_000_000).unwrap(),
        )
    }

    #[test]
    fn a_period_is_named_by_the_utc_date_of_its_first_message() {
        // 23:59:59 at +02:00 on the 30th is 21:59:59 UTC on the 30th.
        assert_eq!(period_id(&period()).as_deref(), Some("2024-04-30"));
        assert_eq!(period_id(&PricedPeriod::from_rows(Vec::new())), None);
    }

    #[test]
    fn a_period_starts_at_midnight_utc_of_its_id() {
        assert_eq!(period_start("2024-04-30"), Some("2024-04-30T00:00:00Z".parse().unwrap()));
        assert_eq!(period_start("2024-02-30"), None);
    }

    #[test]
    fn a_period_comes_back_from_the_store_exactly_as_it_was() {
        let original = period();
        let rows = stored_rows(&original);
        assert_eq!(rows[1].report_id, Some(7321), "the id that fell back is kept");
        assert_eq!(rows[1].position, 1);
        let stored = PeriodRecord {
            id: "2024-04-30".into(),
            first_message_ms: 0,
            last_message_ms: 0,
            first_seen_ms: 0,
            last_seen_ms: 1_714_600_000_000,
            closed_ms: None,
            message_count: 2,
            total_hundredths: 8020,
        };
        let restored = restored_period(&stored, rows).unwrap();
        assert_eq!(restored.rows, original.rows);
        assert_eq!(restored.bases, original.bases);
        assert_eq!(restored.times, original.times);
        assert_eq!((restored.total, restored.fetched_at), (original.total, original.fetched_at));
        assert_eq!(restored.explanation(1), original.explanation(1));
    }

    #[test]
    fn a_row_the_store_mangled_is_an_error_naming_it() {
        let mut rows = stored_rows(&period());
        rows[0].basis = "{\"by\":\"magic\"}".into();
        let stored = PeriodRecord {
            id: "2024-04-30".into(),
            first_message_ms: 0,
            last_message_ms: 0,
            first_seen_ms: 0,
            last_seen_ms: 0,
            closed_ms: None,
            message_count: 2,
            total_hundredths: 0,
        };
        let error = restored_period(&stored, rows).unwrap_err();
        assert!(error.0.starts_with("message 7 of period 2024-04-30: its price basis"), "{error}");
    }
}
