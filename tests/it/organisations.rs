//! Organisations: two customer firms in one deployment, each on its own upstream (answering the same message
//! ids, so that a mix-up would show), every route of each reading only its own usage; an organisation that does
//! not exist, is malformed or is not the caller's answered alike (404) on every route; and, against the real
//! OpenID provider, people and services seeing only the organisations their claim or groups name.

use crate::access_control::{auth_config, dashboard, now, with_token, DASHBOARD};
use crate::support::oidc::{Browser, Provider};
use crate::support::*;
use axum::http::StatusCode;
use credit_dashboard::server::config::Config;
use credit_dashboard::server::history::{History, Listing};
use credit_dashboard::server::org_id::OrgId;
use credit_dashboard::server::startup::{configuration_from, Application};
use serde_json::{json, Value};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Acme's upstream: message 1000 priced by report 5392, a Tenant Obligations Report at 79.00.
async fn acme_upstream() -> MockServer {
    let upstream = MockServer::start().await;
    let messages = vec![
        message(1000, "Generate a Tenant Obligations Report", "2024-04-29T02:08:29.375Z", Some(json!(5392))),
        message(1001, "abcdefghi", "2024-04-29T03:25:03.613Z", None),
    ];
    serve_messages(&upstream, messages).await;
    serve_report(&upstream, 5392, "Tenant Obligations Report", json!(79)).await;
    upstream
}

/// Beacon's upstream: the same ids, another report 5392 (a Lease Review at 12.00); it answers only with its
/// organisation's header.
async fn beacon_upstream() -> MockServer {
    let upstream = MockServer::start().await;
    let body = json!({"messages": [
        message(1000, "Review the lease", "2024-05-01T10:00:00.000Z", Some(json!(5392))),
        message(1001, "a much longer text than acme's second message", "2024-05-01T11:00:00.000Z", None),
    ]});
    let authorised =
        |route: &str| Mock::given(method("GET")).and(path(route)).and(header("authorization", "Bearer beacon-t0ken"));
    authorised("/messages/current-period")
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(&upstream)
        .await;
    let report = json!({"id": 5392, "name": "Lease Review", "credit_cost": 12});
    authorised("/reports/5392").respond_with(ResponseTemplate::new(200).set_body_json(report)).mount(&upstream).await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(401)).mount(&upstream).await;
    upstream
}

fn organisation(id: &str, name: &str, upstream: &MockServer, extra: &[(&str, Value)]) -> toml::Table {
    let mut table = toml::Table::new();
    table.insert("id".into(), id.into());
    table.insert("name".into(), name.into());
    table.insert("upstream_base_url".into(), upstream.uri().into());
    for (key, value) in extra {
        table.insert((*key).into(), toml::Value::try_from(value).unwrap());
    }
    table
}

fn two_organisations(base: Config, acme: &MockServer, beacon: &MockServer) -> Config {
    let beacon_keys = [
        ("upstream_authorization", json!("Bearer beacon-t0ken")),
        ("groups", json!(["beacon-billing"])),
        ("credit_budget", json!("100")),
    ];
    Config {
        organisations: vec![
            organisation("acme", "Acme Lettings LLP", acme, &[]),
            organisation("beacon", "Beacon Property Law", beacon, &beacon_keys),
        ],
        ..base
    }
}

const ACME_USAGE: &str = r#"{"usage":[{"message_id":1000,"timestamp":"2024-04-29T02:08:29.375Z","report_name":"Tenant Obligations Report","credits_used":79.00},{"message_id":1001,"timestamp":"2024-04-29T03:25:03.613Z","credits_used":1.20}]}"#;

