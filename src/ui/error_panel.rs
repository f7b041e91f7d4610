use leptos::prelude::*;

/// Shown instead of the dashboard when the usage cannot be loaded; the page's status is then 503.
#[component]
pub fn ErrorPanel(message: String) -> impl IntoView {
    view! {
        <section class="card panel panel-error" role="alert" id="usage-error">
            <h2>"Usage could not be loaded"</h2>
            <p>
                "The billing service did not answer as expected, so no figures are shown rather than wrong ones. "
                "Try again in a moment; if it keeps failing, the upstream billing API may be down."
            </p>
            <p class="panel-detail">{message}</p>
            // A full reload: the data is fetched again on the server.
            <a class="button" href="/" rel="external">"Retry"</a>
        </section>
    }
}
