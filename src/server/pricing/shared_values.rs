//! The values replicas share (`shared_cache`), written and read back: a priced period, a report lookup, how a
//! computation that shared no period ended. Each starts with a line naming what it is and its format
//! version. A value of another kind or version, a truncated one, one whose rows do not match its version, or
//! one that does not add up is refused with the reason: the caller logs it and computes, it is never served.

use super::credit_rules::PriceBasis;
use super::inconsistent::Inconsistent;
use super::period_checks::check_priced_rows;
use super::priced_period::PricedPeriod;
use crate::contract::UsageRow;
use crate::money::Credits;
use crate::server::error::UsageError;
use crate::server::upstream::wire::{Report, ReportLookup};
use axum::body::Bytes;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::time::Duration;

const PERIOD_FORMAT: &[u8] = b"credit-dashboard period 1\n";
const REPORT_FORMAT: &[u8] = b"credit-dashboard report 1\n";
const OUTCOME_FORMAT: &[u8] = b"credit-dashboard outcome 1\n";

#[derive(Serialize)]
struct PeriodOut<'a> {
    version: String,
    fetched_at: String,
    rows: &'a [UsageRow],
    bases: &'a [PriceBasis],
}

#[derive(Deserialize)]
struct PeriodIn {
    version: String,
    fetched_at: String,
    rows: Vec<UsageRow>,
    bases: Vec<PriceBasis>,
}

pub fn encode_period(period: &PricedPeriod) -> Bytes {
    let value = PeriodOut {
        version: period.version_tag(),
        fetched_at: period.fetched_at.to_string(),
        rows: &period.rows,
        bases: &period.bases,
    };
    framed(PERIOD_FORMAT, &value)
}

/// The period in `bytes`, which must be the version `expected` names.
pub fn decode_period(bytes: &[u8], expected: &str) -> Result<PricedPeriod, Inconsistent> {
    let value: PeriodIn = unframed(bytes, PERIOD_FORMAT, "period")?;
    if value.version != expected {
        return Err(Inconsistent::from(format!("holds version {}, not {expected}", shorten(&value.version))));
    }
    // Checked as an upstream answer is: what Redis holds is input, whoever wrote it.
    let times = check_priced_rows(&value.rows, &value.bases)?;
    let total = Credits::checked_sum(value.rows.iter().map(|row| row.credits_used))
        .ok_or_else(|| "the credits do not add up within the money type".to_owned())?;
    let fetched_at = value.fetched_at.parse().map_err(|_| "its fetch time is not an instant".to_owned())?;
    let period = PricedPeriod::new(value.rows, value.bases, times, total, fetched_at);
    // The version is a digest of the rows and prices: a value edited (or cut) inside valid JSON shows here.
    if period.version_tag() != expected {
        return Err(Inconsistent::from(format!("its rows are not those of version {expected}")));
    }
    Ok(period)
}

/// A report lookup as replicas share it: the answer, and until when it holds (so that every replica forgets
/// it at the same time).
#[derive(Serialize, Deserialize)]
struct SharedLookup {
    expires_at_ms: i64,
    answer: Answer,
}

/// Externally tagged: credits are read from the number's own text, which an internally tagged enum's
/// buffering would not keep.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Answer {
    Found { id: u64, name: String, credit_cost: Credits },
    NotFound,
    Refused { status: u16 },
}

pub fn encode_lookup(lookup: &ReportLookup, lives: Duration) -> Bytes {
    let answer = match lookup {
        ReportLookup::Found(report) => {
            Answer::Found { id: report.id, name: report.name.clone(), credit_cost: report.credit_cost }
        }
        ReportLookup::NotFound => Answer::NotFound,
        ReportLookup::Refused(status) => Answer::Refused { status: *status },
    };
    let expires_at_ms = jiff::Timestamp::now().as_millisecond().saturating_add(lives.as_millis() as i64);
    framed(REPORT_FORMAT, &SharedLookup { expires_at_ms, answer })
}

