//! The billing period, the budget and the projection, through the real router: the page's budget card and
//! `/usage/summary` for a closed period and a live one, each figure recomputed here from `/usage`.

use crate::support::*;
use credit_dashboard::server::config::Config;
use serde_json::{json, Value};
use wiremock::MockServer;

/// Messages at `times`, each priced by its own report costing `costs[i]`.
async fn upstream(times: &[String], costs: &[i64]) -> MockServer {
    let upstream = MockServer::start().await;
    let messages =
        times.iter().enumerate().map(|(i, time)| message(i as i64 + 1, "x", time, Some(json!(i + 1)))).collect();
    serve_messages(&upstream, messages).await;
    for (i, cost) in costs.iter().enumerate() {
        serve_report(&upstream, i as u64 + 1, &format!("Report {}", i + 1), json!(cost)).await;
    }
    upstream
}

fn config(upstream: &MockServer, anchor: &str, interval: &str, budget: &str) -> Config {
    Config {
        billing_cycle_anchor: anchor.into(),
        billing_interval: interval.into(),
        credit_budget: budget.into(),
        ..test_config(upstream)
    }
}

fn hundredths(value: &Value) -> i64 {
    (value.as_f64().unwrap() * 100.0).round() as i64
}

#[tokio::test]
async fn a_closed_period_shows_its_final_figures_against_the_budget() {
    // May 2024, a monthly cycle from 1 May: 30.00, 50.00 and 40.00 on the 2nd, 9th and 20th; budget 100.00,
    // reached on the 20th. Long over (the data was fetched now): final.
    let times: Vec<String> =
        ["2024-05-02T10:00:00Z", "2024-05-09T10:00:00Z", "2024-05-20T10:00:00Z"].map(String::from).into();
    let upstream = upstream(&times, &[30, 50, 40]).await;
    let app = app(&config(&upstream, "2024-05-01T00:00:00Z", "month", "100"));
    let (status, html) = get(&app, "/").await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"budget-card\""));
    assert!(html.contains("Billing period 01-05-2024 → 31-05-2024; as of 01-06-2024 00:00 UTC."), "{html}");
    // One period on the page: the header, the title and the budget card name the cycle; the messages' days are
    // said as such, and a period that has ended is not called current.
    assert_eq!(kpi_text(&html, "period"), "01-05-2024 → 31-05-2024");
    assert_eq!(kpi_text(&html, "usage-span"), "02-05-2024 → 20-05-2024");
    assert!(html.contains("<title>Credit usage · 01-05-2024 → 31-05-2024</title>"));
    assert!(html.contains("The latest billing period, which has ended") && !html.contains("Current billing period"));
    assert!(html.contains("data-budget=\"used\" class=\"figure\">120.00<"));
    assert!(html.contains("data-budget=\"budget\" class=\"figure\">100.00<"));
    assert!(html.contains("data-budget=\"used-share\" class=\"figure\">120.0 %<"));
    assert!(html.contains("<dt>Over budget by</dt><dd data-budget=\"left\" class=\"figure\">20.00<"));
    assert!(html.contains("The period ended on 31-05-2024: these are its final figures."));
    assert!(html.contains("The budget was used up on 20-05-2024."));
    assert!(!html.contains("id=\"budget-projection\""), "no projection for a closed period");

    let (status, body) = get(&app, "/usage/summary").await;
    assert_eq!(status, 200, "{body}");
    let summary: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        summary["period"],
        json!({"start": "2024-05-01T00:00:00Z", "end": "2024-06-01T00:00:00Z", "as_of": "2024-06-01T00:00:00Z", "closed": true})
    );
    assert_eq!((summary["messages"].as_u64(), hundredths(&summary["total_credits"])), (Some(3), 12_000));
    assert_eq!(summary["budget"]["used_permille"], 1_200);
    assert_eq!(hundredths(&summary["budget"]["remaining"]), -2_000);
    assert_eq!(summary["budget"]["run_out"], json!({"state": "reached", "day": "2024-05-20"}));
    assert_eq!(summary["days"].as_array().unwrap().len(), 19, "2 to 20 May, zero days included");
    assert_eq!(summary["days"][7], json!({"day": "2024-05-09", "credits": 50.00}));
    assert_eq!(summary["projection"]["total"], Value::Null);
}

