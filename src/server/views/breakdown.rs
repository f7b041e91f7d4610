//! What drove the bill: credits and messages per report name, and for the messages priced by their text,
//! largest first. The largest `LISTED_REPORTS` names are listed; the rest of the names, however many (a
//! large account has thousands), make one "other reports" line, so the card stays small. Exact: the lines
//! partition the period, so their credits add up to its total.

use crate::contract::UsageRow;
use crate::money::Credits;
use crate::page_data::{BreakdownGroup, BreakdownRow};
use crate::server::error::UsageError;
use crate::server::pricing::period_checks::credits_overflow;
use std::collections::HashMap;

/// Report names listed one by one; the rest are summed into one line.
pub const LISTED_REPORTS: usize = 10;

pub fn breakdown<'a>(
    rows: impl IntoIterator<Item = &'a UsageRow>,
    total: Credits,
) -> Result<Vec<BreakdownRow>, UsageError> {
    let mut groups: HashMap<Option<&str>, (usize, Credits)> = HashMap::new();
    for row in rows {
        let (messages, credits) = groups.entry(row.report_name.as_deref()).or_default();
        *messages += 1;
        *credits = credits.checked_add(row.credits_used).ok_or_else(credits_overflow)?;
    }
    let mut lines: Vec<BreakdownRow> = groups
        .into_iter()
        .map(|(name, (messages, credits))| BreakdownRow {
            group: name.map_or(BreakdownGroup::TextPriced, |name| BreakdownGroup::Report(name.to_owned())),
            messages,
            credits,
            share_permille: share_permille(credits, total),
        })
        .collect();
    // Largest first; equal credits by name, the text-priced group last, so the order never depends on hashing.
    lines.sort_by(|a, b| b.credits.cmp(&a.credits).then_with(|| a.group.cmp(&b.group)));
    let mut listed = 0;
    let (listed_lines, rest): (Vec<_>, Vec<_>) = lines.into_iter().partition(|line| match line.group {
        BreakdownGroup::Report(_) => {
            listed += 1;
            listed <= LISTED_REPORTS
        }
        _ => true,
    });
    let mut lines = listed_lines;
    if !rest.is_empty() {
        let credits = Credits::checked_sum(rest.iter().map(|line| line.credits)).ok_or_else(credits_overflow)?;
        lines.push(BreakdownRow {
            group: BreakdownGroup::OtherReports(rest.len()),
            messages: rest.iter().map(|line| line.messages).sum(),
            credits,
            share_permille: share_permille(credits, total),
        });
        lines.sort_by(|a, b| b.credits.cmp(&a.credits).then_with(|| a.group.cmp(&b.group)));
    }
    Ok(lines)
}

/// `part` ÷ `total` in tenths of a percent, rounded half up, in integers (128-bit: no overflow for any amounts).
fn share_permille(part: Credits, total: Credits) -> u32 {
    if total.hundredths() <= 0 {
        return 0;
    }
    let (part, total) = (i128::from(part.hundredths()), i128::from(total.hundredths()));
    ((part * 1000 * 2 + total) / (total * 2)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(report_name: Option<&str>, hundredths: i64) -> UsageRow {
        UsageRow {
            message_id: 1,
            timestamp: "2024-04-29T02:08:29.375Z".into(),
            report_name: report_name.map(str::to_owned),
            credits_used: Credits::from_hundredths(hundredths),
        }
    }

    #[test]
    fn groups_by_report_name_and_text_largest_first() {
        let rows = [
            row(Some("Lease"), 7900),
            row(None, 120),
            row(Some("Title"), 3000),
            row(Some("Lease"), 7900),
            row(None, 440),
        ];
        let lines = breakdown(&rows, Credits::from_hundredths(19360)).unwrap();
        let summary: Vec<(BreakdownGroup, usize, String, u32)> =
            lines.iter().map(|l| (l.group.clone(), l.messages, l.credits.to_string(), l.share_permille)).collect();
        assert_eq!(
            summary,
            vec![
                (BreakdownGroup::Report("Lease".into()), 2, "158.00".to_owned(), 816),
                (BreakdownGroup::Report("Title".into()), 1, "30.00".to_owned(), 155),
                (BreakdownGroup::TextPriced, 2, "5.60".to_owned(), 29),
            ]
        );
    }

    #[test]
    fn the_lines_add_up_exactly_to_the_total() {
        let rows: Vec<UsageRow> =
            (0..1000).map(|i| row([Some("A"), Some("B"), None][i % 3], 1 + (i as i64 * 37) % 997)).collect();
        let total = Credits::checked_sum(rows.iter().map(|r| r.credits_used)).unwrap();
        let lines = breakdown(&rows, total).unwrap();
        assert_eq!(Credits::checked_sum(lines.iter().map(|l| l.credits)), Some(total));
        assert_eq!(lines.iter().map(|l| l.messages).sum::<usize>(), 1000);
    }

    #[test]
    fn ties_order_by_name_with_the_text_group_last() {
        let rows = [row(None, 100), row(Some("b"), 100), row(Some("a"), 100)];
        let groups: Vec<BreakdownGroup> =
            breakdown(&rows, Credits::from_hundredths(300)).unwrap().into_iter().map(|l| l.group).collect();
        let report = |name: &str| BreakdownGroup::Report(name.into());
        assert_eq!(groups, vec![report("a"), report("b"), BreakdownGroup::TextPriced]);
    }

    #[test]
    fn past_the_listed_reports_the_rest_is_one_line_and_the_sum_stays_exact() {
        // 5 000 reports, report i costing i + 1 hundredths, and the text-priced messages.
        let mut rows: Vec<UsageRow> = (0..5_000).map(|i| row(Some(&format!("Report {i:04}")), i + 1)).collect();
        rows.push(row(None, 4_000));
        let total = Credits::checked_sum(rows.iter().map(|r| r.credits_used)).unwrap();
        let lines = breakdown(&rows, total).unwrap();
        assert_eq!(lines.len(), LISTED_REPORTS + 2);
        assert_eq!(lines[0].group, BreakdownGroup::OtherReports(4_990));
        assert_eq!(lines[0].messages, 4_990);
        assert_eq!(lines[1].group, BreakdownGroup::Report("Report 4999".into()));
        assert!(lines
            .iter()
            .any(|line| line.group == BreakdownGroup::TextPriced && line.credits.hundredths() == 4_000));
        assert_eq!(Credits::checked_sum(lines.iter().map(|l| l.credits)), Some(total));
    }

    #[test]
    fn shares_round_half_up_and_an_empty_period_has_none() {
        assert_eq!(share_permille(Credits::from_hundredths(1), Credits::from_hundredths(3)), 333);
        assert_eq!(share_permille(Credits::from_hundredths(2), Credits::from_hundredths(3)), 667);
        assert_eq!(share_permille(Credits::from_hundredths(5), Credits::from_hundredths(5)), 1000);
        assert_eq!(share_permille(Credits::ZERO, Credits::ZERO), 0);
        assert!(breakdown(&[], Credits::ZERO).unwrap().is_empty());
    }
}
