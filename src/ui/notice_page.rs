//! A small page of its own, in the dashboard's style: a title, what happened, and what to do next. The page a
//! refused sign-in shows, the signed-out page and the 404 page; a whole document, rendered on the server only.

use leptos::prelude::*;

/// What a notice offers to do next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NextStep {
    /// A link to the dashboard, worded `label` (which signs in again where sign-in is needed).
    Dashboard(&'static str),
    /// A link to `href`, worded `label` (escaped as all text is).
    Link { href: String, label: String },
    /// The sign-out form.
    SignOut,
}

#[component]
fn Step(step: NextStep) -> impl IntoView {
    match step {
        NextStep::Dashboard(label) => view! { <a class="button" href="/">{label}</a> }.into_any(),
        NextStep::Link { href, label } => view! { <a class="button" href=href>{label}</a> }.into_any(),
        NextStep::SignOut => view! {
            <form method="post" action="/auth/logout">
                <button class="button" type="submit">"Sign out"</button>
            </form>
        }
        .into_any(),
    }
}

/// The document: `title`, the paragraph `text` (escaped, as every text a component shows) and the `steps`.
pub fn notice_page(stylesheet: &str, title: &str, text: &str, steps: &[NextStep]) -> String {
    let steps = steps.iter().map(|step| view! { <Step step=step.clone()/> }).collect_view();
    let (heading, text) = (title.to_owned(), text.to_owned());
    let body = view! {
        <section class="card panel">
            <h1>{heading}</h1>
            <p>{text}</p>
            {steps}
        </section>
    };
    standalone_page(stylesheet, title, body)
}

/// A whole document of its own, in the dashboard's style, around `body`: what every page outside the
/// dashboard's shell is.
pub fn standalone_page(stylesheet: &str, title: &str, body: impl IntoView + 'static) -> String {
    let (title, stylesheet) = (title.to_owned(), stylesheet.to_owned());
    let document = view! {
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <title>{title}</title>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <link rel="stylesheet" href=stylesheet/>
            </head>
            <body>
                <main class="page">{body}</main>
            </body>
        </html>
    };
    format!("<!DOCTYPE html>{}", document.to_html())
}
