//! Which days' usage is unusual, and what drove it: a pure function of the days' usage, in the billing zone's
//! calendar, oldest first and every day present (zero days too).
//!
//! **Baseline.** A day is compared with the days before it (across period boundaries): at least
//! `min_history_days`, at most `window_days`. Its baseline is the median of the same weekday's days among them
//! when there are at least two (so that quiet weekends do not make every Monday unusual), else the median of
//! them all. A median, not a mean: one earlier spike does not raise the baseline of the next.
//!
//! **Spread.** How much days usually stray from their own baseline: the median absolute deviation of each
//! earlier day from its weekday's median (or the overall one, as above), scaled by 1.4826 to read as a standard
//! deviation.
//!
//! **Unusual** when all three hold: the day's credits exceed the baseline by at least `min_impact`, are at least
//! `min_ratio` times it, and exceed it by more than `spread_multiple` spreads. Drops are never unusual. The day
//! in progress is judged by what it has so far, and marked ongoing.
//!
//! **Money stays exact.** Medians of credits are exact hundredths (the lower of the two middle values for an
//! even count); impact = credits − baseline, so baseline + impact is the day's credits. Only the spread and the
//! ratio use floats, and neither is money.
//!
//! **Drivers.** A day's excess is split by report name (each report's credits against its own baseline, over
//! the same days) and, for the messages priced by their text, into "more messages" (the extra messages at the
//! usual price of one) and "longer messages" (the rest of the text's excess). The largest drivers that together
//! explain at least 80 % of the excess are kept, largest first.

use crate::money::Credits;
use jiff::civil::{Date, Weekday};
use std::collections::{BTreeMap, BTreeSet};

/// What makes a day unusual.
#[derive(Clone, Debug, PartialEq)]
pub struct Thresholds {
    pub min_history_days: usize,
    pub window_days: usize,
    pub min_impact: Credits,
    pub min_ratio: f64,
    pub spread_multiple: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            min_history_days: crate::contract::ANOMALY_HISTORY_DAYS,
            window_days: 28,
            min_impact: Credits::from_hundredths(5_000),
            min_ratio: 2.0,
            spread_multiple: 3.0,
        }
    }
}

/// One day's usage.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DayUsage {
    pub date: Option<Date>,
    pub credits: Credits,
    /// Each report name's messages and credits that day.
    pub reports: BTreeMap<String, (u32, Credits)>,
    /// The messages priced by their text: how many, their characters, their credits.
    pub text_messages: u32,
    pub text_characters: u64,
    pub text_credits: Credits,
}

/// What drove part of an unusual day's excess.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DriverKind {
    /// A report name; `messages` that day, `usual_messages` on a usual day.
    Report { name: String, messages: u32, usual_messages: u32 },
    /// More text-priced messages than usual, at the usual price of one.
    TextCount { messages: u32, usual_messages: u32 },
    /// Longer (or otherwise dearer) text-priced messages than usual.
    TextLength,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Driver {
    pub kind: DriverKind,
    pub credits: Credits,
    pub baseline: Credits,
    /// `credits − baseline`, except for the text's split, whose two parts add up to the text's excess.
    pub impact: Credits,
}

#[derive(Clone, Debug, PartialEq)]
pub struct UnusualDay {
    pub date: Date,
    pub credits: Credits,
    pub baseline: Credits,
    pub impact: Credits,
    /// `credits ÷ baseline`; `None` when the baseline is zero.
    pub ratio: Option<f64>,
    /// The day in progress: unusual so far, and still growing.
    pub ongoing: bool,
    pub drivers: Vec<Driver>,
}

/// The unusual days of those judged, or why none could be judged.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// The last day judged has fewer earlier days than needed: `have` of `need`.
    NotEnoughHistory {
        have: usize,
        need: usize,
    },
    Judged {
        days: Vec<UnusualDay>,
        history_days: usize,
    },
}

