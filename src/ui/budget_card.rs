use crate::figures;
use crate::page_data::BudgetFigures;
use leptos::prelude::*;

/// Usage against the period's budget, and where the period is heading: used, left, share of the budget, the
/// projected total with its range, and when the budget runs out. Static HTML: no island.
#[component]
pub fn BudgetCard(budget: BudgetFigures) -> impl IntoView {
    let period = match &budget.last_day {
        Some(last) => format!("{} → {}", budget.first_day, last),
        None => format!("from {}, end unknown", budget.first_day),
    };
    let figure = |name: &'static str, label: &'static str, value: String| {
        view! {
            <div class="kpi">
                <dt>{label}</dt>
                <dd data-budget=name class="figure">{value}</dd>
            </div>
        }
    };
    let budget_figures = budget.budget.map(|limit| {
        let used =
            budget.used_permille.map(|permille| format!("{}.{} %", permille / 10, permille % 10)).unwrap_or_default();
        let remaining = budget.remaining.unwrap_or_default();
        let (left_label, left) = if remaining < crate::money::Credits::ZERO {
            ("Over budget by", figures::amount(crate::money::Credits::from_hundredths(-remaining.hundredths())))
        } else {
            ("Left", figures::amount(remaining))
        };
        view! {
            {figure("budget", "Budget", figures::amount(limit))}
            {figure("used-share", "Used of budget", used)}
            {figure("left", left_label, left)}
        }
    });
    let projected = budget.projected.map(|(total, low, high)| {
        view! {
            <p id="budget-projection">
                "Projected at the period's end: "
                <strong data-budget="projected">{figures::amount(total)}</strong>
                " credits (80 % range "
                <span data-budget="projected-low">{figures::amount(low)}</span>
                " – "
                <span data-budget="projected-high">{figures::amount(high)}</span>
                ")."
            </p>
        }
    });
    let pace = budget.pace.map(|pace| {
        format!(
            "Pace: {} credits a day over {} full day{} so far.",
            figures::amount(pace),
            budget.full_days,
            if budget.full_days == 1 { "" } else { "s" }
        )
    });
    view! {
        <section class="card" id="budget-card" aria-labelledby="budget-card-title" class:closed=budget.closed>
            <h2 id="budget-card-title">"Budget and projection"</h2>
            <p class="budget-period">{format!("Billing period {period}; as of {}.", budget.as_of)}</p>
            <dl class="kpis">
                {figure("used", "Used", figures::amount(budget.to_date))}
                {budget_figures}
            </dl>
            {projected}
            {pace.map(|pace| view! { <p id="budget-pace">{pace}</p> })}
            {budget.projection_note.map(|note| view! { <p class="notice-muted" id="budget-note">{note}</p> })}
            {budget.run_out.map(|run_out| view! { <p id="budget-run-out">{run_out}</p> })}
            {(!budget.alerts.is_empty()).then(|| view! {
                <h3 class="alerts-title">"Alerts sent"</h3>
                <ul id="budget-alerts">
                    {budget.alerts.into_iter().map(|alert| view! {
                        <li data-state=alert.state.clone()>
                            {format!("{}: {} ({})", alert.what, alert.state, alert.detail)}
                        </li>
                    }).collect_view()}
                </ul>
            })}
        </section>
    }
}