#[tokio::test]
async fn each_organisations_routes_read_its_own_upstream_and_no_other() {
    let (acme, beacon) = (acme_upstream().await, beacon_upstream().await);
    let app = app(&two_organisations(test_config(&acme), &acme, &beacon));

    let (status, body) = get(&app, "/o/acme/usage").await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, ACME_USAGE));
    let (status, body) = get(&app, "/o/beacon/usage").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("Lease Review") && body.contains("12.00") && !body.contains("Tenant Obligations"), "{body}");

    let (_, csv) = get(&app, "/o/beacon/usage.csv?sort=credits_used:desc").await;
    assert!(csv.contains("Lease Review") && !csv.contains("Tenant Obligations"), "{csv}");
    let (_, summary) = get(&app, "/o/acme/usage/summary").await;
    let summary: Value = serde_json::from_str(&summary).unwrap();
    assert_eq!(summary["total_credits"], json!(80.2), "{summary}");
    let (_, beacon_summary) = get(&app, "/o/beacon/usage/summary").await;
    let beacon_summary: Value = serde_json::from_str(&beacon_summary).unwrap();
    assert_eq!(beacon_summary["budget"]["credits"], json!(100.0), "beacon's own budget: {beacon_summary}");
    assert_eq!(summary["budget"], Value::Null, "acme's is the deployment's, none: {summary}");

    let (status, page) = get(&app, "/o/acme/?sort=credits_used:desc").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Tenant Obligations Report") && !page.contains("Lease Review"));
    assert!(page.contains("href=\"/o/acme/?day=2024-04-29&amp;sort=credits_used:desc\""), "links stay in acme");
    assert!(page.contains("/o/acme/usage.csv?sort=credits_used:desc"), "the CSV is acme's");
    assert!(!page.contains("/o/beacon"), "nothing of beacon's");

    // The table's server function carries its organisation, and reads only it.
    let (status, _, rows) = table_page(&app, "o=beacon&sort=credits_used:desc").await;
    assert_eq!(status, StatusCode::OK, "{rows}");
    assert!(rows.contains("Lease Review") && !rows.contains("Tenant Obligations"), "{rows}");
    assert!(rows.contains(r#""view":"o=beacon&"#), "the view it answers for is beacon's: {rows}");
}

#[tokio::test]
async fn an_organisation_that_does_not_exist_or_is_malformed_is_a_404_on_every_route() {
    let (acme, beacon) = (acme_upstream().await, beacon_upstream().await);
    let app = app(&two_organisations(test_config(&acme), &acme, &beacon));
    for asked in ["nope", "Acme", "acme_", "-acme", "%2e%2e", &"a".repeat(64)] {
        for route in ["usage", "usage.csv", "usage/summary"] {
            let (status, body) = get(&app, &format!("/o/{asked}/{route}")).await;
            assert_eq!(
                (status, error_code(&body).as_str()),
                (StatusCode::NOT_FOUND, "organisation_not_found"),
                "{asked} {route}"
            );
        }
        let (status, page) = get(&app, &format!("/o/{asked}/")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{asked}");
        assert!(!page.contains("Tenant Obligations") && !page.contains("Lease Review"));
        let (status, _, body) = table_page(&app, &format!("o={asked}")).await;
        assert_eq!((status, error_code(&body).as_str()), (StatusCode::NOT_FOUND, "organisation_not_found"), "{asked}");
    }
    // With organisations, the plain routes name none: there is no deployment-wide usage to read.
    let (status, body) = get(&app, "/usage").await;
    assert_eq!((status, error_code(&body).as_str()), (StatusCode::NOT_FOUND, "organisation_not_found"));
    let (status, _, _) = table_page(&app, "sort=credits_used:desc").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Without access control (a server on loopback), `/` lists them; `/o/acme` is its dashboard's address.
    let (status, page) = get(&app, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("href=\"/o/acme/\"") && page.contains("Beacon Property Law"), "{page}");
    // The list of them all, from what is kept: acme's total once fetched, beacon's failure once it failed.
    let (status, list) = get(&app, "/o/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(list.contains("not fetched yet") && !list.contains("80.20"), "{list}");
    get(&app, "/o/acme/usage").await;
    beacon.reset().await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(500)).mount(&beacon).await;
    get(&app, "/o/beacon/usage").await;
    let (_, list) = get(&app, "/o/").await;
    assert!(list.contains("80.20"), "{list}");
    assert!(list.contains("upstream_unavailable"), "beacon's last failure: {list}");
    let response = Browser::for_app(app.clone(), DASHBOARD).get("/o/acme?tz=Europe%2FBerlin").await;
    assert_eq!((response.status, response.location()), (StatusCode::SEE_OTHER, "/o/acme/?tz=Europe%2FBerlin".into()));
}

#[tokio::test]
async fn a_deployment_of_one_is_unchanged_and_has_no_organisation_routes() {
    let acme = acme_upstream().await;
    let app = app(&test_config(&acme));
    let (status, body) = get(&app, "/usage").await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, ACME_USAGE));
    let (status, body) = get(&app, "/o/default/usage").await;
    assert_eq!((status, error_code(&body).as_str()), (StatusCode::NOT_FOUND, "organisation_not_found"));
}

