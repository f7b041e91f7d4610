use crate::page_data::ShownZone;
use crate::sorting::SORT_PARAM;
use crate::view_query::{ViewQuery, FOLLOWS_SORT, PERIOD_PARAM, REPORT_PARAM, TZ_PARAM};
use leptos::prelude::*;

/// Which zone the page is in, and a way to pick another that works without JavaScript: a GET form with the
/// server's zone names as suggestions. It keeps the sort and the report filter; a day belongs to its zone, so
/// it is dropped. With JavaScript, the browser's own zone is one click away when it differs.
#[component]
pub fn ZonePicker(zone: ShownZone, view: ViewQuery) -> impl IntoView {
    let notice = zone.unknown.map(|asked| {
        view! {
            <p class="notice" role="status" id="zone-notice">
                {format!("“{asked}” is not a time zone this server knows: times are shown in UTC.")}
            </p>
        }
    });
    let period = view.period.clone().map(|period| view! { <input type="hidden" name=PERIOD_PARAM value=period/> });
    let report = view.report.as_ref().map(|report| {
        view! { <input type="hidden" name=REPORT_PARAM value=report.to_param().to_owned()/> }
    });
    // The sort's field is there even when there is no sort (disabled, so it is not sent), so that a sort chosen
    // in the table can be carried.
    let sort = view.sort.to_param();
    let unsorted = sort.is_none();
    // The view without its zone (a new zone drops the day too), for the browser's own zone to be added to.
    let without_zone = view.with_tz(None).href();
    // The organisation's dashboard, or the deployment's: the form's fields are the rest of the view.
    let dashboard = ViewQuery { organisation: view.organisation.clone(), ..ViewQuery::default() }.href();
    view! {
        <form class="zone-picker" method="get" action=dashboard id="zone-form">
            <label for="tz-input">"Time zone"</label>
            <input id="tz-input" name=TZ_PARAM list="zone-names" value=zone.name.clone() autocomplete="off" spellcheck="false"/>
            // The same ~420 names on every page, written once per process.
            <datalist id="zone-names" inner_html=zone.suggestions_html.to_string()></datalist>
            <input type="hidden" name=SORT_PARAM value=sort.unwrap_or_default() disabled=unsorted class=FOLLOWS_SORT/>
            {period}
            {report}
            <button type="submit">"Show"</button>
            <span class="zone-offset" id="zone-offset">{format!("{} · {}", zone.name, zone.offset)}</span>
            <span id="local-zone-offer" data-current=zone.name data-view=without_zone></span>
            <script nonce=leptos::nonce::use_nonce() inner_html=OFFER_LOCAL_ZONE></script>
        </form>
        {notice}
    }
}

/// Offers the browser's own zone (`Intl`) when it is not the page's: a link, with its text, added by this
/// script, run with the page's CSP nonce; nothing is in the page when there is nothing to offer. A few lines
/// of JavaScript rather than an island: reading one browser setting is not worth the WASM it would add to
/// every visit. The link carries the sort like the page's other links, so the table keeps it current.
const OFFER_LOCAL_ZONE: &str = r#"(() => {
  const place = document.getElementById("local-zone-offer");
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (!place || !zone || zone === place.dataset.current) return;
  const url = new URL(place.dataset.view, location.href);
  url.searchParams.set("tz", zone);
  const link = document.createElement("a");
  link.id = "use-local-zone";
  link.className = "chip follows-sort";
  link.href = url.pathname + url.search;
  link.textContent = "Use my time zone (" + zone + ")";
  place.append(link);
})();"#;
