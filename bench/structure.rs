//! What the rooms cost a warm request: this build beside the build before the configuration, start-up and
//! state were reorganised (`STRUCTURE_BASELINE_REV`, built by `bench/run.sh` into
//! `target/bench-structure-baseline`), both on the same fake upstream, warm `GET /` and `GET /usage` sent to
//! the two servers in turn. The reorganisation changes no behaviour, so the two should be alike.

use crate::builds::{before_structure, this_build};
use crate::{median, ms, percentile, timed_get, Upstream};
use std::time::Duration;

const BASELINE_PORT: u16 = 3270;
const THIS_PORT: u16 = 3271;

pub async fn figures(client: &reqwest::Client, upstream: &Upstream, upstream_url: &str) {
    let Some(baseline) = before_structure() else {
        println!("\n## What the reorganisation costs a warm request\n\nNo baseline built (bench/run.sh builds it).");
        return;
    };
    let (rounds, messages, reports) = (400, 10_000, 500);
    upstream.set(0, messages, reports, false);
    let kept = [("KEPT_PERIOD_TTL_MS", "600000")];
    let before = baseline.start(BASELINE_PORT, upstream_url, &kept).await;
    let now = this_build().start(THIS_PORT, upstream_url, &kept).await;
    for _ in 0..5 {
        for base in [&before.base, &now.base] {
            timed_get(client, &format!("{base}/usage")).await;
            timed_get(client, &format!("{base}/")).await;
        }
    }
    let mut figures: Vec<(&str, Vec<Duration>, Vec<Duration>)> =
        vec![("`GET /`", Vec::new(), Vec::new()), ("`GET /usage`", Vec::new(), Vec::new())];
    for _ in 0..rounds {
        for (row, path) in figures.iter_mut().zip(["/", "/usage"]) {
            row.1.push(timed_get(client, &format!("{}{path}", before.base)).await);
            row.2.push(timed_get(client, &format!("{}{path}", now.base)).await);
        }
    }
    drop((before, now));

    println!("\n## What the reorganisation costs a warm request\n");
    println!(
        "{messages} messages ({reports} reports), kept for 10 minutes; the build before the reorganisation of the"
    );
    println!(
        "configuration, start-up and state beside this one, {rounds} warm requests of each, sent to the two in turn.\n"
    );
    println!(
        "| request | before: median | this: median | ratio | before: p95 | this: p95 |\n|---|---:|---:|---:|---:|---:|"
    );
    for (name, before, now) in &figures {
        let (a, b) = (median(before), median(now));
        let ratio = b.as_secs_f64() / a.as_secs_f64();
        let (pa, pb) = (percentile(before, 0.95), percentile(now, 0.95));
        println!("| {name} | {} ms | {} ms | {ratio:.3} | {} ms | {} ms |", ms(a), ms(b), ms(pa), ms(pb));
    }
    println!("\nTarget: each median within 5 % of the build before (a ratio from 0.95 to 1.05).");
}
