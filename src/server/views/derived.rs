//! What the views keep of each priced period they were built from: each zone's message days, each overview
//! (per zone and day), and `/usage`'s body, computed on first use. They live as long as their period does —
//! the kept period while it is kept, a past period while it is in memory — and the period never points back
//! at them.

use super::checked_view::CheckedView;
use super::overview::{build_overview, Forecast};
use super::zones::Zone;
use crate::contract::UsageResponse;
use crate::page_data::{Comparison, Overview};
use crate::server::billing::{projection, Bounded, BudgetSettings};
use crate::server::error::UsageError;
use crate::server::http::conditional::entity_tag;
use crate::server::memo::BoundedMemo;
use crate::server::pricing::priced_period::PricedPeriod;
use axum::body::Bytes;
use jiff::civil::Date;
use std::sync::{Arc, Mutex, OnceLock, Weak};

/// Which overview: the zone's name and the chosen day, if any.
type OverviewKey = (String, Option<Date>);

/// A period with what its views keep.
#[derive(Clone, Debug)]
pub struct Derived {
    pub period: Arc<PricedPeriod>,
    kept: Arc<KeptViews>,
}

#[derive(Debug, Default)]
struct KeptViews {
    /// Each row's day, by zone name.
    dates: BoundedMemo<String, Arc<[Date]>>,
    overviews: BoundedMemo<OverviewKey, Arc<Overview>>,
    usage_json: OnceLock<Bytes>,
    /// The period's version: the entity tag of its `/usage` body.
    usage_tag: OnceLock<String>,
    /// Against each previous period, by its id.
    comparisons: BoundedMemo<String, Option<Comparison>>,
    /// The period's bounds and projection, by zone (the budget settings are the process's).
    projections: BoundedMemo<String, Option<Arc<Bounded>>>,
}

impl Derived {
    /// A period with nothing kept yet (the `DerivedCache` gives the kept views of a period it has seen).
    pub fn new(period: Arc<PricedPeriod>) -> Self {
        Derived { period, kept: Arc::default() }
    }

    /// Each row's day in `zone`.
    pub fn dates_in(&self, zone: &Zone) -> Arc<[Date]> {
        self.kept
            .dates
            .get_or_compute(zone.name.clone(), || self.period.times.iter().map(|time| zone.date_of(*time)).collect())
    }

    /// The overview of the view's zone and day, built on first use. A failure is not kept: the next request
    /// builds it again.
    /// `forecast`: the same for every request of this period in the view's zone (it is kept with the overview).
    pub fn overview(&self, view: &CheckedView, forecast: Option<&Forecast>) -> Result<Arc<Overview>, UsageError> {
        self.overview_built_by(view, |period, dates, view| build_overview(period, dates, view, forecast))
    }

    fn overview_built_by(
        &self,
        view: &CheckedView,
        build: impl FnOnce(&PricedPeriod, &[Date], &CheckedView) -> Result<Overview, UsageError>,
    ) -> Result<Arc<Overview>, UsageError> {
        self.kept.overviews.get_or_try_compute((view.zone.name.clone(), view.day), || {
            build(&self.period, &self.dates_in(&view.zone), view).map(Arc::new)
        })
    }

    /// The period's bounds and projection in `zone`, computed once per zone: a pass over every row.
    pub fn projection(&self, zone: &Zone, settings: &BudgetSettings, past: bool) -> Option<Arc<Bounded>> {
        self.kept
            .projections
            .get_or_compute(zone.name.clone(), || projection(&self.period, &zone.tz, settings, past).map(Arc::new))
    }

    /// The comparison with the previous period `previous`, when it was made before.
    pub fn kept_comparison(&self, previous: &str) -> Option<Option<Comparison>> {
        self.kept.comparisons.get(&previous.to_owned())
    }

    pub fn keep_comparison(&self, previous: &str, comparison: Option<Comparison>) {
        self.kept.comparisons.keep(previous.to_owned(), comparison);
    }

