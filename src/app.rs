//! The HTML shell and the app.

use crate::ui::dashboard_page::DashboardPage;
use leptos::prelude::*;

pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="icon" type="image/svg+xml" href="/favicon.svg"/>
                <AutoReload options=options.clone()/>
                <link rel="stylesheet" href="/pkg/credit-dashboard.css"/>
                <title>"Credit usage"</title>
                <HydrationScripts options/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The app is one page; its only URL state, the sort, is handled by `ui::sort_state`.
#[component]
pub fn App() -> impl IntoView {
    view! { <DashboardPage/> }
}
