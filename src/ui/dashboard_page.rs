use crate::figures;
use crate::page_data::{DashboardData, DashboardPageData, PastPeriods};
use crate::ui::budget_card::BudgetCard;
use crate::ui::error_panel::ErrorPanel;
use crate::ui::period_header::PeriodHeader;
use crate::ui::period_picker::{PeriodComparison, PeriodPicker};
use crate::ui::unusual_days::UnusualDays;
use crate::ui::usage_breakdown::UsageBreakdown;
use crate::ui::usage_chart::UsageChart;
use crate::ui::usage_table::{UsageTable, REFRESHED_NOTICE};
use crate::ui::zone_picker::ZonePicker;
use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use std::sync::Arc;

/// The page, from the data its route loaded before rendering (the route also sets the status: 503 for an
/// upstream problem, as `/usage` would). Only the server renders it; the table inside is the island.
#[component]
pub fn DashboardPage() -> impl IntoView {
    let page = use_context::<Arc<DashboardPageData>>().expect("the page's route provides its data");
    let periods = page.periods.clone();
    let past = periods.past;
    // The same period the budget card names: one that has ended says so, though the upstream still serves it.
    let ended = page.dashboard.as_ref().ok().and_then(|data| data.budget.as_ref()).is_some_and(|budget| budget.closed);
    let subtitle = match (past, ended) {
        (true, _) => "A past billing period, as recorded",
        (false, true) => "The latest billing period, which has ended",
        (false, false) => "Current billing period",
    };
    let body = match page.dashboard.clone() {
        Ok(data) => view! { <Dashboard data periods/> }.into_any(),
        Err(error) => view! {
            <Title text="Credit usage: not available"/>
            <ErrorPanel error retry=page.asked.href()/>
            <PeriodPicker periods view=page.asked.clone()/>
        }
        .into_any(),
    };
    // A plain form: signing out needs no script, and posts to this server (which refuses other origins).
    let signed_in = page.signed_in.clone().map(|name| {
        view! {
            <form class="signed-in" method="post" action="/auth/logout">
                <span>"Signed in as " <strong>{name}</strong></span>
                <button class="button" type="submit">"Sign out"</button>
            </form>
        }
    });
    view! {
        <main class="page">
            <header class="page-header">
                <h1>"Credit usage"</h1>
                <p class="subtitle">{subtitle}</p>
                {signed_in}
            </header>
            {body}
        </main>
    }
}

#[component]
fn Dashboard(data: DashboardData, periods: PastPeriods) -> impl IntoView {
    let summary = &data.overview.summary;
    let past = if periods.past { " (past period)" } else { "" };
    // With a billing cycle, the period is the cycle's (as on the budget card); without one, its messages' days.
    let cycle = data.budget.as_ref().and_then(|budget| Some((budget.first_day.clone(), budget.last_day.clone()?)));
    let period = match (&cycle, &summary.first_day, &summary.last_day) {
        (Some((first, last)), _, _) => format!("{first} → {last}"),
        (None, Some(first), Some(last)) if first == last => first.clone(),
        (None, Some(first), Some(last)) => format!("{first} → {last}"),
        _ => "no usage yet".to_owned(),
    };
    let description = format!(
        "Credits used {period}: {} credits over {} messages, by day, by report and message by message, in {}.",
        figures::amount(summary.total_credits),
        figures::count(summary.message_count),
        data.zone.name
    );
    // Outside the island, so the browser's build does without it: the table loads the page instead when a
    // walk's version is gone, and removes the notice when it pages on in place.
    let refreshed_notice = data.table.refreshed.then(|| {
        view! {
            <p class="table-notice" role="status" id=REFRESHED_NOTICE>
                "The data was refreshed since you began paging: this page is from the latest data, and rows may have moved between pages. "
                <a href=data.table.view.at_page(1).href()>"Start again from the first page"</a>
            </p>
        }
    });
    let unusual_marks: Vec<(String, crate::money::Credits)> =
        data.unusual.iter().flat_map(|found| found.days.iter().map(|day| (day.date.clone(), day.impact))).collect();
    view! {
        <Title text=format!("Credit usage · {period}{past}")/>
        <Meta name="description" content=description/>
        <ZonePicker zone=data.zone view=data.view.clone()/>
        <PeriodPicker periods=periods.clone() view=data.view.clone()/>
        <PeriodHeader summary=summary.clone() day=data.day cycle/>
        <PeriodComparison comparison=periods.comparison.clone() note=periods.comparison_note.clone()/>
        {data.budget.map(|budget| view! { <BudgetCard budget/> })}
        <UsageChart
            days=data.overview.days.clone()
            svg=data.chart_svg
            view=data.view.clone()
            allowance=data.overview.allowance
            unusual=unusual_marks
        />
        <UsageBreakdown lines=data.overview.breakdown.clone() view=data.view.clone()/>
        {data.unusual.map(|unusual| view! { <UnusualDays unusual view=data.view/> })}
        {refreshed_notice}
        <UsageTable initial=data.table/>
    }
    .into_any()
}
