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
    use crate::server::views::{checked_view::CheckedView, table::table_page};
    use crate::server::AppState;
    let state = expect_context::<AppState>();
    match state.periods.shown_for(&view).await {
        Ok(shown) => {
            let page = table_page(&shown.views, &CheckedView::resolve(&view), state.page.table_page_size);
            Ok(TablePage { refreshed: shown.refreshed, ..page })
        }
        Err(error) => {
            state.periods.log_failure("/api/table_page", &error);
            if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                response.set_status(error.status());
            }
            Err(error.body())
        }
    }
}
