//! The organisations' routes: `/o/{organisation}/` and every route of the usage under it, each reading only
//! what its organisation's people may (the caller checked against the organisation, every time); and, in a
//! deployment with organisations, `GET /`: straight into the one organisation a person belongs to, a list when
//! several, a refusal with no data when none.

use crate::figures::amount;
use crate::server::access::Caller;
use crate::server::error::UsageError;
use crate::server::organisations::tenants::Scope;
use crate::server::AppState;
use crate::ui::notice_page::{notice_page, NextStep};
use crate::ui::organisations_page::{organisations_page, OrganisationLine};
use axum::extract::{FromRequestParts, RawPathParams, RawQuery, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::Response;

/// The path parameter that names the organisation.
pub const ORGANISATION: &str = "organisation";

/// What a request reads, from its route's organisation (or the deployment of one) and its caller. A route of
/// an organisation that does not exist, or that the caller may not read, is `organisation_not_found` (404).
impl FromRequestParts<AppState> for Scope {
    type Rejection = UsageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let params = RawPathParams::from_request_parts(parts, state).await.ok();
        let asked = params.as_ref().and_then(|params| params.iter().find(|(name, _)| *name == ORGANISATION));
        let asked = asked.map(|(_, value)| value.to_owned());
        state.scope(parts.extensions.get::<Caller>(), asked.as_deref())
    }
}

/// `GET /` of a deployment with organisations: the organisation of someone who belongs to one, with the view
/// asked for; a list of those of someone who belongs to several; a page with no data for anyone else.
pub async fn landing(state: &AppState, caller: Option<&Caller>, query: Option<&str>) -> Response {
    let tenants = state.organisations.get();
    if caller.is_some_and(|caller| tenants.is_operator(caller)) {
        return super::auth::see_other("/o/");
    }
    let theirs: Vec<_> = match (state.access.is_some(), caller) {
        (true, Some(caller)) => tenants.of_member(caller.organisations(), caller.groups()).collect(),
        (true, None) => Vec::new(),
        // Without access control every organisation is open (a server on loopback, or behind a proxy).
        (false, _) => tenants.iter().collect(),
    };
    let query = query.filter(|query| !query.is_empty()).map(|query| format!("?{query}")).unwrap_or_default();
    let page = |status: StatusCode, title: &str, text: &str, steps: &[NextStep]| {
        super::unstored_page(status, notice_page(&state.page.stylesheet, title, text, steps))
    };
    match theirs.as_slice() {
        [only] => super::auth::see_other(&format!("{}/{query}", only.id().base_path())),
        [] => {
            let text = "You are signed in, but belong to no organisation this dashboard serves. Ask an \
                        administrator to add you to yours.";
            let sign_out = if caller.is_some() { vec![NextStep::SignOut] } else { Vec::new() };
            page(StatusCode::FORBIDDEN, "No organisation", text, &sign_out)
        }
        several => {
            let links: Vec<NextStep> = several
                .iter()
                .map(|tenant| NextStep::Link {
                    href: format!("{}/", tenant.id().base_path()),
                    label: tenant.name().to_owned(),
                })
                .collect();
            page(StatusCode::OK, "Your organisations", "Choose the organisation whose usage to see.", &links)
        }
    }
}

/// `GET /o/{organisation}`: its dashboard is `/o/{organisation}/`.
pub async fn to_dashboard(
    State(state): State<AppState>,
    scope: Result<Scope, UsageError>,
    RawQuery(query): RawQuery,
) -> Response {
    match scope.map(|scope| scope.organisation) {
        Ok(Some(organisation)) => {
            let query = query.map(|query| format!("?{query}")).unwrap_or_default();
            super::auth::see_other(&format!("{}/{query}", organisation.base_path()))
        }
        _ => super::not_found(&state),
    }
}

/// `GET /o/`: every organisation with its figures as kept, for an operator (or anyone, without access control);
/// the 404 page for anyone else, as for an organisation that is not theirs.
pub async fn operators_list(State(state): State<AppState>, request: axum::extract::Request) -> Response {
    let caller = request.extensions().get::<Caller>();
    let tenants = state.organisations.get();
    let operator = state.access.is_none() || caller.is_some_and(|caller| tenants.is_operator(caller));
    if !operator || tenants.is_single() {
        return super::not_found(&state);
    }
    let lines = tenants
        .iter()
        .map(|tenant| {
            let latest = tenant.periods.keeper().latest();
            let total = latest.as_ref().map(|period| period.total);
            let budget = match (total, tenant.periods.budget().budget) {
                (Some(total), Some(budget)) => Some(format!(
                    "{} of {} ({:.1} %)",
                    amount(total),
                    amount(budget),
                    total.hundredths() as f64 * 100.0 / budget.hundredths() as f64
                )),
                _ => None,
            };
            let last_failure = tenant
                .periods
                .last_failure()
                .map(|(at, failure)| format!("{} UTC: {failure}", at.strftime("%d-%m-%Y %H:%M")));
            OrganisationLine {
                name: tenant.name().to_owned(),
                href: format!("{}/", tenant.id().base_path()),
                total: total.map(amount),
                budget,
                last_failure,
            }
        })
        .collect();
    super::unstored_page(StatusCode::OK, organisations_page(&state.page.stylesheet, lines))
}