    /// The entity tag of this period, which every response showing it is tagged from: its version, a digest of
    /// every row and of how each was priced (so an explanation that changes changes it, even at the same
    /// credits), equal for equal data whichever server computed it.
    pub fn usage_tag(&self) -> &str {
        self.kept.usage_tag.get_or_init(|| entity_tag("u", &[self.period.version_tag().as_bytes()]))
    }

    /// The `/usage` body, serialised on first use.
    pub fn usage_json(&self) -> Bytes {
        self.kept
            .usage_json
            .get_or_init(|| {
                let body = serde_json::to_vec(&UsageResponse { usage: &self.period.rows[..] }).expect("rows serialise");
                Bytes::from(body)
            })
            .clone()
    }
}

/// The kept views of every period still alive. An entry goes when its period does: the cache never keeps a
/// period in memory (with a kept-period TTL of 0, nothing outlives its requests).
#[derive(Debug, Default)]
pub struct DerivedCache {
    periods: Mutex<Vec<(Weak<PricedPeriod>, Arc<KeptViews>)>>,
}

impl DerivedCache {
    /// `period` with its kept views: those kept before when the cache has seen it, else new ones.
    pub fn views_of(&self, period: &Arc<PricedPeriod>) -> Derived {
        let mut periods = self.periods.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        periods.retain(|(alive, _)| alive.strong_count() > 0);
        let kept = match periods.iter().find(|(alive, _)| std::ptr::eq(alive.as_ptr(), Arc::as_ptr(period))) {
            Some((_, kept)) => kept.clone(),
            None => {
                let kept = Arc::new(KeptViews::default());
                periods.push((Arc::downgrade(period), kept.clone()));
                kept
            }
        };
        Derived { period: period.clone(), kept }
    }

    /// How many periods have kept views.
    pub fn periods_kept(&self) -> usize {
        let mut periods = self.periods.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        periods.retain(|(alive, _)| alive.strong_count() > 0);
        periods.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view_query::ViewQuery;

    fn period() -> Arc<PricedPeriod> {
        Arc::new(PricedPeriod::from_rows(vec![PricedPeriod::test_row(1, Some("Lease"), 7900)]))
    }

    #[test]
    fn the_usage_body_is_the_contract() {
        let views = Derived::new(period());
        assert_eq!(
            &views.usage_json()[..],
            br#"{"usage":[{"message_id":1,"timestamp":"2024-04-29T02:08:29.375Z","report_name":"Lease","credits_used":79.00}]}"#
        );
    }

    #[test]
    fn an_overview_is_built_once_per_zone_and_day() {
        let views = Derived::new(period());
        let view = CheckedView::resolve(&ViewQuery::default());
        assert!(Arc::ptr_eq(&views.overview(&view, None).unwrap(), &views.overview(&view, None).unwrap()));
        let other_day = CheckedView::resolve(&ViewQuery::from_query("day=2024-04-29"));
        assert!(!Arc::ptr_eq(&views.overview(&view, None).unwrap(), &views.overview(&other_day, None).unwrap()));
    }

    #[test]
    fn an_overview_that_failed_is_built_again_by_the_next_request() {
        let views = Derived::new(period());
        let view = CheckedView::resolve(&ViewQuery::default());
        let failed = views.overview_built_by(&view, |_, _, _| Err(UsageError::Internal { cause: "chart".into() }));
        assert_eq!(failed.unwrap_err().code(), "internal_error");
        let built = views
            .overview_built_by(&view, |period, dates, view| build_overview(period, dates, view, None))
            .expect("built again, not the kept failure");
        assert_eq!(built.summary.message_count, 1);
    }

    #[test]
    fn a_period_keeps_its_views_while_it_is_alive_and_no_longer() {
        let cache = DerivedCache::default();
        let (first, second) = (period(), period());
        let views = cache.views_of(&first);
        views.usage_json();
        assert!(Arc::ptr_eq(&views.kept, &cache.views_of(&first).kept));
        assert!(!Arc::ptr_eq(&views.kept, &cache.views_of(&second).kept), "another period has views of its own");
        assert_eq!(cache.periods_kept(), 2);
        drop((first, second, views));
        assert_eq!(cache.periods_kept(), 0, "the cache does not keep a period alive");
    }
}
