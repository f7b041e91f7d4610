//! What the views keep of each priced period they were built from: each zone's message days, each overview
//! (per zone and day), and `/usage`'s body, computed on first use. A period's views live as long as the period
//! is among the few most recently shown; the period itself never points back at them.

use super::overview::build_overview;
use super::resolved_view::ResolvedView;
use super::zones::Zone;
use crate::contract::UsageResponse;
use crate::server::error::UsageError;
use crate::server::memo::BoundedMemo;
use crate::server::pricing::priced_period::PricedPeriod;
use crate::view::PeriodOverview;
use axum::body::Bytes;
use jiff::civil::Date;
use std::sync::{Arc, Mutex, OnceLock};

/// How many periods' views are kept: the current one, and the one before it while requests that started on
/// it finish.
const KEPT_PERIODS: usize = 4;

/// Which overview: the zone's name and the chosen day, if any.
type OverviewKey = (String, Option<Date>);

#[derive(Debug)]
pub struct PeriodViews {
    pub period: Arc<PricedPeriod>,
    /// Each row's day, by zone name.
    dates: BoundedMemo<String, Arc<[Date]>>,
    overviews: BoundedMemo<OverviewKey, Arc<PeriodOverview>>,
    usage_json: OnceLock<Bytes>,
}

impl PeriodViews {
    pub fn new(period: Arc<PricedPeriod>) -> Self {
        PeriodViews {
            period,
            dates: BoundedMemo::default(),
            overviews: BoundedMemo::default(),
            usage_json: OnceLock::new(),
        }
    }

    /// Each row's day in `zone`.
    pub fn dates_in(&self, zone: &Zone) -> Arc<[Date]> {
        self.dates
            .get_or_compute(zone.name.clone(), || self.period.times.iter().map(|time| zone.date_of(*time)).collect())
    }

    /// The overview of the view's zone and day, built on first use. A failure is not kept: the next request
    /// builds it again.
    pub fn overview(&self, view: &ResolvedView) -> Result<Arc<PeriodOverview>, UsageError> {
        self.overview_built_by(view, build_overview)
    }

    fn overview_built_by(
        &self,
        view: &ResolvedView,
        build: impl FnOnce(&PricedPeriod, &[Date], &ResolvedView) -> Result<PeriodOverview, UsageError>,
    ) -> Result<Arc<PeriodOverview>, UsageError> {
        self.overviews.get_or_try_compute((view.zone.name.clone(), view.day), || {
            build(&self.period, &self.dates_in(&view.zone), view).map(Arc::new)
        })
    }

    /// The `/usage` body, serialised on first use.
    pub fn usage_json(&self) -> Bytes {
        self.usage_json
            .get_or_init(|| {
                let body = serde_json::to_vec(&UsageResponse { usage: &self.period.rows[..] }).expect("rows serialise");
                Bytes::from(body)
            })
            .clone()
    }
}

/// The views of the periods shown most recently, most recent first.
#[derive(Debug, Default)]
pub struct ViewCache {
    recent: Mutex<Vec<Arc<PeriodViews>>>,
}

impl ViewCache {
    /// The views of `period`: the kept ones when it is one of the recent periods (the same `Arc`), else new.
    pub fn views_of(&self, period: &Arc<PricedPeriod>) -> Arc<PeriodViews> {
        let mut recent = self.recent.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(index) = recent.iter().position(|views| Arc::ptr_eq(&views.period, period)) {
            let views = recent.remove(index);
            recent.insert(0, views.clone());
            return views;
        }
        let views = Arc::new(PeriodViews::new(period.clone()));
        recent.insert(0, views.clone());
        recent.truncate(KEPT_PERIODS);
        views
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
        let views = PeriodViews::new(period());
        assert_eq!(
            &views.usage_json()[..],
            br#"{"usage":[{"message_id":1,"timestamp":"2024-04-29T02:08:29.375Z","report_name":"Lease","credits_used":79.00}]}"#
        );
    }

    #[test]
    fn an_overview_is_built_once_per_zone_and_day() {
        let views = PeriodViews::new(period());
        let view = ResolvedView::resolve(&ViewQuery::default());
        assert!(Arc::ptr_eq(&views.overview(&view).unwrap(), &views.overview(&view).unwrap()));
        let other_day = ResolvedView::resolve(&ViewQuery::from_query("day=2024-04-29"));
        assert!(!Arc::ptr_eq(&views.overview(&view).unwrap(), &views.overview(&other_day).unwrap()));
    }

    #[test]
    fn an_overview_that_failed_is_built_again_by_the_next_request() {
        let views = PeriodViews::new(period());
        let view = ResolvedView::resolve(&ViewQuery::default());
        let failed = views.overview_built_by(&view, |_, _, _| Err(UsageError::Internal { cause: "chart".into() }));
        assert_eq!(failed.unwrap_err().code(), "internal_error");
        let built = views.overview_built_by(&view, build_overview).expect("built again, not the kept failure");
        assert_eq!(built.summary.message_count, 1);
    }

    #[test]
    fn a_period_keeps_its_views_while_it_is_recent() {
        let cache = ViewCache::default();
        let (first, second) = (period(), period());
        let views = cache.views_of(&first);
        assert!(Arc::ptr_eq(&views, &cache.views_of(&first)));
        assert!(!Arc::ptr_eq(&views, &cache.views_of(&second)), "another period has views of its own");
        for _ in 0..KEPT_PERIODS {
            cache.views_of(&period());
        }
        assert!(!Arc::ptr_eq(&views, &cache.views_of(&first)), "an old period's views are let go");
    }
}