#[tokio::test]
async fn people_and_services_read_only_the_organisations_their_claim_or_groups_name() {
    let (acme, beacon) = (acme_upstream().await, beacon_upstream().await);
    let mut provider = Provider::start(&[DASHBOARD], DASHBOARD);
    // alice (in billing) is acme's by the organisation claim; bob-b (made a billing person) is beacon's by its
    // group; alice-none belongs to neither.
    provider.change_person("alice", json!({"org": "acme"}));
    provider.change_person("bob-b", json!({"groups": ["billing", "beacon-billing"]}));
    provider.change_person("olga", json!({"groups": ["billing", "operators"]}));
    let config = Config {
        auth_operator_groups: vec!["operators".into()],
        ..two_organisations(auth_config(&acme, &provider), &acme, &beacon)
    };
    let (app, _state) = dashboard(&config).await;

    let mut alice = Browser::for_app(app.clone(), DASHBOARD);
    let (page, url) = alice.sign_in("/?sort=credits_used:desc", "alice").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(url.ends_with("/o/acme/?sort=credits_used:desc"), "straight into her one organisation: {url}");
    assert!(page.body.contains("Tenant Obligations Report"));
    for route in ["/o/beacon/", "/o/beacon/usage", "/o/beacon/usage.csv", "/o/beacon/usage/summary", "/o/nope/usage"] {
        let seen = alice.get(route).await;
        assert_eq!(seen.status, StatusCode::NOT_FOUND, "{route}");
        assert!(!seen.body.contains("Lease Review") && !seen.body.contains("Beacon"), "{route}: {}", seen.body);
    }
    assert_eq!(alice.get("/o/acme/usage").await.body, ACME_USAGE);

    let mut bob = Browser::for_app(app.clone(), DASHBOARD);
    let (page, url) = bob.sign_in("/", "bob-b").await;
    assert!(url.ends_with("/o/beacon/") && page.body.contains("Lease Review"), "{url}");
    assert_eq!(bob.get("/o/acme/usage").await.status, StatusCode::NOT_FOUND);

    assert_eq!(alice.get("/o/").await.status, StatusCode::NOT_FOUND, "the operators' list is not hers");

    // An operator reads every organisation, and lands on the list of them all.
    let mut olga = Browser::for_app(app.clone(), DASHBOARD);
    let (list, url) = olga.sign_in("/", "olga").await;
    assert!(url.ends_with("/o/"), "{url}");
    assert!(list.body.contains("Acme Lettings LLP") && list.body.contains("Beacon Property Law"), "{}", list.body);
    assert!(list.body.contains("80.20"), "acme's total, as alice's visit fetched it: {}", list.body);
    assert_eq!(olga.get("/o/beacon/usage").await.status, StatusCode::OK);

    let mut nobody = Browser::for_app(app.clone(), DASHBOARD);
    let (page, _) = nobody.sign_in("/", "alice-none").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("No organisation") && !page.body.contains("Tenant Obligations"));

    // A service's token names its organisation: `/usage` is then that organisation's, in the exact contract.
    let token = |org: Value| {
        provider.sign(&json!({
            "iss": provider.issuer, "aud": DASHBOARD, "sub": "reporter", "client_id": "reporter",
            "scope": "usage:read", "iat": now(), "exp": now() + 600, "org": org,
        }))
    };
    let acme_token = token(json!("acme"));
    let seen = with_token(&app, "/usage", &acme_token).await;
    assert_eq!((seen.status, seen.body.as_str()), (StatusCode::OK, ACME_USAGE));
    assert_eq!(with_token(&app, "/o/beacon/usage", &acme_token).await.status, StatusCode::NOT_FOUND);
    let both = token(json!(["acme", "beacon"]));
    assert_eq!(with_token(&app, "/o/beacon/usage", &both).await.status, StatusCode::OK);
    assert_eq!(with_token(&app, "/usage", &both).await.status, StatusCode::NOT_FOUND, "which one is not said");
    let object = with_token(&app, "/o/acme/usage", &token(json!({"id": "acme"}))).await;
    assert_eq!(object.status, StatusCode::UNAUTHORIZED, "a claim that is an object: {}", object.body);
    assert!(object.body.contains("organisation claim"), "{}", object.body);
}

