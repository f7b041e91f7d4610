//! What the server sends the dashboard: plain, serialisable view types, computed on the server (dates,
//! sums, the chart) so that the WASM only displays them.

use crate::money::Credits;
use crate::view_query::ViewQuery;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// One bar of the chart: the credits of `days` days (1, or 7 for a long period) from `day`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayTotal {
    /// The bar's first day, `DD-MM-YYYY`.
    pub day: String,
    /// The same day as the `day` URL parameter writes it, `YYYY-MM-DD`.
    pub iso_day: String,
    pub days: u32,
    pub credits: Credits,
    /// A day still to come, its credits the projection's pace.
    pub projected: bool,
}

/// The figures in the dashboard's header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeaderFigures {
    /// First and last message day, `DD-MM-YYYY`; `None` for an empty period.
    pub first_day: Option<String>,
    pub last_day: Option<String>,
    pub total_credits: Credits,
    pub message_count: usize,
    pub report_priced_count: usize,
}

/// One row of the table as shown: the contract's figures and the time formatted on the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableRow {
    pub message_id: i64,
    /// `DD-MM-YYYY HH:mm` in the view's zone.
    pub time: String,
    pub report_name: Option<String>,
    pub credits: Credits,
    /// How the credits were reached, from the pricing code itself.
    pub explanation: String,
}

/// One page of the table, sorted over the whole period on the server, then cut.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TablePage {
    /// The view shown, as the server checked it: an unknown zone or an impossible day left out, and the page
    /// clamped to the pages there are.
    pub view: ViewQuery,
    pub page_count: u32,
    /// 1-based position of the first row shown; 0 when there are none.
    pub first_row: usize,
    /// The rows the view has, over all its pages (its filters applied).
    pub total_rows: usize,
    pub rows: Vec<TableRow>,
    /// The zone the times are in.
    pub zone: String,
    /// The chosen day, `DD-MM-YYYY`, for its chip.
    pub day: Option<String>,
    /// When the data was fetched from the upstream, `HH:MM:SS UTC`.
    pub as_of: String,
    /// The page was asked for from a version that is no longer kept: it is the latest data, and rows may have
    /// moved between pages since the walk began.
    pub refreshed: bool,
}

/// The zone the page is shown in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShownZone {
    pub name: String,
    /// Its offset now, `UTC−05:00`.
    pub offset: String,
    /// What was asked for as a zone and is not one, fit to show (the page then shows UTC and says so).
    pub unknown: Option<String>,
    /// The picker's suggestions, every zone name the server knows as `<option>` elements: the same on every
    /// page, so written once per process.
    pub suggestions_html: Arc<str>,
}

/// What a line of "what drove the bill" adds up. Ordered so that ties list names first, by name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum BreakdownGroup {
    /// The messages priced by one report name.
    Report(String),
    /// The messages priced by report names beyond the listed ones: how many names.
    OtherReports(usize),
    /// The messages priced by their text.
    TextPriced,
}

/// One line of "what drove the bill".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BreakdownRow {
    pub group: BreakdownGroup,
    pub messages: usize,
    pub credits: Credits,
    /// Share of the period's total, in tenths of a percent (rounded).
    pub share_permille: u32,
}

/// What the dashboard shows of the period in one zone and day: the same for every page and sort, so it is
/// computed once per kept period, zone and day.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Overview {
    pub summary: HeaderFigures,
    /// By credits, largest first; the rows add up exactly to the summary's total.
    pub breakdown: Vec<BreakdownRow>,
    pub days: Vec<DayTotal>,
    /// The budget's daily allowance (the budget over the period's days), drawn as a line on the chart.
    pub allowance: Option<Credits>,
    /// The chart, drawn on the server.
    pub chart_svg: String,
}

/// One billing period the page can show, in the period picker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeriodChoice {
    /// `None` is the current period (the upstream's).
    pub id: Option<String>,
    /// Its first and last message day, `DD-MM-YYYY → DD-MM-YYYY` (UTC), when known.
    pub days: Option<String>,
    pub total_credits: Option<Credits>,
    pub message_count: Option<usize>,
    /// The one the page shows.
    pub shown: bool,
}

