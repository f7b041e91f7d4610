use crate::contract::ErrorDetail;
use leptos::prelude::*;

/// Shown instead of the dashboard when the usage cannot be loaded; the page's status is then 503 (or 500 for
/// a fault of this server). No figures are shown rather than wrong ones. `retry` is the same view again.
#[component]
pub fn ErrorPanel(error: ErrorDetail, retry: String) -> impl IntoView {
    let (title, explanation) = match error.code.as_str() {
        "internal_error" => (
            "The dashboard could not be drawn",
            "The usage was loaded, but this server failed to draw it. Reloading may help; if not, this is our fault, not the billing service's.",
        ),
        "period_not_found" => (
            "No such billing period",
            "The history keeps no billing period by that name. The periods it keeps are listed below.",
        ),
        "history_unavailable" => (
            "Past periods are unavailable",
            "The history store did not answer, so this past period cannot be shown. The current period does not depend on it; try again in a moment.",
        ),
        _ => (
            "Usage could not be loaded",
            "The billing service did not answer as expected, so no figures are shown rather than wrong ones. Try again in a moment; if it keeps failing, the upstream billing API may be down.",
        ),
    };
    view! {
        <section class="card panel panel-error" role="alert" id="usage-error" data-code=error.code>
            <h2>{title}</h2>
            <p>{explanation}</p>
            <p class="panel-detail">{error.message}</p>
            // A full reload of the same view: the data is fetched again on the server.
            <a class="button" id="retry" href=retry>"Retry"</a>
        </section>
    }
}
