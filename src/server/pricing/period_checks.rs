//! What makes a set of messages a billing period this server can price and show, and the errors when it is
//! not: each message listed once, every timestamp readable, no two more than `LONGEST_PERIOD_DAYS` apart, and
//! sums that fit the money type. Checked once, when a period is priced, so that the views built from it can rely on it.

use super::credit_rules::{check_charged, PriceBasis};
use super::inconsistent::Inconsistent;
use crate::contract::UsageRow;
use crate::server::error::UsageError;
use crate::server::upstream::wire::Message;
use jiff::Timestamp;
use std::collections::HashSet;

/// No billing period spans more than a year; timestamps further apart are not a billing period.
pub const LONGEST_PERIOD_DAYS: i64 = 366;

/// An RFC 3339 timestamp, as the upstream promises.
pub fn parse_timestamp(text: &str) -> Option<Timestamp> {
    text.parse().ok()
}

/// The messages' times, once the messages are known to be a period: each id once, each time readable and
/// within a period's span. The dashboard buckets by day, so a timestamp it cannot read is as bad as a missing
/// one, and timestamps no billing period can span would make a chart of millions of days.
pub fn parse_times(messages: &[Message]) -> Result<Vec<Timestamp>, UsageError> {
    check_unique_ids(messages.iter().map(|message| message.id))
        .map_err(|cause| UsageError::UpstreamMalformed { resource: "messages".into(), cause: cause.0 })?;
    let times = messages
        .iter()
        .map(|message| {
            parse_timestamp(&message.timestamp).ok_or_else(|| UsageError::UpstreamMalformed {
                resource: "messages".into(),
                cause: format!("message {} has timestamp `{}`, which is not RFC 3339", message.id, message.timestamp),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    check_span(&times)?;
    Ok(times)
}

/// A message is billed once: a period listing one id twice has no one total (which of the two is billed?),
/// and the history store keys its rows by the id. The error names the first id seen twice.
pub fn check_unique_ids(ids: impl IntoIterator<Item = i64>) -> Result<(), Inconsistent> {
    let mut seen = HashSet::new();
    match ids.into_iter().find(|id| !seen.insert(*id)) {
        Some(id) => Err(Inconsistent::from(format!("message {id} is listed more than once"))),
        None => Ok(()),
    }
}

/// Checks a priced period read back from outside this process (another replica's value in Redis) as an upstream
/// answer is checked: one basis per row, each id once, readable timestamps within one period's span, and every
/// price what the credit rules give for its basis. Returns the rows' instants.
pub fn check_priced_rows(rows: &[UsageRow], bases: &[PriceBasis]) -> Result<Vec<Timestamp>, Inconsistent> {
    if rows.len() != bases.len() {
        return Err(Inconsistent::from(format!("{} rows but {} prices", rows.len(), bases.len())));
    }
    check_unique_ids(rows.iter().map(|row| row.message_id))?;
    let times = rows
        .iter()
        .map(|row| parse_timestamp(&row.timestamp).ok_or_else(|| format!("message {}: timestamp", row.message_id)))
        .collect::<Result<Vec<_>, _>>()?;
    check_span(&times).map_err(|error| error.to_string())?;
    for (row, basis) in rows.iter().zip(bases) {
        check_charged(row.credits_used, row.report_name.as_deref(), basis)
            .map_err(|reason| format!("message {}: {reason}", row.message_id))?;
    }
    Ok(times)
}

/// Refuses timestamps that no billing period can span, before anything is bucketed or drawn.
pub fn check_span(times: &[Timestamp]) -> Result<(), UsageError> {
    let (Some(first), Some(last)) = (times.iter().min(), times.iter().max()) else { return Ok(()) };
    let days = last.duration_since(*first).as_secs() / 86_400 + 1;
    if days > LONGEST_PERIOD_DAYS {
        return Err(period_too_long(days));
    }
    Ok(())
}

fn period_too_long(days: i64) -> UsageError {
    UsageError::UpstreamMalformed {
        resource: "messages".into(),
        cause: format!("the messages span {days} days; a billing period spans at most {LONGEST_PERIOD_DAYS}"),
    }
}

/// Costs whose sum does not fit: the upstream's numbers cannot be a bill. Every figure shown is a sum of some
/// of a period's non-negative amounts, so a period whose total fits never meets this in its views.
pub fn credits_overflow() -> UsageError {
    UsageError::UpstreamMalformed {
        resource: "reports".into(),
        cause: "the credits add up to more than can be represented".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(timestamp: &str) -> Message {
        Message { id: 1000, text: "t".into(), timestamp: timestamp.into(), report_id: None }
    }

    fn times(texts: &[&str]) -> Vec<Timestamp> {
        texts.iter().map(|t| parse_timestamp(t).unwrap()).collect()
    }

    #[test]
    fn an_unreadable_timestamp_is_refused() {
        assert!(matches!(parse_times(&[message("last tuesday")]), Err(UsageError::UpstreamMalformed { .. })));
        assert!(matches!(parse_times(&[message("2024-13-01T00:00:00Z")]), Err(UsageError::UpstreamMalformed { .. })));
        assert_eq!(parse_times(&[message("2024-04-29T02:08:29.375Z")]).unwrap().len(), 1);
    }

    #[test]
    fn a_message_listed_twice_is_refused_by_its_id() {
        let mut twice = vec![message("2024-04-29T00:00:00Z"), message("2024-04-29T00:00:01Z")];
        twice[0].id = 7;
        twice[1].id = 7;
        match parse_times(&twice) {
            Err(UsageError::UpstreamMalformed { resource, cause }) => {
                assert_eq!((resource.as_str(), cause.as_str()), ("messages", "message 7 is listed more than once"))
            }
            other => panic!("{other:?}"),
        }
        twice[1].id = 8;
        assert_eq!(parse_times(&twice).unwrap().len(), 2);
        assert_eq!(check_unique_ids([1, 2, 3, 2, 1]), Err("message 2 is listed more than once".into()));
    }

    #[test]
    fn timestamps_no_billing_period_can_span_are_refused() {
        // The widest timestamps there are (a later one is not RFC 3339 to any date library, and refused as such).
        assert!(check_span(&times(&["0001-01-01T00:00:00Z", "9999-12-30T00:00:00Z"])).is_err());
        assert!(check_span(&times(&["1970-01-01T00:00:00Z", "2024-04-29T00:00:00Z"])).is_err());
        assert!(check_span(&times(&["2024-01-01T00:00:00Z", "2024-12-31T23:59:59Z"])).is_ok());
        assert!(check_span(&times(&["2024-01-01T00:00:00Z", "2025-01-01T00:00:01Z"])).is_err());
        assert!(check_span(&[]).is_ok());
        let messages = [message("0001-01-01T00:00:00Z"), message("9999-12-30T00:00:00Z")];
        assert!(matches!(parse_times(&messages), Err(UsageError::UpstreamMalformed { .. })));
    }
}
