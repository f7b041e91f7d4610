//! What a customer asks of the page: why a message cost what it did (explanations), what drove the bill
//! (breakdown), only one report's messages (the report filter), and the view as a spreadsheet (CSV).

use crate::support::*;
use serde_json::{json, Value};
use wiremock::{MockServer, ResponseTemplate};

const TIME: &str = "2024-04-29T02:08:29.375Z";

async fn period() -> MockServer {
    let upstream = MockServer::start().await;
    serve_messages(
        &upstream,
        vec![
            message(1, "short", TIME, Some(json!(5392))),
            message(2, &"x".repeat(43), "2024-04-30T10:00:00Z", None),
            message(3, "abcdefghi", TIME, Some(json!(7321))),
            message(4, "=cmd|' /C calc'!A0", TIME, Some(json!(8))),
            message(5, "tiny", "2024-05-01T00:00:00Z", Some(json!(5392))),
        ],
    )
    .await;
    serve_report(&upstream, 5392, "Tenant Obligations Report", json!(79)).await;
    serve_report(&upstream, 8, "=HYPERLINK(\"http://evil\")", json!(2.5)).await;
    respond(&upstream, "/reports/7321", ResponseTemplate::new(404)).await;
    upstream
}

/// The CSV's records, parsed with the same crate a reader would use.
fn records(body: &str) -> Vec<Vec<String>> {
    csv::Reader::from_reader(body.as_bytes())
        .records()
        .map(|record| record.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

#[tokio::test]
async fn the_full_view_csv_equals_usage_row_for_row() {
    let upstream = period().await;
    let app = app(&test_config(&upstream));
    let (status, body) = get(&app, "/usage.csv").await;
    assert_eq!(status, 200);
    assert!(body.starts_with("message_id,timestamp,report_name,credits_used,"), "{body}");
    let usage: Value = serde_json::from_str(&get(&app, "/usage").await.1).unwrap();
    let expected: Vec<Vec<String>> = usage["usage"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            let name = row.get("report_name").map_or(String::new(), |name| name.as_str().unwrap().to_owned());
            // Only formula-like names are changed, and only by the leading apostrophe.
            let name = if name.starts_with('=') { format!("'{name}") } else { name };
            vec![
                row["message_id"].to_string(),
                row["timestamp"].as_str().unwrap().to_owned(),
                name,
                format!("{:.2}", row["credits_used"].as_f64().unwrap()),
            ]
        })
        .collect();
    let actual: Vec<Vec<String>> = records(&body).into_iter().map(|record| record[..4].to_vec()).collect();
    assert_eq!(actual, expected);
}

#[tokio::test]
async fn the_csv_follows_sort_and_filter_and_is_a_download() {
    let upstream = period().await;
    let app = app(&test_config(&upstream));
    let response = {
        use tower::ServiceExt;
        let request =
            axum::http::Request::get("/usage.csv?sort=credits_used:desc&report=Tenant+Obligations+Report&page=9")
                .body(axum::body::Body::empty())
                .unwrap();
        app.clone().oneshot(request).await.unwrap()
    };
    assert_eq!(response.headers()["content-type"], "text/csv; charset=utf-8");
    assert_eq!(
        response.headers()["content-disposition"],
        "attachment; filename=\"credit-usage-2024-04-29-2024-05-01.csv\""
    );
    let (_, body) = get(&app, "/usage.csv?sort=credits_used:desc&report=Tenant+Obligations+Report&page=9").await;
    let ids: Vec<String> = records(&body).into_iter().map(|record| record[0].clone()).collect();
    assert_eq!(ids, ["1", "5"], "the report's rows, every page, ties in upstream order");
    let (_, body) = get(&app, "/usage.csv?report=~text&sort=credits_used:asc").await;
    let ids: Vec<String> = records(&body).into_iter().map(|record| record[0].clone()).collect();
    assert_eq!(ids, ["3", "2"]);
}

#[tokio::test]
async fn an_upstream_failure_is_the_json_error_never_half_a_file() {
    let upstream = MockServer::start().await;
    respond(&upstream, "/messages/current-period", ResponseTemplate::new(500)).await;
    let (status, body) = get(&app(&test_config(&upstream)), "/usage.csv").await;
    assert_eq!(status, 503);
    assert_eq!(error_code(&body), "upstream_unavailable");
}

#[tokio::test]
async fn each_row_explains_its_price() {
    let upstream = period().await;
    let (_, body) = get(&app(&test_config(&upstream)), "/usage.csv").await;
    let explanations: Vec<String> = records(&body).into_iter().map(|record| record[6].clone()).collect();
    assert_eq!(
        explanations,
        [
            "Tenant Obligations Report (report 5392): fixed cost 79.00",
            "43 characters → 11 tokens × 0.40 = 4.40",
            "report 7321 not found: priced by its text: 9 characters → 3 tokens × 0.40 = 1.20",
            "=HYPERLINK(\"http://evil\") (report 8): fixed cost 2.50",
            "Tenant Obligations Report (report 5392): fixed cost 79.00",
        ]
        .map(|text| if text.starts_with('=') { format!("'{text}") } else { text.to_owned() })
    );
    // The page carries the same text in each row, inside a <details> that works without JavaScript.
    let (_, html) = get(&app(&test_config(&upstream)), "/").await;
    assert!(
        html.contains("<summary>4.40</summary><p class=\"explanation\">43 characters → 11 tokens × 0.40 = 4.40</p>")
    );
}

#[tokio::test]
async fn the_breakdown_adds_up_and_links_to_the_filtered_table() {
    let upstream = period().await;
    let app = app(&test_config(&upstream));
    let (_, html) = get(&app, "/?sort=credits_used:desc").await;
    let card = &html[html.find("id=\"usage-breakdown\"").expect("breakdown card")..];
    let card = &card[..card.find("</section>").unwrap()];
    // Largest first: the report (158.00), the text-priced messages (5.60), the formula-named report (2.50).
    let order: Vec<&str> = card.split("data-report=\"").skip(1).map(|rest| &rest[..rest.find('"').unwrap()]).collect();
    assert_eq!(order, ["Tenant Obligations Report", "~text", "=HYPERLINK(&quot;http://evil&quot;)"]);
    assert!(card.contains("href=\"/?sort=credits_used:desc&amp;report=Tenant+Obligations+Report\""), "{card}");
    assert!(card.contains("href=\"/?sort=credits_used:desc&amp;report=~text\""));
    for figure in ["158.00", "5.60", "2.50", "95.1 %", "3.4 %", "1.5 %"] {
        assert!(card.contains(figure), "{figure} missing: {card}");
    }

    let (_, html) = get(&app, "/?report=~text").await;
    assert!(html.contains("id=\"report-chip\""));
    assert!(html.contains("Rows 1–2 of 2"));
}

#[tokio::test]
async fn a_period_of_many_reports_lists_the_largest_and_sums_the_rest() {
    let upstream = MockServer::start().await;
    let messages = (0..30).map(|i| message(i, "t", TIME, Some(json!(100 + i)))).collect();
    serve_messages(&upstream, messages).await;
    for i in 0..30u64 {
        serve_report(&upstream, 100 + i, &format!("Report {i:02}"), json!(1 + i)).await;
    }
    let (_, html) = get(&app(&test_config(&upstream)), "/").await;
    let card = &html[html.find("id=\"usage-breakdown\"").unwrap()..];
    let card = &card[..card.find("</section>").unwrap()];
    assert_eq!(card.matches("<tr").count(), 1 + 11, "a header, ten reports and one line for the rest");
    assert!(card.contains("20 other reports"), "{card}");
    // The twenty smallest cost 1 + 2 + … + 20 = 210 credits.
    assert!(card.contains("210.00"), "{card}");
}
