//! The server-rendered dashboard at `/`, read as HTML: what a browser gets before any WASM runs.

use crate::support::*;
use serde_json::json;
use wiremock::{MockServer, ResponseTemplate};

async fn upstream_with_three_messages() -> MockServer {
    let upstream = MockServer::start().await;
    serve_messages(
        &upstream,
        vec![
            message(1000, "hello there friend", "2024-04-29T02:08:29.375Z", Some(json!(1))),
            message(1001, "abcdefghi", "2024-05-01T23:59:59.999Z", None),
            message(1002, "x", "2024-05-01T00:00:00.000Z", Some(json!(2))),
        ],
    )
    .await;
    serve_report(&upstream, 1, "<script>alert('x')</script> & \"Lease\"", json!(79)).await;
    serve_report(&upstream, 2, "alpha report", json!(5.5)).await;
    upstream
}

#[tokio::test]
async fn renders_rows_chart_and_summary_on_the_server() {
    let upstream = upstream_with_three_messages().await;
    let (status, html) = get(&app(&test_config(&upstream)), "/").await;
    assert_eq!(status, 200);
    assert_eq!(table_ids(&html), vec!["1000", "1001", "1002"]);
    assert!(html.contains("29-04-2024 02:08"), "table timestamp format");
    assert!(html.contains("id=\"usage-chart\""));
    assert!(html.contains("<svg"), "chart is server-rendered");
    // Three days, the middle one without usage.
    assert!(html.contains("29-04-2024: 79.00 credits"));
    assert!(html.contains("30-04-2024: 0.00 credits"));
    assert!(html.contains("01-05-2024: 6.70 credits"));
    assert_eq!(kpi_text(&html, "total"), "85.70");
    assert_eq!(kpi_text(&html, "period"), "29-04-2024 → 01-05-2024");
    assert_eq!(kpi_text(&html, "messages"), "3");
    assert_eq!(kpi_text(&html, "report-priced"), "2");
}

#[tokio::test]
async fn hostile_report_names_render_as_text() {
    let upstream = upstream_with_three_messages().await;
    let (_, html) = get(&app(&test_config(&upstream)), "/").await;
    assert!(!html.contains("<script>alert"), "markup must be escaped");
    assert!(html.contains("&lt;script&gt;alert"));
}

#[tokio::test]
async fn a_sort_url_renders_that_view() {
    let upstream = upstream_with_three_messages().await;
    let app = app(&test_config(&upstream));
    let (_, html) = get(&app, "/?sort=credits_used:desc").await;
    assert_eq!(table_ids(&html), vec!["1000", "1002", "1001"]);
    assert!(html.contains("aria-sort=\"descending\""));
    let (_, html) = get(&app, "/?sort=report_name:asc").await;
    // Names fold case ("<" sorts before "a"); the unnamed message comes last.
    assert_eq!(table_ids(&html), vec!["1000", "1002", "1001"]);
    let (_, html) = get(&app, "/?sort=report_name:desc").await;
    assert_eq!(table_ids(&html), vec!["1002", "1000", "1001"]);
}

#[tokio::test]
async fn sort_headers_link_to_their_next_state() {
    let upstream = upstream_with_three_messages().await;
    let (_, html) = get(&app(&test_config(&upstream)), "/?sort=report_name:asc").await;
    assert!(html.contains("href=\"/?sort=report_name:desc\""), "report name: asc → desc");
    assert!(html.contains("href=\"/?sort=report_name:asc,credits_used:asc\""), "credits added last");
}

#[tokio::test]
async fn hostile_query_strings_are_ignored() {
    let upstream = upstream_with_three_messages().await;
    let app = app(&test_config(&upstream));
    for query in [
        "/?sort=%3Cscript%3E",
        "/?sort=%E0%A4%A",
        "/?sort=%00%FF",
        "/?sort=report_name:sideways,,:",
        "/?sorting=credits_used:desc&x=1",
    ] {
        let (status, html) = get(&app, query).await;
        assert_eq!(status, 200, "{query}");
        assert_eq!(table_ids(&html), vec!["1000", "1001", "1002"], "{query}: the default view's rows");
        assert!(html.contains("aria-sort=\"none\""), "{query}: unsorted");
    }
    // Repeated keys: the first counts, and it is a valid sort.
    let (_, html) = get(&app, "/?sort=report_name:asc,report_name:desc&sort=credits_used:asc").await;
    assert_eq!(table_ids(&html), vec!["1000", "1002", "1001"]);
    let long = format!("/?sort={}", "report_name:sideways,".repeat(3000));
    let (status, html) = get(&app, &long).await;
    assert_eq!(status, 200);
    assert_eq!(table_ids(&html), vec!["1000", "1001", "1002"]);
}

