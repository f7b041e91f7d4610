use crate::sorting::SORT_PARAM;
use crate::view::ZoneView;
use crate::view_query::{ViewQuery, REPORT_PARAM, TZ_PARAM};
use leptos::prelude::*;

/// Which zone the page is in, and a way to pick another that works without JavaScript: a GET form with the
/// server's zone names as suggestions. It keeps the sort and the report filter; a day belongs to its zone, so
/// it is dropped. With JavaScript, the browser's own zone is one click away when it differs.
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
    // The view without its zone (a new zone drops the day too).
    let elsewhere = query.with_tz(None).href();
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
            <LocalZoneOffer current=zone.name view=elsewhere/>
        </form>
        {notice}
    }
}

/// Offers the browser's own zone (`Intl`) when it is not the page's: a link, hidden until this script, run
/// with the page's CSP nonce, fills it in. A few lines of JavaScript rather than an island: reading one
/// browser setting is not worth the WASM it would add to every visit.
const OFFER_LOCAL_ZONE: &str = r#"(() => {
  const link = document.getElementById("use-local-zone");
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (!link || !zone || zone === link.dataset.current) return;
  const url = new URL(link.dataset.view, location.href);
  url.searchParams.set("tz", zone);
  link.href = url.pathname + url.search;
  link.textContent = "Use my time zone (" + zone + ")";
  link.hidden = false;
})();"#;

#[component]
fn LocalZoneOffer(current: String, view: String) -> impl IntoView {
    view! {
        <a class="chip" id="use-local-zone" href=view.clone() data-current=current data-view=view hidden></a>
        <script nonce=leptos::nonce::use_nonce() inner_html=OFFER_LOCAL_ZONE></script>
    }
}
