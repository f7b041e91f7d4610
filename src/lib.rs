//! Credit usage dashboard.
//!
//! Shared by the server and the WASM client: the `/usage` contract (`contract`, `money`), the pure rules
//! (`credit_rules`, `sorting`, `period`) and the UI (`app`, `ui`). Server-only code is in `server`, and
//! `timestamps`: dates are read and formatted on the server, so the WASM carries no date library.

// Leptos views are deeply nested types; the default limit is too low for the dashboard's.
#![recursion_limit = "256"]

pub mod app;
pub mod contract;
pub mod credit_rules;
pub mod money;
pub mod period;
pub mod sorting;
#[cfg(feature = "ssr")]
pub mod timestamps;
pub mod ui;

#[cfg(feature = "ssr")]
pub mod server;

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
