//! The HTML shell and the app.

use crate::ui::dashboard_page::DashboardPage;
use leptos::prelude::*;

/// The page around the app. Only the server renders it; the browser hydrates the islands inside.
/// `stylesheet` is the stylesheet's (content-hashed) path.
#[cfg(feature = "ssr")]
pub fn shell(options: LeptosOptions, stylesheet: String) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="icon" type="image/svg+xml" href="/favicon.svg"/>
                <AutoReload options=options.clone()/>
                <link rel="stylesheet" href=stylesheet/>
                <leptos_meta::MetaTags/>
                <HydrationScripts options islands=true/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The app is one page. Most of it is static HTML; the table is an island.
#[component]
pub fn App() -> impl IntoView {
    leptos_meta::provide_meta_context();
    view! { <DashboardPage/> }
}