#[tokio::test]
async fn each_organisation_records_its_periods_apart_in_one_history_store() {
    let (acme, beacon) = (acme_upstream().await, beacon_upstream().await);
    let directory = tempfile::tempdir().unwrap();
    let base = Config {
        database_url: format!("sqlite://{}/history.sqlite3", directory.path().display()),
        kept_period_ttl_ms: 150,
        ..test_config(&acme)
    };
    let (app, state) = app_and_state(&two_organisations(base, &acme, &beacon));
    let history_of = |id: &str| {
        let tenants = state.organisations.get();
        let tenant = tenants.get(&OrgId::parse(id).unwrap()).expect("configured");
        tenant.periods.history().cloned().expect("a history store")
    };
    let (acme_history, beacon_history) = (history_of("acme"), history_of("beacon"));
    assert!(state.periods.history().is_none(), "the deployment's own periods are no organisation's: not recorded");
    get(&app, "/o/acme/usage").await;
    get(&app, "/o/beacon/usage").await;
    // Both periods start on their first message's day; each store lists its own only.
    let listed = |history: &History| match history.listing() {
        Listing::Read(periods) => periods.iter().map(|period| period.id.clone()).collect::<Vec<_>>(),
        _ => Vec::new(),
    };
    eventually("both periods recorded", || async {
        let _ = acme_history.refresh_listing().await;
        let _ = beacon_history.refresh_listing().await;
        !listed(&acme_history).is_empty() && !listed(&beacon_history).is_empty()
    })
    .await;
    assert_eq!(listed(&acme_history), ["2024-04-29"]);
    assert_eq!(listed(&beacon_history), ["2024-05-01"]);
    assert!(beacon_history.past_period("2024-04-29").await.unwrap().is_none(), "acme's period is not beacon's");
    let (status, body) = get(&app, "/o/beacon/usage.csv?period=2024-04-29").await;
    assert_eq!((status, error_code(&body).as_str()), (StatusCode::NOT_FOUND, "period_not_found"));
}

#[tokio::test]
async fn organisations_are_read_again_keeping_the_unchanged_and_the_last_good_set_when_a_file_is_broken() {
    let (acme, beacon) = (acme_upstream().await, beacon_upstream().await);
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("dashboard.toml");
    let organisation_file = |name: &str, body: String| std::fs::write(folder.path().join(name), body).unwrap();
    let server = format!(
        "[server]\nupstream_timeout_ms = 300\nusage_deadline_ms = 5000\ndatabase_url = \"\"\norganisations_path = \"{}\"\n",
        folder.path().join("organisations").display()
    );
    std::fs::create_dir(folder.path().join("organisations")).unwrap();
    std::fs::write(&file, &server).unwrap();
    organisation_file("organisations/acme.toml", format!("name = \"Acme\"\nupstream_base_url = \"{}\"\n", acme.uri()));
    let env: std::collections::HashMap<String, String> =
        [("DASHBOARD_CONFIG".to_owned(), file.display().to_string())].into();
    let (config, settings) = configuration_from(&env).unwrap();
    let options = leptos::config::LeptosOptions::builder().output_name("credit-dashboard").build();
    let application = Application::wire(options, &config, settings).unwrap();
    let app = credit_dashboard::routes::build_router(application.state.clone());
    assert_eq!(get(&app, "/o/acme/usage").await.1, ACME_USAGE);
    assert_eq!(get(&app, "/o/beacon/usage").await.0, StatusCode::NOT_FOUND);
    let acme_before = application.state.organisations.get().get(&OrgId::parse("acme").unwrap()).unwrap().clone();

    // A new organisation: served once read again; acme, unchanged, is the same one (its kept period too).
    let beacon_file = format!(
        "name = \"Beacon\"\nupstream_base_url = \"{}\"\nupstream_authorization = \"Bearer beacon-t0ken\"\n",
        beacon.uri()
    );
    organisation_file("organisations/beacon.toml", beacon_file);
    let reloaded = application.reloader().reload(&env).unwrap();
    assert_eq!((reloaded.kept, reloaded.wired, reloaded.removed), (1, 1, 0));
    let (status, body) = get(&app, "/o/beacon/usage").await;
    assert!(status == StatusCode::OK && body.contains("Lease Review"), "{body}");
    let acme_after = application.state.organisations.get().get(&OrgId::parse("acme").unwrap()).unwrap().clone();
    assert!(std::sync::Arc::ptr_eq(&acme_before, &acme_after), "an organisation read the same is kept as it is");

    // A broken file: nothing changes, and the refusal names the file and the key.
    organisation_file("organisations/beacon.toml", "name = \"Beacon\"\nupstream_base_url = \"ftp://x\"\n".into());
    let refused = application.reloader().reload(&env).unwrap_err().to_string();
    assert!(refused.contains("beacon.toml") && refused.contains("upstream_base_url"), "{refused}");
    assert!(get(&app, "/o/beacon/usage").await.1.contains("Lease Review"), "the last good set serves");
    let readiness = application.state.organisations.refused().unwrap_or_default();
    assert!(readiness.contains("beacon.toml"), "{readiness}");

    // Removed, and the file watcher sees it by itself.
    let watching = application.reloader().watch(env.clone());
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    std::fs::remove_file(folder.path().join("organisations/beacon.toml")).unwrap();
    eventually("beacon removed by the watcher", || async {
        get(&app, "/o/beacon/usage").await.0 == StatusCode::NOT_FOUND
    })
    .await;
    assert_eq!(get(&app, "/o/acme/usage").await.1, ACME_USAGE);
    assert!(application.state.organisations.refused().is_none(), "a good reading clears the refusal");
    watching.abort();
}
