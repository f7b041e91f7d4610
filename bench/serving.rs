//! Serving: `/usage` cold and warm, warm throughput, a large period (computed, kept, and under concurrent cold
//! requests), the dashboard page, and `GET /` throughput side by side with the build before the second review.

use crate::*;
use std::time::Instant;

pub async fn figures(client: &reqwest::Client, upstream: &Upstream, upstream_url: &str) {
    let server = Server::start(3200, upstream_url, NOTHING_KEPT).await;
    let usage_url = format!("{}/usage", server.base);
    let samples = 20;

    println!("## `/usage` latency\n");
    println!("500 messages; half carry a report id. Cold: every request sees report ids it has never seen.");
    println!("Warm: the same ids again. The server runs with `KEPT_PERIOD_TTL_MS=0`: it keeps no priced period,");
    println!("so every request downloads and prices the messages, as in the previous run (its cold medians, copied,");
    println!("are in the last column). Baseline: one request straight to the fake upstream, measured here.");
    println!("{samples} requests each.\n");
    println!(
        "| upstream latency | distinct reports | upstream round trip (median) | cold median | cold p95 | warm median \
         | warm p95 | cold ÷ round trip | cold median, previous run |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for latency in [0, 20, 50] {
        for reports in [8, 200] {
            upstream.set(latency, 500, reports, false);
            let (round_trips, _) = time_requests(client, &format!("{upstream_url}/reports/{}", 1), samples).await;
            upstream.set(latency, 500, reports, true);
            let (cold, _) = time_requests(client, &usage_url, samples).await;
            upstream.set(latency, 500, reports, false);
            time_requests(client, &usage_url, 1).await;
            let (warm, _) = time_requests(client, &usage_url, samples).await;
            let round_trip = median(&round_trips);
            let previous = PREVIOUS_COLD_MEDIANS
                .iter()
                .find(|(measured, _)| *measured == (latency, reports))
                .map_or("—", |(_, figure)| *figure);
            println!(
                "| {latency} ms | {reports} | {} ms | {} ms | {} ms | {} ms | {} ms | {:.2} | {previous} |",
                ms(round_trip),
                ms(median(&cold)),
                ms(percentile(&cold, 0.95)),
                ms(median(&warm)),
                ms(percentile(&warm, 0.95)),
                median(&cold).as_secs_f64() / round_trip.as_secs_f64()
            );
        }
    }
    drop(server);

    println!("\n## Warm throughput\n");
    let server = Server::start(3201, upstream_url, &[]).await;
    let usage_url = format!("{}/usage", server.base);
    upstream.set(0, 500, 8, false);
    time_requests(client, &usage_url, 1).await;
    upstream.take_message_downloads();
    let (per_second, total) = throughput(client, &usage_url, 64, 10).await;
    let downloads = upstream.take_message_downloads();
    println!("64 concurrent clients for 10 s, upstream latency 0 ms, 500 messages, 8 reports, default");
    println!("`KEPT_PERIOD_TTL_MS` (30 s): after a first request, every response is served from the kept period");
    println!("({downloads} messages downloads during the run). **{per_second:.0} requests/s** ({total} requests).");
    println!("Previous run, which downloaded and priced the messages for every request: 1303 requests/s.");
    drop(server);

    println!("\n## A large period\n");
    println!("100 000 messages, 5 000 distinct reports, upstream latency 0 ms. The \"before\" figures are those of");
    println!("the previous run, copied from bench/RESULTS.md: they cannot be measured again, since the code that");
    println!("produced them is gone.\n");

    let cold_samples = 3;
    let server = Server::start(3202, upstream_url, NOTHING_KEPT).await;
    upstream.set(0, 100_000, 5_000, true);
    let (upstream_direct, upstream_size) =
        time_requests(client, &format!("{upstream_url}/messages/current-period"), 1).await;
    let (cold_usage, usage_size) = time_requests(client, &format!("{}/usage", server.base), cold_samples).await;
    let (cold_page, page_size) = time_requests(client, &format!("{}/", server.base), cold_samples).await;
    drop(server);
    println!("### Computed for each request\n");
    println!("`KEPT_PERIOD_TTL_MS=0`, and new report ids for every messages download: each request downloads");
    println!("the messages and looks every report up. {cold_samples} requests each, median.\n");
    println!("| measure | value | target | before |\n|---|---:|---:|---:|");
    println!(
        "| fake upstream messages body (baseline) | {:.1} MB in {} ms | — | 12.9 MB in 70.5 ms |",
        upstream_size as f64 / 1e6,
        ms(upstream_direct[0])
    );
    println!("| `GET /usage` | {} ms | — | 441.9 ms (1 request) |", ms(median(&cold_usage)));
    println!("| `GET /` | {} ms | — | 1078.9 ms (1 request) |", ms(median(&cold_page)));
    println!(
        "| cold `/` ÷ cold `/usage` | {:.2} | ≤ 1.2 | 2.44 |",
        median(&cold_page).as_secs_f64() / median(&cold_usage).as_secs_f64()
    );
    println!("| `/usage` response size | {:.1} MB | — | 9.6 MB |", usage_size as f64 / 1e6);
    println!(
        "| `/` HTML size | {:.1} KB (first page of the table) | ≤ 150 KB | 33.3 MB (the whole table) |",
        page_size as f64 / 1024.0
    );

    println!("\n### Served from the kept period\n");
    let server = Server::start(3203, upstream_url, &[]).await;
    upstream.set(0, 100_000, 5_000, false);
    upstream.take_message_downloads();
    println!("Default `KEPT_PERIOD_TTL_MS` (30 s). The first request for `/` computes the period; the first with");
    println!("a new sort computes that order over the whole period, which is then kept with it. Then {samples}");
    println!("requests each. No before figures: the previous server kept nothing.\n");
    println!("| request | first | median | p95 | target (median) |\n|---|---:|---:|---:|---:|");
    for (path, target) in [
        ("/", "≤ 10 ms"),
        ("/?sort=credits_used:desc&page=500", "—"),
        ("/?sort=report_name:asc,credits_used:desc&page=2", "—"),
    ] {
        let url = format!("{}{path}", server.base);
        let (first, _) = time_requests(client, &url, 1).await;
        let (kept, _) = time_requests(client, &url, samples).await;
        println!(
            "| `GET {path}` | {} ms | {} ms | {} ms | {target} |",
            ms(first[0]),
            ms(median(&kept)),
            ms(percentile(&kept, 0.95))
        );
    }
    println!(
        "\nMessages downloads at the upstream for all of these: {} (1 is the first request's).",
        upstream.take_message_downloads()
    );
    drop(server);

    let concurrent = 50;
    println!("\n### {concurrent} concurrent requests on a cold server\n");
    let server = Server::start(3204, upstream_url, &[]).await;
    upstream.set(0, 100_000, 5_000, true);
    upstream.take_message_downloads();
    let rss_idle = server.peak_rss_kib();
    let started = Instant::now();
    let requests: Vec<_> = (0..concurrent)
        .map(|index| {
            let path = if index % 2 == 0 { "/" } else { "/usage" };
            tokio::spawn(status_of(client.clone(), format!("{}{path}", server.base)))
        })
        .collect();
    let mut succeeded = 0;
    for request in requests {
        if request.await.unwrap() == Some(reqwest::StatusCode::OK) {
            succeeded += 1;
        }
    }
    let wall = started.elapsed();
    let downloads = upstream.take_message_downloads();
    let rss_after = server.peak_rss_kib();
    drop(server);
    println!("A new server (default TTL, nothing computed yet), new report ids; {concurrent} requests sent at once,");
    println!("alternately `/` and `/usage`: they share one computation of the period.\n");
    println!("| measure | value | target | before |\n|---|---:|---:|---:|");
    println!("| messages downloads at the upstream | {downloads} | 1 | — |");
    println!("| responses with status 200 | {succeeded} of {concurrent} | all | — |");
    println!("| wall time, until the last response | {} ms | — | — |", ms(wall));
    println!(
        "| peak RSS (VmHWM): idle → after | {} → {} | ≤ 250 MiB | 8.1 → 165.5 MiB (one `/usage`, then one `/`) |",
        mib(rss_idle),
        mib(rss_after)
    );

    println!("\n## The dashboard page (sample-sized period)\n");
    let server = Server::start(3205, upstream_url, &[]).await;
    upstream.set(0, 120, 7, false);
    time_requests(client, &format!("{}/", server.base), 1).await;
    let (times, size) = time_requests(client, &format!("{}/", server.base), samples).await;
    let (usage_times, _) = time_requests(client, &format!("{}/usage", server.base), samples).await;
    drop(server);
    println!("120 messages, 7 reports, upstream latency 0 ms; default TTL, so after a first request both are");
    println!("served from the kept period. {samples} requests each. Before: the previous run, copied (its server");
    println!("downloaded and priced the messages for every request).\n");
    println!("| measure | value | target | before |\n|---|---:|---:|---:|");
    println!("| `GET /` median (server render) | {} ms | ≤ 3 ms | 2.2 ms |", ms(median(&times)));
    println!("| `GET /` p95 | {} ms | — | 2.5 ms |", ms(percentile(&times, 0.95)));
    println!("| `GET /` HTML size, uncompressed | {:.1} KB | — | 53.5 KB |", size as f64 / 1024.0);
    println!("| `GET /usage` median | {} ms | — | 0.5 ms |", ms(median(&usage_times)));
    println!("| `GET /usage` p95 | {} ms | — | 0.7 ms |", ms(percentile(&usage_times, 0.95)));

    println!("\n## `GET /` throughput on the sample data, side by side with the build before the review\n");
    // Both on the embedded sample upstream (their default), one after the other on this machine.
    let server = Server::start(3207, "", &[]).await;
    let url = format!("{}/", server.base);
    time_requests(client, &url, 1).await;
    let (now, now_total) = throughput(client, &url, 64, 10).await;
    let (_, size) = time_requests(client, &url, 1).await;
    drop(server);
    let before = match crate::builds::before_second_review() {
        Some(build) => {
            // On the embedded sample upstream, its default, as this build above.
            let server = build.start(3208, "", &[]).await;
            let url = format!("{}/", server.base);
            time_requests(client, &url, 1).await;
            let (before, _) = throughput(client, &url, 64, 10).await;
            let (_, before_size) = time_requests(client, &url, 1).await;
            Some((before, before_size))
        }
        None => None,
    };
    println!("64 concurrent clients for 10 s each, `GET /` of the 120-message sample (the default configuration:");
    println!("the embedded sample upstream, the kept period), against this build and against the build before");
    println!("the second review (`BASELINE_REV`), started one after the other in this run.\n");
    println!("| build | requests/s | HTML size | ratio |\n|---|---:|---:|---:|");
    match before {
        Some((before, before_size)) => {
            println!("| before the review | {before:.0} | {:.1} KB | 1.00 |", before_size as f64 / 1024.0);
            println!(
                "| this build | {now:.0} ({now_total} requests) | {:.1} KB | {:.2} (target ≥ 2) |",
                size as f64 / 1024.0,
                now / before
            );
        }
        None => println!(
            "| this build | {now:.0} ({now_total} requests) | {:.1} KB | no baseline built |",
            size as f64 / 1024.0
        ),
    }
}