#[tokio::test]
async fn upstream_failure_is_a_503_page_with_a_retry_link() {
    let upstream = MockServer::start().await;
    respond(&upstream, "/messages/current-period", ResponseTemplate::new(500)).await;
    let (status, html) = get(&app(&test_config(&upstream)), "/").await;
    assert_eq!(status, 503);
    assert!(html.contains("Usage could not be loaded"));
    assert!(html.contains("Retry"));
    assert!(!html.contains("id=\"usage-table\""));
}

#[tokio::test]
async fn empty_period_says_there_is_no_usage() {
    let upstream = MockServer::start().await;
    serve_messages(&upstream, vec![]).await;
    let (status, html) = get(&app(&test_config(&upstream)), "/").await;
    assert_eq!(status, 200);
    assert!(html.matches("No usage yet in this period.").count() >= 2, "chart and table both say so");
}

#[tokio::test]
async fn unknown_paths_are_404() {
    let upstream = upstream_with_three_messages().await;
    let (status, _) = get(&app(&test_config(&upstream)), "/no/such/page").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn sample_upstream_serves_the_embedded_data() {
    // The default configuration: the sample upstream is the upstream.
    let config = credit_dashboard::server::config::Config {
        database_url: String::new(),
        ..credit_dashboard::server::config::Config::default()
    };
    let app = app(&config);
    let (status, body) = get(&app, "/sample-upstream/messages/current-period").await;
    assert_eq!(status, 200);
    let messages: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(messages["messages"].as_array().unwrap().len() >= 100);
    assert_eq!(get(&app, "/sample-upstream/reports/5392").await.0, 200);
    assert_eq!(get(&app, "/sample-upstream/reports/9999").await.0, 404);
}

#[tokio::test]
async fn every_count_and_amount_on_the_page_is_grouped_the_same_way() {
    let upstream = MockServer::start().await;
    // 1 200 messages on one day, each priced by the report costing 1 234.50: 1 481 400.00 credits.
    let messages = (0..1200).map(|i| message(i, "x", "2024-04-29T02:08:29.375Z", Some(json!(1)))).collect();
    serve_messages(&upstream, messages).await;
    serve_report(&upstream, 1, "Lease", json!(1234.5)).await;
    let (status, html) = get(&app(&test_config(&upstream)), "/").await;
    assert_eq!(status, 200);
    let n = '\u{202F}';
    assert_eq!(kpi_text(&html, "total"), format!("1{n}481{n}400.00"));
    assert_eq!(kpi_text(&html, "messages"), format!("1{n}200"));
    assert_eq!(kpi_text(&html, "report-priced"), format!("1{n}200"));
    assert!(html.contains(&format!("<td class=\"numeric\">1{n}200</td>")), "the breakdown's count");
    assert!(html.contains(&format!("<td class=\"numeric\">1{n}481{n}400.00</td>")), "the breakdown's credits");
    assert!(html.contains(&format!("29-04-2024: 1{n}481{n}400.00 credits")), "the chart's day list");
    assert!(html.contains(&format!("<summary>1{n}234.50</summary>")), "the table's credits");
    assert!(html.contains(&format!("Rows 1–100 of 1{n}200")));
    assert!(html.contains("Page 1 of 12"));
    assert!(html.contains(&format!("1{n}481{n}400.00 credits over 1{n}200 messages")), "the description");
    // Programs get plain numbers.
    let (_, usage) = get(&app(&test_config(&upstream)), "/usage").await;
    assert!(usage.contains("\"credits_used\":1234.50"));
}

#[tokio::test]
async fn the_page_offers_no_empty_link() {
    let upstream = upstream_with_three_messages().await;
    let (_, html) = get(&app(&test_config(&upstream)), "/").await;
    // The browser's-zone link is added by the page's script, with its text, only when there is a zone to offer.
    assert!(!html.contains("id=\"use-local-zone\""));
    assert!(html.contains("id=\"local-zone-offer\""));
    let anchors = html.split("<a ").skip(1);
    for anchor in anchors {
        let text = &anchor[anchor.find('>').unwrap() + 1..anchor.find("</a>").unwrap()];
        assert!(
            !text.trim().is_empty() || anchor.contains("<rect"),
            "a link without text: <a {}",
            &anchor[..80.min(anchor.len())]
        );
    }
}