/// The lookup of report `id` in `bytes`, and how much longer it holds; `Err` for a value that is not one.
pub fn decode_lookup(bytes: &[u8], id: u64) -> Result<Option<(ReportLookup, Duration)>, Inconsistent> {
    let value: SharedLookup = unframed(bytes, REPORT_FORMAT, "report lookup")?;
    let left = value.expires_at_ms.saturating_sub(jiff::Timestamp::now().as_millisecond());
    if left <= 0 {
        return Ok(None);
    }
    // Checked as the upstream's answer is (`UpstreamClient::fetch_report`).
    let lookup = match value.answer {
        Answer::Found { id: found, .. } if found != id => {
            return Err(Inconsistent::from(format!("report {found} is stored as report {id}")))
        }
        Answer::Found { credit_cost, .. } if credit_cost < Credits::ZERO => {
            return Err(Inconsistent::from(format!("report {id} has a negative credit_cost {credit_cost}")))
        }
        Answer::Found { name, credit_cost, .. } => ReportLookup::Found(Report { id, name, credit_cost }),
        Answer::NotFound => ReportLookup::NotFound,
        Answer::Refused { status: status @ (400 | 422) } => ReportLookup::Refused(status),
        Answer::Refused { status } => {
            return Err(Inconsistent::from(format!("report {id} refused with HTTP {status}, which is no refusal")))
        }
    };
    Ok(Some((lookup, Duration::from_millis(left as u64))))
}

/// How a computation that shared no period ended, for the replicas waiting on it.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// It failed: they answer with the same error.
    Failed(UsageError),
}

pub fn encode_outcome(outcome: &Outcome) -> Bytes {
    framed(OUTCOME_FORMAT, outcome)
}

pub fn decode_outcome(bytes: &[u8]) -> Result<Outcome, Inconsistent> {
    unframed(bytes, OUTCOME_FORMAT, "outcome")
}

/// `value` as JSON after its format line.
fn framed(format: &[u8], value: &impl Serialize) -> Bytes {
    let mut bytes = format.to_vec();
    serde_json::to_writer(&mut bytes, value).expect("a shared value serialises");
    Bytes::from(bytes)
}

/// The JSON after the format line `format`; a value without that line is not a `what` of ours.
fn unframed<T: DeserializeOwned>(bytes: &[u8], format: &[u8], what: &str) -> Result<T, Inconsistent> {
    let json = bytes.strip_prefix(format).ok_or_else(|| not_ours(bytes, what))?;
    serde_json::from_slice(json).map_err(|error| Inconsistent(format!("unreadable: {error}")))
}

/// Why a value is refused that does not start as ours: what it starts with, shortened and escaped.
fn not_ours(bytes: &[u8], what: &str) -> String {
    let start = String::from_utf8_lossy(&bytes[..bytes.len().min(40)]).into_owned();
    format!("not a {what} of this format (it starts {:?})", shorten(&start))
}

