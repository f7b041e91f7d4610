//! How the table moves between views in place, once hydrated: a click on a sort header or a page link loads
//! the new page through the server function and, when it arrives, records its URL with `pushState` and brings
//! the links outside the table up to date; back and forward load the page their URL names. Before hydration,
//! or without JavaScript, the same links load the next page from the server.

#[cfg(feature = "hydrate")]
use super::table_page::load_table_page;
use crate::page_data::TablePage;
use crate::view_query::ViewQuery;
use leptos::prelude::*;

/// Where a load was asked for, so that a failure is shown there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// A sort header.
    Header,
    /// A page link.
    Pager,
}

impl Place {
    /// Its name in the page, `data-place`.
    pub fn name(self) -> &'static str {
        match self {
            Place::Header => "header",
            Place::Pager => "pager",
        }
    }
}

/// A load that failed: the table keeps the rows it had, and says why beside the control that was used.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadFailure {
    pub message: String,
    pub place: Place,
    /// The view that could not be loaded, for the retry.
    pub view: ViewQuery,
}

/// Whether the URL already names the view being loaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
enum Entry {
    /// A click: the view's URL is recorded once its page is shown.
    New,
    /// Back or forward: the browser has moved to the URL already.
    Visited,
}

/// The table's state. `latest` numbers the loads, so that a slow answer to an earlier click never replaces the
/// page a later one asked for.
#[derive(Clone, Copy)]
pub struct Navigator {
    /// The page shown, with the view it shows.
    pub page: RwSignal<TablePage>,
    /// The view asked for last: it changes at the click, before its page arrives, so that a second click
    /// builds on the first even while the first is loading.
    pub asked: RwSignal<ViewQuery>,
    pub loading: RwSignal<bool>,
    pub failure: RwSignal<Option<LoadFailure>>,
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    latest: StoredValue<u64>,
}

impl Navigator {
    pub fn new(initial: TablePage) -> Self {
        let asked = RwSignal::new(initial.view.clone());
        Navigator {
            page: RwSignal::new(initial),
            asked,
            loading: RwSignal::new(false),
            failure: RwSignal::new(None),
            latest: StoredValue::new(0),
        }
    }

    /// Follows a table link in place. Clicks that mean something else (a new tab, a download) are left to the
    /// browser, and so is everything before hydration: the link then simply loads the next view.
    pub fn follow(self, event: &leptos::ev::MouseEvent, next: ViewQuery, place: Place) {
        let modified =
            event.button() != 0 || event.ctrl_key() || event.meta_key() || event.shift_key() || event.alt_key();
        if modified || event.default_prevented() {
            return;
        }
        #[cfg(feature = "hydrate")]
        {
            event.prevent_default();
            self.load(next, place, Entry::New);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (self, next, place);
    }

    /// Asks again for the view whose load failed.
    pub fn retry(self) {
        #[cfg(feature = "hydrate")]
        if let Some(failure) = self.failure.get_untracked() {
            self.load(failure.view, failure.place, Entry::New);
        }
    }

    #[cfg(feature = "hydrate")]
    fn load(self, next: ViewQuery, place: Place, entry: Entry) {
        let ticket = self.latest.get_value() + 1;
        self.latest.set_value(ticket);
        self.loading.set(true);
        self.asked.set(next.clone());
        leptos::task::spawn_local(async move {
            let outcome = load_table_page(next.clone()).await;
            if self.latest.get_value() != ticket {
                return;
            }
            self.loading.set(false);
            match outcome {
                // The walk's version is gone: load the URL, whose page says so (its notice is the server's).
                Ok(page) if page.refreshed => {
                    let _ = window().location().assign(&next.href());
                }
                Ok(page) => {
                    // The server's view: the page clamped to the pages there are.
                    let shown = page.view.clone();
                    if let (Entry::New, Ok(history)) = (entry, window().history()) {
                        let _ = history.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&shown.href()));
                    }
                    carry_sort_outside(&shown);
                    if let Some(notice) = document().get_element_by_id(super::REFRESHED_NOTICE) {
                        notice.remove();
                    }
                    self.failure.set(None);
                    self.asked.set(shown);
                    self.page.set(page);
                }
                // Back or forward to a view that cannot be loaded here: load the URL, so that the page says
                // what its URL names, even if that is the error page.
                Err(_) if entry == Entry::Visited => {
                    let _ = window().location().reload();
                }
                Err(body) => {
                    self.asked.set(self.page.with_untracked(|page| page.view.clone()));
                    self.failure.set(Some(LoadFailure { message: body.error.message, place, view: next }));
                }
            }
        });
    }

    /// Back and forward: load the page the URL now names.
    pub fn follow_back_and_forward(self) {
        #[cfg(feature = "hydrate")]
        {
            let listener = window_event_listener(leptos::ev::popstate, move |_| {
                let search = window().location().search().unwrap_or_default();
                // The same page: the same organisation, whatever the query says.
                let organisation = self.page.with_untracked(|page| page.view.organisation.clone());
                let visited = ViewQuery::from_query(search.trim_start_matches('?')).on_organisation(organisation);
                // A move within the page (a `#fragment`) leaves the view as it is.
                if self.page.with_untracked(|page| page.view != visited) {
                    self.load(visited, Place::Pager, Entry::Visited);
                }
            });
            on_cleanup(move || listener.remove());
        }
    }
}

/// The links and form fields outside the table that carry the sort (the chart's days, the breakdown's lines,
/// the zone form) are the server's HTML: after an in-place sort they are rewritten to carry the new one, so
/// that every part of the page describes the URL's view. Only the sort needs this: the page number is the
/// table's alone, and the filters change by loading the page.
#[cfg(feature = "hydrate")]
fn carry_sort_outside(view: &ViewQuery) {
    use crate::view_query::FOLLOWS_SORT;
    let elements = document().get_elements_by_class_name(FOLLOWS_SORT);
    for index in 0..elements.length() {
        let Some(element) = elements.item(index) else { continue };
        if element.tag_name().eq_ignore_ascii_case("input") {
            // A form field: disabled (not sent) when there is no sort.
            let _ = match view.sort.to_param() {
                Some(sort) => element.set_attribute("value", &sort).and(element.remove_attribute("disabled")),
                None => element.set_attribute("disabled", ""),
            };
        } else if let Some(href) = element.get_attribute("href") {
            let (path, query) = href.split_once('?').unwrap_or((&href, ""));
            let carried = ViewQuery::from_query(query).with_sort(view.sort.clone());
            let _ = element.set_attribute("href", &carried.href_to(path, true));
        }
    }
}

/// A marker for the browser tests (and anyone debugging) that the table is now interactive.
pub fn mark_hydrated() {
    Effect::new(move |_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "");
        }
    });
}
