//! The `/usage` contract other teams depend on. These types are the only definition of it: the JSON route,
//! the server function and the dashboard all use them.

use crate::money::Credits;
use serde::{Deserialize, Serialize};

/// One billed message, in upstream order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UsageRow {
    pub message_id: i64,
    /// The upstream timestamp, verbatim.
    pub timestamp: String,
    /// Omitted (not null, not "") when no report priced the message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_name: Option<String>,
    pub credits_used: Credits,
}

/// The `/usage` body. Generic over the rows' container so that the server can write a borrowed slice of a
/// kept period without copying it; clients read a `Vec`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageResponse<Rows = Vec<UsageRow>> {
    pub usage: Rows,
}

/// `GET /usage/summary`: the current period in figures — its bounds, total, messages, credits per day in the
/// asked zone, the budget and the projection of its end. A separate endpoint, so `/usage` keeps its contract.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UsageSummary {
    pub period: SummaryPeriod,
    /// The zone of `days` (an IANA name; UTC when the one asked for is not a zone).
    pub time_zone: String,
    pub total_credits: Credits,
    pub messages: usize,
    /// Every day from the first message's to the last's, in `time_zone`, days without usage as zero.
    pub days: Vec<SummaryDay>,
    /// `null` when no budget is configured.
    pub budget: Option<SummaryBudget>,
    pub projection: SummaryProjection,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SummaryPeriod {
    /// RFC 3339, UTC.
    pub start: String,
    /// `null` when no billing cycle is configured (the end is unknown). The period is `[start, end)`.
    pub end: Option<String>,
    /// The upstream fetch time, clamped to the period: what the figures are as of.
    pub as_of: String,
    /// The period has ended: its figures are final.
    pub closed: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SummaryDay {
    /// `YYYY-MM-DD`, in the summary's zone.
    pub day: String,
    pub credits: Credits,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SummaryBudget {
    pub credits: Credits,
    /// Used ÷ budget, in tenths of a percent (rounded half up): 880 is 88.0 %.
    pub used_permille: u32,
    /// The budget left; negative when exceeded.
    pub remaining: Credits,
    pub run_out: RunOutSummary,
}

/// When the budget runs out: `reached` (on `day`), `projected` (on `day`, at this pace), `not_in_this_period`, or
/// `unknown` (too few full days to say).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RunOutSummary {
    pub state: String,
    /// `YYYY-MM-DD` in the summary's zone, for `reached` and `projected`.
    pub day: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SummaryProjection {
    /// Days entirely inside the period and before `as_of`, in the summary's zone.
    pub full_days: usize,
    /// Credits per day over the full days; `null` before the first.
    pub pace_per_day: Option<Credits>,
    /// The projected total at the period's end and its 80 % range; `null` when closed, when the end is unknown,
    /// or with fewer than three full days.
    pub total: Option<Credits>,
    pub low: Option<Credits>,
    pub high: Option<Credits>,
}

/// `/usage`'s schema, for the published API description (the type is generic over its rows' container).
#[cfg(feature = "ssr")]
impl utoipa::PartialSchema for UsageResponse {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::{ArrayBuilder, ObjectBuilder, Ref};
        ObjectBuilder::new()
            .property("usage", ArrayBuilder::new().items(Ref::from_schema_name("UsageRow")))
            .required("usage")
            .description(Some("Every message of the current period, in upstream order."))
            .into()
    }
}

#[cfg(feature = "ssr")]
impl utoipa::ToSchema for UsageResponse {
    fn name() -> std::borrow::Cow<'static, str> {
        "UsageResponse".into()
    }

    fn schemas(schemas: &mut Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)>) {
        use utoipa::PartialSchema;
        schemas.push(("UsageRow".into(), UsageRow::schema()));
        <UsageRow as utoipa::ToSchema>::schemas(schemas);
    }
}

/// The body of every error response: `{"error":{"code":"…","message":"…"}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    /// Stable, machine-readable: clients branch on this.
    pub code: String,
    /// For the person reading it; may change wording.
    pub message: String,
}

/// The code of a request a server function could not read.
pub const BAD_REQUEST: &str = "bad_request";

