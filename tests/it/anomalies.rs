//! `/usage/anomalies` through the real router: a period whose twelfth day has five reports more than usual,
//! found with its exact impact, its driver and its sentence; a period too short to judge; the API described.

use crate::support::*;
use axum::http::StatusCode;
use serde_json::{json, Value};
use wiremock::MockServer;

/// `days` days from Monday 1 April 2024, each of ten 40-character text messages (4.00 credits each, 40.00 a day),
/// and on `spike` five Tenant Obligations Reports (79.00 each) more.
fn period(days: i64, spike: Option<i64>) -> Vec<Value> {
    let mut messages = Vec::new();
    let mut id = 1000;
    for day in 0..days {
        let date = jiff::civil::date(2024, 4, 1).checked_add(jiff::Span::new().days(day)).unwrap();
        for hour in 0..10 {
            messages.push(message(id, &"x".repeat(40), &format!("{date}T{:02}:15:00.000Z", hour + 8), None));
            id += 1;
        }
        if Some(day) == spike {
            for minute in 0..5 {
                let at = format!("{date}T19:{minute:02}:00.000Z");
                messages.push(message(id, "Generate a Tenant Obligations Report", &at, Some(json!(5392))));
                id += 1;
            }
        }
    }
    messages
}

#[tokio::test]
async fn an_unusual_day_is_found_with_its_exact_impact_and_what_drove_it() {
    let (_upstream, app) = dashboard_of(period(14, Some(11))).await;
    let (status, body) = get(&app, "/usage/anomalies").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let found: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(found["enough_history"], json!(true), "{found}");
    assert_eq!(found["period"], json!("2024-04-01"));
    let days = found["days"].as_array().unwrap();
    assert_eq!(days.len(), 1, "{found}");
    let day = &days[0];
    assert_eq!((day["date"].as_str(), day["credits"].as_f64()), (Some("2024-04-12"), Some(435.0)));
    assert_eq!((day["baseline"].as_f64(), day["impact"].as_f64()), (Some(40.0), Some(395.0)));
    assert!(body.contains(r#""baseline":40.00,"impact":395.00"#), "exact hundredths: {body}");
    assert_eq!(day["ongoing"], json!(false));
    assert_eq!(
        day["drivers"][0],
        json!({"kind": "report", "name": "Tenant Obligations Report", "credits": 395.0, "baseline": 0.0, "impact": 395.0})
    );
    let sentence = day["explanation"].as_str().unwrap();
    assert_eq!(
        sentence,
        "+395.00 credits above the usual 40.00 (10.9×): 5 × Tenant Obligations Report (+395.00, usually none)."
    );

    // In another zone the days are that zone's: the spike's evening is the 13th in Tokyo... and the 12th's own
    // messages with it, so the same day stands out under its own date.
    let (_, tokyo) = get(&app, "/usage/anomalies?tz=Asia/Tokyo").await;
    let tokyo: Value = serde_json::from_str(&tokyo).unwrap();
    let dates: Vec<&str> = tokyo["days"].as_array().unwrap().iter().filter_map(|day| day["date"].as_str()).collect();
    assert_eq!(dates, ["2024-04-13"], "{tokyo}");
}

#[tokio::test]
async fn a_period_too_short_to_judge_says_so_and_guesses_nothing() {
    let (_upstream, app) = dashboard_of(period(6, Some(5))).await;
    let (_, body) = get(&app, "/usage/anomalies").await;
    let found: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(found, json!({"period": "2024-04-01", "baseline_days": 5, "enough_history": false, "days": []}));
    let (_, api) = get(&app, "/openapi.json").await;
    assert!(
        api.contains("\"/usage/anomalies\"") && api.contains("UsageAnomalies"),
        "described in the OpenAPI document"
    );
}

#[tokio::test]
async fn the_page_tells_the_unusual_days_above_the_table_with_a_link_to_each() {
    let (_upstream, app) = dashboard_of(period(14, Some(11))).await;
    let (status, html) = get(&app, "/?sort=credits_used:desc").await;
    assert_eq!(status, StatusCode::OK);
    let panel = &html[html.find("id=\"unusual-days\"").expect("the panel")..];
    let panel = &panel[..panel.find("</section>").unwrap()];
    assert!(panel.contains("href=\"/?day=2024-04-12&amp;sort=credits_used:desc\""), "{panel}");
    assert!(panel.contains("12-04-2024"), "{panel}");
    assert!(panel.contains("+395.00 credits above the usual 40.00 (10.9×): 5 × Tenant Obligations Report"), "{panel}");
    assert!(html.find("id=\"unusual-days\"") < html.find("id=\"usage-table\""), "above the table");
    // The chart marks that day's bar by an outline and a word, and its day list says so.
    assert_eq!(html.matches("class=\"unusual-mark\"").count(), 1, "one bar outlined");
    let marked =
        &html[html.find("unusual\"><rect").map(|at| at.saturating_sub(120)).expect("the unusual bar's link")..];
    assert!(marked.contains("day=2024-04-12"), "{}", &marked[..300]);
    assert!(html.contains("12-04-2024: 435.00 credits, unusual: 395.00 above the usual"), "the day list says it");

    // A short period says so, and guesses nothing.
    let (_short_upstream, short) = dashboard_of(period(6, Some(5))).await;
    let (_, html) = get(&short, "/").await;
    assert!(html.contains("Not enough history yet (5 of 7 days)"), "the panel says why no day is judged");
}

/// The router in front of an upstream serving `messages` (and report 5392); the upstream lives as long as the
/// first value is kept.
async fn dashboard_of(messages: Vec<Value>) -> (MockServer, axum::Router) {
    let upstream = MockServer::start().await;
    serve_messages(&upstream, messages).await;
    serve_report(&upstream, 5392, "Tenant Obligations Report", json!(79)).await;
    let app = app(&test_config(&upstream));
    (upstream, app)
}
