//! Content-Security-Policy. A page's scripts run only with the nonce Leptos generates for that response
//! (its hydration script and the WASM loader carry it); everything else gets a policy that runs nothing.

use axum::http::{header, HeaderValue};
use leptos::prelude::use_context;

/// For responses that are not pages: JSON, static files, errors.
pub const FALLBACK_CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// `form_targets`: another origin a form may end at (the sign-out form is sent on to the provider).
pub fn page_policy(nonce: &str, form_targets: &str) -> String {
    let policy = format!(
        "default-src 'self'; script-src 'nonce-{nonce}' 'strict-dynamic' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
         frame-ancestors 'none'; base-uri 'self'; form-action 'self' {form_targets}"
    );
    policy.trim_end().to_owned()
}

/// Called for each page response, once Leptos has put that response's nonce in the context.
pub fn set_page_content_security_policy(form_targets: &str) {
    let (Some(nonce), Some(response)) = (leptos::nonce::use_nonce(), use_context::<leptos_axum::ResponseOptions>())
    else {
        return;
    };
    if let Ok(value) = HeaderValue::from_str(&page_policy(&nonce, form_targets)) {
        response.insert_header(header::CONTENT_SECURITY_POLICY, value);
    }
}
