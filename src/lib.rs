//! Credit usage dashboard.
//!
//! Shared by the server and the WASM client: the `/usage` contract (`contract`, `money`), the pure rules
//! (`credit_rules`, `sorting`, `period`, `timestamps`) and the UI (`app`, `ui`). Server-only code is in
//! `server`.

// Leptos views are deeply nested types; the default limit is too low for the dashboard's.
#![recursion_limit = "256"]

pub mod app;
pub mod contract;
pub mod credit_rules;
pub mod money;
pub mod period;
pub mod sorting;
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
