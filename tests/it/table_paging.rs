//! The paged table, sorted over the whole period on the server: boundaries, sorting across pages, links
//! that work without JavaScript, and the server function that returns one page.

use crate::support::*;
use axum::body::Body;
use axum::http::Request;
use credit_dashboard::server::config::Config;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;
use wiremock::{MockServer, ResponseTemplate};

const COUNT: usize = 25;

/// Texts of different lengths, so that prices differ and ties exist.
fn text(i: usize) -> String {
    "x".repeat((i * 7) % 40)
}

/// The text rule, computed here independently: ⌈len ÷ 4⌉ × 40 hundredths, at least 100.
fn hundredths(i: usize) -> u64 {
    ((text(i).len() as u64).div_ceil(4) * 40).max(100)
}

async fn period_of_25() -> MockServer {
    let upstream = MockServer::start().await;
    let messages = (0..COUNT).map(|i| message(i as i64, &text(i), "2024-04-29T02:08:29.375Z", None)).collect();
    serve_messages(&upstream, messages).await;
    upstream
}

/// Message ids in the order the table shows them, as numbers.
fn table_ids(html: &str) -> Vec<usize> {
    crate::support::table_ids(html).iter().map(|id| id.parse().unwrap()).collect()
}

fn small_pages(upstream: &MockServer) -> axum::Router {
    app(&Config { table_page_size: 10, ..test_config(upstream) })
}

/// The `href` of the link with this `rel`, as the browser reads it, without the version of the data it walks
/// (which every page link carries: checked here).
fn link_with_rel(html: &str, rel: &str) -> Option<String> {
    let at = html.find(&format!("rel=\"{rel}\""))?;
    let tag = &html[html[..at].rfind("<a ")?..];
    let href = &tag[tag.find("href=\"")? + 6..];
    Some(without_version(&href[..href.find('"')?].replace("&amp;", "&")))
}

/// A view's query or link without its `v=<13 hexadecimal digits>`, which it must have.
fn without_version(link: &str) -> String {
    let at = link.find("v=").unwrap_or_else(|| panic!("no version in {link}"));
    let version = &link[at + 2..at + 15];
    assert!(version.bytes().all(|b| b.is_ascii_hexdigit()), "{link}");
    let (before, after) = (&link[..at], &link[at + 15..]);
    match (before.strip_suffix('&').or(before.strip_suffix('?')), after.strip_prefix('&')) {
        (Some(before), Some(after)) if before.ends_with('/') => format!("{before}?{after}"),
        (Some(before), Some(after)) => format!("{before}&{after}"),
        (Some(before), None) => before.to_owned(),
        _ => format!("{before}{after}"),
    }
}

fn range(html: &str) -> String {
    let start = html.find("id=\"table-range\"").expect("range shown");
    let text = &html[start..];
    text[text.find('>').unwrap() + 1..text.find("</span>").unwrap()].replace('\u{202F}', " ")
}

#[tokio::test]
async fn the_first_page_links_forward_only() {
    let upstream = period_of_25().await;
    let (status, html) = get(&small_pages(&upstream), "/").await;
    assert_eq!(status, 200);
    assert_eq!(table_ids(&html), (0..10).collect::<Vec<_>>());
    assert_eq!(range(&html), "Rows 1–10 of 25");
    assert_eq!(link_with_rel(&html, "next"), Some("/?page=2".into()));
    assert_eq!(link_with_rel(&html, "last"), Some("/?page=3".into()));
    assert_eq!(link_with_rel(&html, "prev"), None);
    assert!(html.contains("Page 1 of 3"));
}

#[tokio::test]
async fn the_last_page_and_past_the_end() {
    let upstream = period_of_25().await;
    let app = small_pages(&upstream);
    for uri in ["/?page=3", "/?page=4", "/?page=99999999999"] {
        let (status, html) = get(&app, uri).await;
        assert_eq!(status, 200, "{uri}");
        assert_eq!(table_ids(&html), (20..25).collect::<Vec<_>>(), "{uri}");
        assert_eq!(range(&html), "Rows 21–25 of 25");
        assert_eq!(link_with_rel(&html, "prev"), Some("/?page=2".into()));
        assert_eq!(link_with_rel(&html, "next"), None);
    }
}

#[tokio::test]
async fn a_malformed_page_is_the_first() {
    let upstream = period_of_25().await;
    let app = small_pages(&upstream);
    for uri in ["/?page=abc", "/?page=-1", "/?page=0", "/?page=", "/?page=%FF", "/?page=2.5"] {
        let (status, html) = get(&app, uri).await;
        assert_eq!(status, 200, "{uri}");
        assert_eq!(table_ids(&html), (0..10).collect::<Vec<_>>(), "{uri}");
    }
}

