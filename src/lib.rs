//! Credit usage dashboard.
//!
//! Layers, each importing only from those below it: `routes` (the HTTP surface, server only) → `app` (the
//! page shell) → `ui` (components) → `server` (server only: upstream, pricing, dates, chart) → the shared
//! modules the WASM also needs (`contract`, `money`, `sorting`, `view`).

// Leptos views are deeply nested types; the default limit is too low for the dashboard's.
#![recursion_limit = "256"]

#[cfg(feature = "ssr")]
pub mod routes;

pub mod app;
pub mod ui;

#[cfg(feature = "ssr")]
pub mod server;

pub mod contract;
pub mod money;
pub mod sorting;
pub mod view;

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
    // A marker for the browser tests (and anyone debugging) that the page is now interactive.
    if let Some(body) = leptos::prelude::document().body() {
        let _ = body.set_attribute("data-hydrated", "");
    }
}