/// The unusual days among `days` from `judge_from` on (`days` oldest first, every day present); `today` is the
/// day in progress, if it is among them.
pub fn unusual_days(days: &[DayUsage], judge_from: Date, today: Option<Date>, thresholds: &Thresholds) -> Verdict {
    let mut found = Vec::new();
    let mut history_days = 0;
    let judged: Vec<usize> = (0..days.len()).filter(|&i| days[i].date.is_some_and(|date| date >= judge_from)).collect();
    for &index in &judged {
        let history = &days[index.saturating_sub(thresholds.window_days)..index];
        history_days = history.len();
        if history.len() < thresholds.min_history_days {
            continue;
        }
        if let Some(day) = judge(&days[index], history, today, thresholds) {
            found.push(day);
        }
    }
    match judged.last() {
        Some(_) if history_days < thresholds.min_history_days => {
            Verdict::NotEnoughHistory { have: history_days, need: thresholds.min_history_days }
        }
        None => Verdict::NotEnoughHistory { have: 0, need: thresholds.min_history_days },
        Some(_) => Verdict::Judged { days: found, history_days },
    }
}

fn judge(day: &DayUsage, history: &[DayUsage], today: Option<Date>, thresholds: &Thresholds) -> Option<UnusualDay> {
    let date = day.date?;
    let comparable = comparable_days(history, date.weekday());
    let baseline = median(comparable.iter().map(|usage| usage.credits.hundredths()));
    let impact = day.credits.hundredths() - baseline;
    let spread = 1.4826 * spread_of(history);
    let ratio = (baseline > 0).then(|| day.credits.hundredths() as f64 / baseline as f64);
    let unusual = impact >= thresholds.min_impact.hundredths()
        && ratio.is_none_or(|ratio| ratio >= thresholds.min_ratio)
        && impact as f64 > thresholds.spread_multiple * spread;
    unusual.then(|| UnusualDay {
        date,
        credits: day.credits,
        baseline: Credits::from_hundredths(baseline),
        impact: Credits::from_hundredths(impact),
        ratio,
        ongoing: today == Some(date),
        drivers: drivers(day, &comparable, impact),
    })
}

/// The days a day is compared with: its weekday's, when at least two, else all of them.
fn comparable_days(history: &[DayUsage], weekday: Weekday) -> Vec<&DayUsage> {
    let same: Vec<&DayUsage> =
        history.iter().filter(|usage| usage.date.is_some_and(|d| d.weekday() == weekday)).collect();
    if same.len() >= 2 {
        same
    } else {
        history.iter().collect()
    }
}

/// The median absolute deviation of each day of `history` from its own baseline within it, in hundredths.
fn spread_of(history: &[DayUsage]) -> f64 {
    let deviations = history.iter().filter_map(|usage| {
        let weekday = usage.date?.weekday();
        let baseline = median(comparable_days(history, weekday).iter().map(|other| other.credits.hundredths()));
        Some((usage.credits.hundredths() - baseline).abs())
    });
    median(deviations) as f64
}

/// The median; the lower middle value of an even count; 0 of none.
fn median(values: impl Iterator<Item = i64>) -> i64 {
    let mut values: Vec<i64> = values.collect();
    if values.is_empty() {
        return 0;
    }
    values.sort_unstable();
    values[(values.len() - 1) / 2]
}

