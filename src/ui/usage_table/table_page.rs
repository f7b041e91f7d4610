//! The table's server function: one page of a view, `POST /api/table_page` with a JSON body
//! `{"view":{"sort":"credits_used:desc","page":3,…}}` (the view as the island holds it). A failure answers
//! exactly as `/usage` would: its status and its error body.

use crate::contract::ErrorBody;
use crate::page_data::TablePage;
use crate::view_query::ViewQuery;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

#[server(endpoint = "table_page", input = Json)]
pub async fn load_table_page(view: ViewQuery) -> Result<TablePage, ErrorBody> {
    use crate::server::access::Caller;
    use crate::server::views::{checked_view::CheckedView, table::table_page};
    use crate::server::AppState;
    let state = expect_context::<AppState>();
    // The organisation the view names, checked against who is asking, as every route checks its own.
    let caller =
        use_context::<axum::http::request::Parts>().and_then(|parts| parts.extensions.get::<Caller>().cloned());
    let outcome = match state.scope(caller.as_ref(), view.organisation.as_deref()) {
        Ok(scope) => scope.periods.shown_for(&view).await.map_err(|error| (error, Some(scope))),
        Err(error) => Err((error, None)),
    };
    match outcome {
        Ok(shown) => {
            let page = table_page(&shown.views, &CheckedView::resolve(&view), state.page.table_page_size);
            Ok(TablePage { refreshed: shown.refreshed, ..page })
        }
        Err((error, scope)) => {
            let periods = scope.map_or_else(|| state.periods.clone(), |scope| scope.periods);
            periods.log_failure("/api/table_page", &error);
            if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                response.set_status(error.status());
            }
            Err(error.body())
        }
    }
}