fn shorten(text: &str) -> String {
    text.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn period() -> PricedPeriod {
        PricedPeriod::from_rows(vec![
            PricedPeriod::test_row(1, Some("Lease"), 7900),
            PricedPeriod::test_row(2, None, 100),
        ])
    }

    /// A value another writer of Redis made consistent (its version matches its rows), to see what else is
    /// checked: `edit` changes the rows and prices before the version is computed.
    fn forged(edit: impl FnOnce(&mut Vec<UsageRow>, &mut Vec<PriceBasis>)) -> (Bytes, String) {
        let period = period();
        let (mut rows, mut bases) = (period.rows.clone(), period.bases.clone());
        edit(&mut rows, &mut bases);
        let times = rows.iter().map(|row| row.timestamp.parse().unwrap()).collect();
        let total = Credits::checked_sum(rows.iter().map(|row| row.credits_used)).unwrap();
        let forged = PricedPeriod::new(rows, bases, times, total, period.fetched_at);
        (encode_period(&forged), forged.version_tag())
    }

    #[test]
    fn a_consistent_value_is_still_checked_as_an_upstream_answer() {
        let refusal = |edit: fn(&mut Vec<UsageRow>, &mut Vec<PriceBasis>)| {
            let (bytes, version) = forged(edit);
            decode_period(&bytes, &version).unwrap_err()
        };
        let reason = refusal(|rows, _| rows[1].timestamp = "2025-06-01T00:00:00Z".into());
        assert!(reason.0.contains("span"), "{reason}");
        let reason = refusal(|rows, _| rows[0].credits_used = Credits::from_hundredths(-7900));
        assert!(reason.0.contains("negative"), "{reason}");
        let reason = refusal(|rows, _| rows[0].report_name = Some("Another".into()));
        assert!(reason.0.contains("report name"), "{reason}");
        let reason = refusal(|rows, _| rows[1].credits_used = Credits::from_hundredths(1));
        assert!(reason.0.contains("text rule"), "{reason}");
        let reason = refusal(|rows, _| rows[1].report_name = Some("Lease".into()));
        assert!(reason.0.contains("report name on a text price"), "{reason}");
        let reason = refusal(|rows, _| rows[1].message_id = 1);
        assert!(reason.0.contains("more than once"), "{reason}");
        let period = period();
        let reason = check_priced_rows(&period.rows, &period.bases[..1]).unwrap_err();
        assert!(reason.0.contains("2 rows but 1 prices"), "{reason}");
        let (bytes, version) = forged(|_, _| ());
        assert!(decode_period(&bytes, &version).is_ok(), "the unedited period reads back");
    }

    #[test]
    fn a_lookup_is_checked_as_the_upstream_answer_is() {
        let negative =
            ReportLookup::Found(Report { id: 7, name: "Lease".into(), credit_cost: Credits::from_hundredths(-100) });
        let reason = decode_lookup(&encode_lookup(&negative, Duration::from_secs(60)), 7).unwrap_err();
        assert!(reason.0.contains("negative"), "{reason}");
        let refused =
            |status| decode_lookup(&encode_lookup(&ReportLookup::Refused(status), Duration::from_secs(60)), 7);
        assert!(matches!(refused(422), Ok(Some((ReportLookup::Refused(422), _)))));
        assert!(refused(500).unwrap_err().0.contains("no refusal"));
    }

    #[test]
    fn a_period_reads_back_as_it_was_written() {
        let period = period();
        let read = decode_period(&encode_period(&period), &period.version_tag()).expect("read back");
        assert_eq!((read.rows, read.bases, read.total), (period.rows.clone(), period.bases.clone(), period.total));
        assert_eq!((read.fetched_at, read.version), (period.fetched_at, period.version));
    }

    #[test]
    fn a_foreign_truncated_or_edited_value_is_refused() {
        let period = period();
        let version = period.version_tag();
        let bytes = encode_period(&period);
        assert!(decode_period(b"hello", &version).unwrap_err().0.contains("not a period"));
        assert!(decode_period(b"credit-dashboard period 2\n{}", &version).unwrap_err().0.contains("not a period"));
        assert!(decode_period(&bytes[..bytes.len() - 5], &version).unwrap_err().0.contains("unreadable"));
        let edited = String::from_utf8(bytes.to_vec()).unwrap().replace("79.00", "7.90");
        assert!(decode_period(edited.as_bytes(), &version).unwrap_err().0.contains("not those of version"));
        assert!(decode_period(&bytes, "0000000000001").unwrap_err().0.contains("holds version"));
    }

    #[test]
    fn a_lookup_holds_until_it_expires_and_only_for_its_report() {
        let found =
            ReportLookup::Found(Report { id: 7, name: "Lease".into(), credit_cost: Credits::from_hundredths(7900) });
        let bytes = encode_lookup(&found, Duration::from_secs(60));
        let (read, left) = decode_lookup(&bytes, 7).unwrap().expect("still holds");
        assert_eq!(read, found);
        assert!(left <= Duration::from_secs(60) && left > Duration::from_secs(50));
        assert!(decode_lookup(&bytes, 8).is_err(), "another report's id");
        assert_eq!(decode_lookup(&encode_lookup(&ReportLookup::NotFound, Duration::ZERO), 7), Ok(None));
        let refused = encode_lookup(&ReportLookup::Refused(422), Duration::from_secs(5));
        assert_eq!(decode_lookup(&refused, 7).unwrap().map(|(lookup, _)| lookup), Some(ReportLookup::Refused(422)));
        assert!(decode_lookup(b"{\"answer\":\"not_found\"}", 7).is_err());
    }

    #[test]
    fn an_outcome_reads_back_with_its_error() {
        let error = UsageError::UpstreamUnavailable { resource: "messages".into(), cause: "HTTP 500".into() };
        let Ok(Outcome::Failed(read)) = decode_outcome(&encode_outcome(&Outcome::Failed(error.clone()))) else {
            panic!("a failure")
        };
        assert_eq!((read.code(), read.to_string()), (error.code(), error.to_string()));
        assert!(decode_outcome(b"oops").is_err());
    }
}