/// What drove `impact`, largest first, as many as explain at least 80 % of it.
fn drivers(day: &DayUsage, usual: &[&DayUsage], impact: i64) -> Vec<Driver> {
    let names: BTreeSet<&String> =
        day.reports.keys().chain(usual.iter().flat_map(|usage| usage.reports.keys())).collect();
    let mut drivers: Vec<Driver> = names
        .into_iter()
        .map(|name| {
            let (messages, credits) = day.reports.get(name).copied().unwrap_or((0, Credits::ZERO));
            let of = |usage: &&DayUsage| usage.reports.get(name).copied().unwrap_or((0, Credits::ZERO));
            let baseline = median(usual.iter().map(|usage| of(usage).1.hundredths()));
            let usual_messages = median(usual.iter().map(|usage| i64::from(of(usage).0))) as u32;
            Driver {
                kind: DriverKind::Report { name: name.clone(), messages, usual_messages },
                credits,
                baseline: Credits::from_hundredths(baseline),
                impact: Credits::from_hundredths(credits.hundredths() - baseline),
            }
        })
        .collect();
    // The text's excess: the extra messages at the usual price of one, and the rest (longer messages).
    let usual_text = median(usual.iter().map(|usage| usage.text_credits.hundredths()));
    let usual_count = median(usual.iter().map(|usage| i64::from(usage.text_messages)));
    let prices = usual.iter().filter(|usage| usage.text_messages > 0);
    let usual_price = median(prices.map(|usage| usage.text_credits.hundredths() / i64::from(usage.text_messages)));
    let text_excess = day.text_credits.hundredths() - usual_text;
    let count_effect = (i64::from(day.text_messages) - usual_count) * usual_price;
    let count_driver = Driver {
        kind: DriverKind::TextCount { messages: day.text_messages, usual_messages: usual_count as u32 },
        credits: Credits::from_hundredths(usual_text + count_effect),
        baseline: Credits::from_hundredths(usual_text),
        impact: Credits::from_hundredths(count_effect),
    };
    let length_driver = Driver {
        kind: DriverKind::TextLength,
        credits: day.text_credits,
        baseline: Credits::from_hundredths(usual_text + count_effect),
        impact: Credits::from_hundredths(text_excess - count_effect),
    };
    drivers.extend([count_driver, length_driver]);
    drivers.retain(|driver| driver.impact > Credits::ZERO);
    drivers.sort_by(|a, b| b.impact.cmp(&a.impact).then_with(|| a.kind.cmp_name(&b.kind)));
    let mut explained = 0;
    let mut kept = Vec::new();
    for driver in drivers {
        if explained * 10 >= impact * 8 {
            break;
        }
        explained += driver.impact.hundredths();
        kept.push(driver);
    }
    kept
}