#[tokio::test]
async fn a_live_period_is_projected_to_its_end_from_its_full_days() {
    // A 30-day cycle that started ten days ago (00:00 UTC), a message at noon on each of those ten days costing
    // 10.00, 20.00, … 100.00: ten full days so far, 55.00 a day.
    let today = jiff::tz::TimeZone::UTC.to_datetime(jiff::Timestamp::now()).date();
    let start_day = today.checked_sub(jiff::ToSpan::days(10)).unwrap();
    let times: Vec<String> =
        (0..10).map(|i| format!("{}T12:00:00Z", start_day.checked_add(jiff::ToSpan::days(i)).unwrap())).collect();
    let costs: Vec<i64> = (1..=10).map(|i| i * 10).collect();
    let upstream = upstream(&times, &costs).await;
    let anchor = format!("{start_day}T00:00:00Z");
    let app = app(&config(&upstream, &anchor, "30", "2000"));
    let (status, body) = get(&app, "/usage/summary?tz=UTC").await;
    assert_eq!(status, 200, "{body}");
    let summary: Value = serde_json::from_str(&body).unwrap();
    let projection = &summary["projection"];
    assert_eq!((projection["full_days"].as_u64(), hundredths(&projection["pace_per_day"])), (Some(10), 5_500));
    assert_eq!(summary["period"]["closed"], false);
    // Projected: 550.00 so far, plus 55.00 a day until the end, from the summary's own "as of".
    let as_of: jiff::Timestamp = summary["period"]["as_of"].as_str().unwrap().parse().unwrap();
    let end: jiff::Timestamp = summary["period"]["end"].as_str().unwrap().parse().unwrap();
    assert_eq!(end, format!("{}T00:00:00Z", start_day.checked_add(jiff::ToSpan::days(30)).unwrap()).parse().unwrap());
    let left = i128::from(end.duration_since(as_of).as_secs());
    let expected = 55_000 + (2 * 55_000 * left + 10 * 86_400) / (2 * 10 * 86_400) as i128;
    assert_eq!(i128::from(hundredths(&projection["total"]) as i64), expected);
    // s² of 10, 20, … 100 is 916.67 credits²: the range is ± 1.2816 × √(s² × days left), in whole hundredths.
    let spread =
        (10 * (1..=10).map(|i: i128| (i * 1000).pow(2)).sum::<i128>() - 55_000i128.pow(2)) * left / (10 * 9 * 86_400);
    let half = (spread as u128).isqrt() as i128 * 12_816 / 10_000;
    assert_eq!(i128::from(hundredths(&projection["high"])), expected + half);
    assert_eq!(i128::from(hundredths(&projection["low"])), (expected - half).max(55_000));
    // 1 450.00 of the budget left at 55.00 a day: 26.36 days, past the end.
    assert_eq!(summary["budget"]["run_out"], json!({"state": "not_in_this_period", "day": null}));

    let (_, html) = get(&app, "/").await;
    assert!(html.contains("Projected at the period's end: <strong data-budget=\"projected\">"), "{html}");
    assert!(html.contains("Pace: 55.00 credits a day over 10 full days so far."));
    assert!(html.contains("At this pace the budget lasts the period."));
    // The chart: the ten days so far, then the nineteen still to come (tomorrow to the period's last day, the
    // 29th from its start), each projected at 55.00 and said so in the day list; the daily allowance,
    // 2 000.00 over 30 days.
    assert_eq!(html.matches("<li data-day=").count(), 10 + 1 + 19, "the days so far, today, the days to come");
    let projected: Vec<&str> = html.split("<li ").filter(|item| item.contains("class=\"projected\"")).collect();
    assert_eq!(projected.len(), 19);
    assert!(projected.iter().all(|item| item.contains(": projected 55.00 credits")), "{projected:?}");
    assert!(html.contains("Dashed line: the budget's daily allowance, 66.67 credits a day. Lighter bars: the days to come, at the pace so far."), "{}", &html[html.find("</ol>").unwrap()..][..600]);
}

#[tokio::test]
async fn without_a_cycle_or_a_budget_the_end_is_unknown_and_only_the_pace_shown() {
    let times: Vec<String> = ["2024-05-02T10:00:00Z", "2024-05-03T10:00:00Z"].map(String::from).into();
    let upstream = upstream(&times, &[30, 50]).await;
    let app = app(&test_config(&upstream));
    let (_, html) = get(&app, "/").await;
    assert!(html.contains("The period's end is unknown (no billing cycle is configured): the pace only."));
    assert!(!html.contains("data-budget=\"budget\""));
    let (_, body) = get(&app, "/usage/summary").await;
    let summary: Value = serde_json::from_str(&body).unwrap();
    assert_eq!((summary["budget"].clone(), summary["period"]["end"].clone()), (Value::Null, Value::Null));
    assert_eq!(summary["period"]["start"], "2024-05-02T00:00:00Z", "the period's own start: its first day");
}

