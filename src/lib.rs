//! Credit usage dashboard.
//!
//! Layers, each importing only from those below it: `routes` (the HTTP surface, server only) → `app` (the
//! page shell) → `ui` (components) → `server` (server only: upstream, pricing, dates, chart) → the shared
//! modules the WASM also needs (`contract`, `money`, `sorting`, `view_query`, `page_data`, `figures`).

// Leptos views are deeply nested types; the default limit is too low for the dashboard's.
#![recursion_limit = "256"]

#[cfg(feature = "ssr")]
pub mod routes;

pub mod app;
pub mod ui;

#[cfg(feature = "ssr")]
pub mod server;

pub mod contract;
pub mod figures;
pub mod money;
pub mod page_data;
pub mod sorting;
pub mod view_query;

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    // No panic hook (console_error_panic_hook): the island's code does not panic, and the hook's formatting was
    // 0.8 KB of the budget (gzip). Only the islands hydrate (the table); the rest of the page stays the server's HTML.
    leptos::mount::hydrate_islands();
}
