//! The table of a 100 000-message period in Chromium: hydration, the sort and paging clicks, and what a first
//! and a repeat visit download (`bench/table_clicks.js`).

use crate::*;
use std::process::Command;

pub async fn figures(client: &reqwest::Client, upstream: &Upstream, upstream_url: &str) {
    println!("\n## The table of a 100 000-message period, in Chromium\n");
    let server = Server::start(3206, upstream_url, &[]).await;
    upstream.set(0, 100_000, 5_000, false);
    let url = format!("{}/", server.base);
    // The period is computed before the browser starts: the visit measures serving it, not the upstream.
    time_requests(client, &url, 1).await;
    upstream.take_message_downloads();
    // Off the runtime's threads, which keep serving the fake upstream meanwhile.
    let measured =
        tokio::task::spawn_blocking(move || Command::new("node").arg("bench/table_clicks.js").arg(url).output())
            .await
            .expect("node runner");
    let downloads = upstream.take_message_downloads();
    drop(server);
    match measured {
        Ok(output) if output.status.success() => {
            println!("100 000 messages, 5 000 reports; a default-TTL server, whose period one request computed");
            println!("just before. `hydratedMs`: navigation to hydrated. `clicks`: each from the click to the next");
            println!("frame after the table shows the new page, which the server sorts and cuts (target ≤ 100 ms");
            println!("each): Credits ↑, Credits ↓, + Report Name ↑ (each the first request for its order, which the");
            println!("server then keeps), Next, Last and Previous page. `firstVisit` / `repeatVisit`: bytes of JS,");
            println!("WASM and CSS under `/pkg/` that came over the network (DevTools protocol), and how many of");
            println!("those requests the cache served; the repeat visit (hydrated in `repeatHydratedMs`) loads the");
            println!("same URL again in the same browser context (target 0 bytes).\n");
            println!("`{}`\n", String::from_utf8_lossy(&output.stdout).trim());
            println!("Messages downloads at the upstream during the browser run: {downloads} (0: all served from");
            println!("the kept period). Previous run, copied (5 000 rows, all in the page, sorted in the browser):");
            println!("hydrated in 1226 ms; sort clicks 359, 266, 43, 32, 37 and 278 ms.");
        }
        Ok(output) => println!("not measured: {}", String::from_utf8_lossy(&output.stderr).trim()),
        Err(error) => println!("not measured: {error}"),
    }
}