#[tokio::test]
async fn the_summary_follows_the_zone_and_fails_as_usage_does() {
    let times: Vec<String> = ["2024-05-02T02:00:00Z", "2024-05-02T10:00:00Z"].map(String::from).into();
    let upstream = upstream(&times, &[30, 50]).await;
    let app = app(&test_config(&upstream));
    let (_, body) = get(&app, "/usage/summary?tz=America/New_York").await;
    let summary: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(summary["time_zone"], "America/New_York");
    assert_eq!(
        summary["days"],
        json!([{"day": "2024-05-01", "credits": 30.00}, {"day": "2024-05-02", "credits": 50.00}])
    );
    let (_, body) = get(&app, "/usage/summary?tz=Mars/Olympus").await;
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["time_zone"], "UTC");

    let failing = MockServer::start().await;
    respond(&failing, "/messages/current-period", wiremock::ResponseTemplate::new(500)).await;
    let failing_app = crate::support::app(&test_config(&failing));
    let (status, body) = get(&failing_app, "/usage/summary").await;
    assert_eq!((status.as_u16(), error_code(&body).as_str()), (503, "upstream_unavailable"));
}

#[tokio::test]
async fn the_json_endpoints_are_described_in_openapi_3_1() {
    let times: Vec<String> = ["2024-05-02T10:00:00Z"].map(String::from).into();
    let upstream = upstream(&times, &[30]).await;
    let app = app(&test_config(&upstream));
    let (status, body) = get(&app, "/openapi.json").await;
    assert_eq!(status, 200);
    let document: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    for path in ["/usage", "/usage.csv", "/usage/summary"] {
        assert!(document["paths"][path]["get"].is_object(), "{path}");
    }
    let schemas = &document["components"]["schemas"];
    assert_eq!(schemas["UsageResponse"]["required"], json!(["usage"]));
    assert_eq!(schemas["UsageRow"]["properties"]["credits_used"]["$ref"], "#/components/schemas/Credits");
    assert_eq!(schemas["Credits"]["type"], "number");
    assert_eq!(
        schemas["ErrorBody"]["properties"]["error"]["$ref"], "#/components/schemas/ErrorDetail",
        "the error shape"
    );
    assert_eq!(
        document["paths"]["/usage"]["get"]["responses"]["503"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/ErrorBody"
    );
}

#[tokio::test]
async fn a_cycle_counted_in_berlin_across_the_dst_change_has_berlins_bounds_for_every_viewer() {
    // Worked out by hand. A monthly cycle from midnight on the 1st in Berlin; Berlin moved to summer time (UTC+2)
    // at 01:00 UTC on 31 March 2024. 30.00 at 21:59 UTC on 31 March is 23:59 in Berlin: March's cycle; 50.00 at
    // 22:01 UTC is 00:01 on 1 April: April's, which runs from 22:00 UTC on 31 March to 22:00 UTC on 30 April,
    // 30 days: 100.00 ÷ 30 = 3.33 a day, whatever the viewer's zone (31 dates in UTC would make it 3.23).
    let times: Vec<String> = ["2024-03-31T21:59:00Z", "2024-03-31T22:01:00Z"].map(String::from).into();
    let upstream = upstream(&times, &[30, 50]).await;
    let config = Config {
        billing_time_zone: "Europe/Berlin".into(),
        ..config(&upstream, "2024-03-01T00:00:00", "month", "100")
    };
    let app = app(&config);
    let (status, body) = get(&app, "/usage/summary").await;
    assert_eq!(status, 200, "{body}");
    let summary: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        summary["period"],
        json!({"start": "2024-03-31T22:00:00Z", "end": "2024-04-30T22:00:00Z", "as_of": "2024-04-30T22:00:00Z", "closed": true})
    );
    let (_, html) = get(&app, "/?tz=Europe/Berlin").await;
    assert!(html.contains("Billing period 01-04-2024 → 30-04-2024"), "{html}");
    assert!(html.contains("data-budget=\"used\" class=\"figure\">50.00<"), "only April's message");
    for zone in ["UTC", "Europe/London", "America/New_York", "Europe/Berlin"] {
        let (_, html) = get(&app, &format!("/?tz={zone}")).await;
        assert!(html.contains("the budget's daily allowance, 3.33 credits a day."), "{zone}");
    }
}

#[tokio::test]
async fn the_daily_allowance_divides_by_the_cycles_days_not_the_viewers_dates() {
    // The sample's cycle: 29 April to 29 May 2024 at 00:00 UTC, 30 days, a budget of 3 000.00: 100.00 a day, also
    // for a viewer in London, whose dates cut the cycle into 31 (the 28th from 01:00, the 29th to 01:00).
    let times: Vec<String> = ["2024-04-29T02:08:29.375Z"].map(String::from).into();
    let upstream = upstream(&times, &[79]).await;
    let app = app(&config(&upstream, "2024-04-29T00:00:00Z", "month", "3000"));
    for zone in ["UTC", "Europe/London"] {
        let (_, html) = get(&app, &format!("/?tz={zone}")).await;
        assert!(html.contains("the budget's daily allowance, 100.00 credits a day."), "{zone}");
    }
}
