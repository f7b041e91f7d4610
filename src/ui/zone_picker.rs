use crate::sorting::SORT_PARAM;
use crate::view::ZoneView;
use crate::view_query::{ViewQuery, REPORT_PARAM, TZ_PARAM};
use leptos::prelude::*;

/// Which zone the page is in, and a way to pick another that works without JavaScript: a GET form with the
/// server's zone names as suggestions. It keeps the sort and the report filter; a day belongs to its zone, so
/// it is dropped. After hydration, the browser's own zone is one click away when it differs.
#[component]
pub fn ZonePicker(zone: ZoneView, query: ViewQuery) -> impl IntoView {
    let keep = |name: &'static str, value: Option<String>| {
        value.map(|value| view! { <input type="hidden" name=name value=value/> })
    };
    let notice = zone.unknown.map(|asked| {
        view! {
            <p class="notice" role="status" id="zone-notice">
                {format!("“{asked}” is not a time zone this server knows: times are shown in UTC.")}
            </p>
        }
    });
    let elsewhere = query.with_tz(None).query_string();
    view! {
        <form class="zone-picker" method="get" action="/" id="zone-form">
            <label for="tz-input">"Time zone"</label>
            <input id="tz-input" name=TZ_PARAM list="zone-names" value=zone.name.clone() autocomplete="off" spellcheck="false"/>
            <datalist id="zone-names">
                {zone.names.into_iter().map(|name| view! { <option value=name></option> }).collect_view()}
            </datalist>
            {keep(SORT_PARAM, query.sort.to_param())}
            {keep(REPORT_PARAM, query.report.as_ref().map(|report| report.to_param().to_owned()))}
            <button type="submit">"Show"</button>
            <span class="zone-offset" id="zone-offset">{format!("{} · {}", zone.name, zone.offset)}</span>
            <LocalZoneOffer current=zone.name query=elsewhere/>
        </form>
        {notice}
    }
}

/// "Use my time zone (Europe/Berlin)", shown only in the browser, and only when its zone is not the page's.
/// `query` is the view's query string without a zone.
#[island]
fn LocalZoneOffer(current: String, query: String) -> impl IntoView {
    let local = RwSignal::new(None::<String>);
    Effect::new(move |_| local.set(browser_zone().filter(|zone| *zone != current)));
    move || {
        local.get().map(|zone| {
            let href = ViewQuery::from_query(&query).with_tz(Some(zone.clone())).href();
            view! {
                <a class="chip" id="use-local-zone" href=href>
                    {format!("Use my time zone ({zone})")}
                </a>
            }
        })
    }
}

/// The browser's zone, as `Intl` names it.
fn browser_zone() -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        let format = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new());
        js_sys::Reflect::get(&format.resolved_options(), &"timeZone".into()).ok()?.as_string()
    }
    #[cfg(not(feature = "hydrate"))]
    None
}