/// The code of a call the browser could not make or whose answer it could not read.
pub const REQUEST_FAILED: &str = "request_failed";

/// Server functions fail with the same body as `/usage`, so a client reads the same code and message. A
/// request the server function could not read (a malformed body, say) is `bad_request`; a call that did not
/// reach the server, or whose answer could not be read, is `request_failed`.
impl leptos::server_fn::error::FromServerFnError for ErrorBody {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        use leptos::server_fn::error::ServerFnErrorErr;
        let code = match value {
            ServerFnErrorErr::Request(_) | ServerFnErrorErr::Response(_) => REQUEST_FAILED,
            _ => BAD_REQUEST,
        };
        ErrorBody { error: ErrorDetail { code: code.into(), message: value.to_string() } }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_name_is_omitted_when_absent() {
        let rows = UsageResponse {
            usage: vec![
                UsageRow {
                    message_id: 1000,
                    timestamp: "2024-04-29T02:08:29.375Z".into(),
                    report_name: Some("Tenant Obligations Report".into()),
                    credits_used: Credits::from_hundredths(7900),
                },
                UsageRow {
                    message_id: 1001,
                    timestamp: "2024-04-29T03:25:03.613Z".into(),
                    report_name: None,
                    credits_used: Credits::from_hundredths(120),
                },
            ],
        };
        assert_eq!(
            serde_json::to_string(&rows).unwrap(),
            r#"{"usage":[{"message_id":1000,"timestamp":"2024-04-29T02:08:29.375Z","report_name":"Tenant Obligations Report","credits_used":79.00},{"message_id":1001,"timestamp":"2024-04-29T03:25:03.613Z","credits_used":1.20}]}"#
        );
    }

    #[test]
    fn a_borrowed_body_is_written_like_an_owned_one() {
        let rows = vec![UsageRow {
            message_id: 7,
            timestamp: "2024-05-01T00:00:00Z".into(),
            report_name: None,
            credits_used: Credits::from_hundredths(440),
        }];
        let borrowed = serde_json::to_string(&UsageResponse { usage: &rows[..] }).unwrap();
        assert_eq!(borrowed, serde_json::to_string(&UsageResponse { usage: rows }).unwrap());
    }

    #[test]
    fn round_trips_through_json() {
        let json = r#"{"usage":[{"message_id":7,"timestamp":"2024-05-01T00:00:00Z","credits_used":4.40}]}"#;
        let parsed: UsageResponse = serde_json::from_str(json).unwrap();
        assert_eq!(parsed.usage[0].credits_used, Credits::from_hundredths(440));
        assert_eq!(serde_json::to_string(&parsed).unwrap(), json);
    }
}

/// The earlier days a day is compared with, at least: fewer, and no day is judged.
pub const ANOMALY_HISTORY_DAYS: usize = 7;

/// `GET /usage/anomalies`: a period's unusual days, each with what drove it. Every amount is exact, and each
/// day's (and each driver's) `baseline + impact` is its `credits`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UsageAnomalies {
    /// The period's id (the UTC date of its first message); `null` for an empty period.
    pub period: Option<String>,
    /// The earlier days the last day was compared with.
    pub baseline_days: usize,
    /// `false` while fewer than the days needed are known: no day is judged then.
    pub enough_history: bool,
    pub days: Vec<AnomalyDay>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AnomalyDay {
    /// `YYYY-MM-DD`, in the asked zone.
    pub date: String,
    pub credits: Credits,
    pub baseline: Credits,
    pub impact: Credits,
    /// `credits ÷ baseline`, to one decimal; `null` when the baseline is zero.
    pub ratio: Option<f64>,
    /// The day in progress: unusual so far.
    pub ongoing: bool,
    /// What a customer reads: `+412.00 credits above the usual 96.40 (5.3×): 5 Tenant Obligations Reports (+316.00, usually none)`.
    pub explanation: String,
    pub drivers: Vec<AnomalyDriver>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AnomalyDriver {
    /// `report`, `text_count` (more text-priced messages than usual) or `text_length` (longer ones).
    pub kind: String,
    /// The report's name, for `report`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub credits: Credits,
    pub baseline: Credits,
    pub impact: Credits,
}