#[tokio::test]
async fn sorting_covers_the_whole_period_then_the_page_is_cut() {
    let upstream = period_of_25().await;
    let mut expected: Vec<usize> = (0..COUNT).collect();
    expected.sort_by_key(|&i| std::cmp::Reverse(hundredths(i)));
    let (_, html) = get(&small_pages(&upstream), "/?sort=credits_used:desc&page=2").await;
    assert_eq!(table_ids(&html), expected[10..20]);
    // Links keep the sort; a new sort starts again from page 1.
    assert_eq!(link_with_rel(&html, "next"), Some("/?sort=credits_used:desc&page=3".into()));
    assert!(html.contains("href=\"/?sort=credits_used:desc,report_name:asc\""), "header links leave the page");
}

#[tokio::test]
async fn a_page_holds_only_its_rows() {
    let upstream = MockServer::start().await;
    let messages = (0..5_000).map(|i| message(i, "hello", "2024-04-29T02:08:29.375Z", None)).collect();
    serve_messages(&upstream, messages).await;
    let (_, html) = get(&app(&test_config(&upstream)), "/").await;
    assert_eq!(table_ids(&html).len(), 100, "the default page size");
    assert_eq!(range(&html), "Rows 1–100 of 5 000");
    assert!(html.len() < 150_000, "{} bytes", html.len());
}

#[tokio::test]
async fn names_sort_by_unicode_collation() {
    let upstream = MockServer::start().await;
    let messages = ["Zebra", "Ärger", "apfel", "Apfel"]
        .iter()
        .enumerate()
        .map(|(i, _)| message(i as i64, "t", "2024-04-29T02:08:29.375Z", Some(json!(10 + i))))
        .collect();
    serve_messages(&upstream, messages).await;
    for (i, name) in ["Zebra", "Ärger", "apfel", "Apfel"].iter().enumerate() {
        serve_report(&upstream, 10 + i as u64, name, json!(1)).await;
    }
    let (_, html) = get(&app(&test_config(&upstream)), "/?sort=report_name:asc").await;
    // Case is a tie (upstream order kept); Ä sorts with A, before Z.
    assert_eq!(table_ids(&html), vec![2, 3, 1, 0]);
}

#[tokio::test]
async fn the_server_function_returns_one_page() {
    let upstream = period_of_25().await;
    let app = small_pages(&upstream);
    // The function's one argument is the view, as its URL query in a JSON string.
    let (status, _, body) = table_page(&app, "sort=credits_used:asc&page=2").await;
    assert_eq!(status, 200, "{body}");
    let page: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (without_version(page["view"].as_str().unwrap()), page["page_count"].as_u64(), page["first_row"].as_u64()),
        ("sort=credits_used:asc&page=2".to_owned(), Some(3), Some(11))
    );
    assert_eq!(page["rows"].as_array().unwrap().len(), 10);

    // A view from a client is untrusted like a URL: nonsense falls back, the page is clamped, the zone is UTC.
    let (status, _, body) = table_page(&app, "sort=nonsense&page=999&tz=Mars/Olympus").await;
    assert_eq!(status, 200, "{body}");
    let page: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (without_version(page["view"].as_str().unwrap()), page["zone"].as_str()),
        ("page=3".into(), Some("UTC"))
    );
}

#[tokio::test]
async fn the_server_function_fails_exactly_as_usage_does() {
    let upstream = MockServer::start().await;
    respond(&upstream, "/messages/current-period", ResponseTemplate::new(500)).await;
    let app = small_pages(&upstream);
    let (usage_status, usage_body) = get(&app, "/usage").await;
    let (status, headers, body) = table_page(&app, "page=2").await;
    assert_eq!((status.as_u16(), usage_status.as_u16()), (503, 503), "{body}");
    assert_eq!(error_code(&body), error_code(&usage_body));
    assert_eq!(error_code(&body), "upstream_unavailable");
    assert_eq!(headers["content-type"], "application/json");
}

#[tokio::test]
async fn a_request_the_server_function_cannot_read_is_not_a_server_error() {
    let upstream = period_of_25().await;
    let app = small_pages(&upstream);
    let request = Request::post("/api/table_page")
        .header("content-type", "application/json")
        .body(Body::from("{\"view\": [1, 2"))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let body = String::from_utf8(response.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    assert_eq!(status, 400, "{body}");
    assert_eq!(error_code(&body), "bad_request");
}