/// This period against the previous one at the same point: credits to date against the previous period's
/// credits up to the same time since its start (or all of them, past its length), and its full total.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comparison {
    /// From the period's start to when its data was fetched, `6 days 4 hours`; `None` when that is as long as
    /// the whole previous period, which it is then compared with.
    pub elapsed: Option<String>,
    pub to_date: Credits,
    pub previous_to_date: Credits,
    pub previous_total: Credits,
    /// (to date − previous to date) ÷ previous to date, in signed tenths of a percent; `None` when the previous
    /// period had no usage by then.
    pub change_permille: Option<i64>,
    /// The previous period's days, `DD-MM-YYYY → DD-MM-YYYY`.
    pub previous_days: String,
}

/// The page's periods: which are kept, which is shown, and how it compares with the one before.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PastPeriods {
    /// The current period first, then the past ones, the most recent first.
    pub choices: Vec<PeriodChoice>,
    /// Whether the period shown is a past one (read from the history store).
    pub past: bool,
    /// Why past periods cannot be listed, or that none is kept yet, for the page to say.
    pub note: Option<String>,
    /// `None` with `comparison_note` saying why.
    pub comparison: Option<Comparison>,
    pub comparison_note: Option<String>,
}

/// The budget card: usage against the period's budget, and where the period is heading.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BudgetFigures {
    /// The period's first and last day in the view's zone, `DD-MM-YYYY`; the last is `None` when no billing
    /// cycle is configured (the end is unknown).
    pub first_day: String,
    pub last_day: Option<String>,
    /// The period has ended: final figures.
    pub closed: bool,
    /// What the figures are as of, `06-05-2024 14:02 UTC`.
    pub as_of: String,
    pub to_date: Credits,
    pub budget: Option<Credits>,
    /// Used ÷ budget, in tenths of a percent.
    pub used_permille: Option<u32>,
    /// The budget left; negative when it is exceeded.
    pub remaining: Option<Credits>,
    /// Credits per day over the full days so far, and how many.
    pub pace: Option<Credits>,
    pub full_days: usize,
    /// The projected total at the period's end, and its 80 % range.
    pub projected: Option<(Credits, Credits, Credits)>,
    /// Why there is no projection, in words, when there is none.
    pub projection_note: Option<String>,
    /// When the budget runs out, in words.
    pub run_out: Option<String>,
    /// The alerts sent for the period, and how their delivery went.
    pub alerts: Vec<AlertLine>,
}

/// One alert of the period, as the budget card lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertLine {
    /// `50 % of the budget reached`, `the budget projected to be exceeded`.
    pub what: String,
    /// `sending`, `delivered`, `failing` (retried with backoff) or `failed` (given up).
    pub state: String,
    /// `06-05-2024 14:02 UTC, 1 attempt`, `HTTP 500, 3 attempts`.
    pub detail: String,
}

/// Everything the dashboard shows: the period's overview and one page of the table, in a zone. Rendered on the
/// server only (the table island gets its page as props).
#[derive(Clone, Debug, PartialEq)]
pub struct DashboardData {
    /// The view shown, as the server checked it; every link on the page is written from it.
    pub view: ViewQuery,
    pub overview: Arc<Overview>,
    /// The overview's chart with each bar linked to its day in this view.
    pub chart_svg: String,
    pub table: TablePage,
    pub zone: ShownZone,
    /// The chosen day, `DD-MM-YYYY`.
    pub day: Option<String>,
    /// `None` for a period without messages.
    pub budget: Option<BudgetFigures>,
    /// The period's unusual days, as `/usage/anomalies` tells them; `None` when they were not looked for.
    pub unusual: Option<crate::contract::UsageAnomalies>,
}

/// What the page's route hands the page: the view as asked (the retry link asks for it again), the dashboard
/// or why it could not be loaded, and the periods to pick from (listed even when the dashboard failed: past
/// periods come from the history store, not the upstream).
#[derive(Clone, Debug, PartialEq)]
pub struct DashboardPageData {
    pub asked: ViewQuery,
    pub dashboard: Result<DashboardData, crate::contract::ErrorDetail>,
    pub periods: PastPeriods,
    /// The person signed in, as the page names them; `None` without access control.
    pub signed_in: Option<String>,
}