impl DriverKind {
    /// Ties broken by name, so that the order is the same every time.
    fn cmp_name(&self, other: &DriverKind) -> std::cmp::Ordering {
        let name = |kind: &DriverKind| match kind {
            DriverKind::Report { name, .. } => name.clone(),
            DriverKind::TextCount { .. } => "~text count".to_owned(),
            DriverKind::TextLength => "~text length".to_owned(),
        };
        name(self).cmp(&name(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn credits(whole: i64) -> Credits {
        Credits::from_hundredths(whole * 100)
    }

    /// Days from Monday 1 January 2024 on, each of `amounts` credits, priced by their text (one message a credit).
    fn days(amounts: &[i64]) -> Vec<DayUsage> {
        let start = date(2024, 1, 1);
        amounts
            .iter()
            .enumerate()
            .map(|(index, &amount)| DayUsage {
                date: Some(start.checked_add(jiff::Span::new().days(index as i64)).unwrap()),
                credits: credits(amount),
                text_messages: amount as u32,
                text_characters: amount as u64 * 8,
                text_credits: credits(amount),
                ..DayUsage::default()
            })
            .collect()
    }

    fn judged(days: &[DayUsage], from: usize) -> Vec<UnusualDay> {
        match unusual_days(days, days[from].date.unwrap(), None, &Thresholds::default()) {
            Verdict::Judged { days, .. } => days,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn flat_usage_has_no_unusual_day() {
        assert!(judged(&days(&[100; 35]), 7).is_empty());
    }

    #[test]
    fn one_planted_day_of_three_times_the_usual_is_found_with_its_impact_and_top_driver() {
        let mut usage = days(&[100; 21]);
        let spike = &mut usage[14];
        spike.credits = credits(300);
        spike.text_credits = credits(100);
        spike.reports.insert("Tenant Obligations Report".into(), (5, credits(200)));
        let found = judged(&usage, 7);
        assert_eq!(found.len(), 1, "{found:?}");
        let day = &found[0];
        assert_eq!((day.date, day.baseline, day.impact), (date(2024, 1, 15), credits(100), credits(200)));
        assert_eq!(day.baseline.checked_add(day.impact), Some(day.credits), "baseline + impact = the day's credits");
        let top = &day.drivers[0];
        assert_eq!(
            top.kind,
            DriverKind::Report { name: "Tenant Obligations Report".into(), messages: 5, usual_messages: 0 }
        );
        assert_eq!((top.baseline, top.impact), (Credits::ZERO, credits(200)));
    }

    #[test]
    fn a_second_spike_a_week_after_the_first_is_not_hidden_by_it() {
        let mut amounts = vec![100; 28];
        amounts[14] = 500;
        amounts[21] = 500;
        let found: Vec<Date> = judged(&days(&amounts), 7).iter().map(|day| day.date).collect();
        assert_eq!(found, [date(2024, 1, 15), date(2024, 1, 22)]);
    }

    #[test]
    fn quiet_weekends_over_eight_weeks_flag_no_monday() {
        let week = [120, 110, 130, 115, 125, 2, 0];
        let amounts: Vec<i64> = week.iter().copied().cycle().take(56).collect();
        assert!(judged(&days(&amounts), 7).is_empty(), "{:?}", judged(&days(&amounts), 7));
    }

    #[test]
    fn a_drop_is_never_unusual() {
        let mut amounts = vec![400; 21];
        amounts[15] = 0;
        assert!(judged(&days(&amounts), 7).is_empty());
    }

    #[test]
    fn six_days_of_history_are_not_enough() {
        let usage = days(&[100, 100, 100, 100, 100, 100, 900]);
        let verdict = unusual_days(&usage, usage[6].date.unwrap(), None, &Thresholds::default());
        assert_eq!(verdict, Verdict::NotEnoughHistory { have: 6, need: 7 });
    }

    #[test]
    fn the_thresholds_hold_on_both_sides() {
        // Usual 50: 100 is exactly 2× and exactly 50 more; 99.99 is neither.
        let at = |amount: Credits| {
            let mut usage = days(&[50; 15]);
            usage[14].credits = amount;
            judged(&usage, 14).len()
        };
        assert_eq!(at(credits(100)), 1, "at the thresholds");
        assert_eq!(at(Credits::from_hundredths(9_999)), 0, "just below them");
        // A high usual: 2× is far more than 50 credits, so the ratio decides.
        let mut usage = days(&[1_000; 15]);
        usage[14].credits = credits(1_999);
        assert!(judged(&usage, 14).is_empty());
        usage[14].credits = credits(2_000);
        assert_eq!(judged(&usage, 14).len(), 1);
    }

    #[test]
    fn the_day_in_progress_is_ongoing_once_it_passed_the_whole_days_threshold() {
        let mut usage = days(&[100; 15]);
        usage[14].credits = credits(250);
        let today = usage[14].date;
        match unusual_days(&usage, usage[14].date.unwrap(), today, &Thresholds::default()) {
            Verdict::Judged { days, .. } => assert!(days[0].ongoing),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn more_and_longer_text_messages_are_told_apart() {
        let mut usage = days(&[100; 15]);
        // Usual: 100 messages at 1.00 each. Now 150 messages (+50.00 at the usual price) for 200.00 credits: the
        // other 50.00 are longer messages.
        usage[14].credits = credits(200);
        usage[14].text_messages = 150;
        usage[14].text_credits = credits(200);
        let day = &judged(&usage, 14)[0];
        let by_kind: Vec<(&DriverKind, Credits)> = day.drivers.iter().map(|d| (&d.kind, d.impact)).collect();
        let count = DriverKind::TextCount { messages: 150, usual_messages: 100 };
        assert_eq!(by_kind, [(&count, credits(50)), (&DriverKind::TextLength, credits(50))]);
        // One driver that explains 80 % of the excess is enough.
        usage[14].credits = credits(400);
        usage[14].text_credits = credits(400);
        let day = &judged(&usage, 14)[0];
        let kinds: Vec<&DriverKind> = day.drivers.iter().map(|d| &d.kind).collect();
        assert_eq!(kinds, [&DriverKind::TextLength], "250 of 300 explained by the longer messages alone");
    }

    #[test]
    fn a_dst_week_in_berlin_counts_its_days_by_the_calendar() {
        // The days are the zone's calendar days: the 23-hour Sunday of 31 March 2024 is one day like another.
        let start = date(2024, 3, 18);
        let mut usage: Vec<DayUsage> = (0..21)
            .map(|index| DayUsage {
                date: Some(start.checked_add(jiff::Span::new().days(index)).unwrap()),
                credits: credits(80),
                text_messages: 80,
                text_credits: credits(80),
                ..DayUsage::default()
            })
            .collect();
        usage[13].credits = credits(300); // Sunday 31 March
        let found: Vec<Date> = judged(&usage, 7).iter().map(|day| day.date).collect();
        assert_eq!(found, [date(2024, 3, 31)]);
    }
}
