//! Which period a view shows: the current one (the kept period), the version a paging walk started on while it
//! is kept, or a past one from the history store; and every failure answered with, logged once where it is
//! answered. What `/usage`, `/usage.csv`, `/usage/summary`, the page and the table's server function read.

use super::derived::{Derived, DerivedCache};
use crate::server::billing::BudgetSettings;
use crate::server::error::UsageError;
use crate::server::history::archive::period_id;
use crate::server::history::History;
use crate::server::pricing::period_keeper::PeriodKeeper;
use crate::view_query::ViewQuery;
use std::sync::Arc;

/// The period a view shows, whether it is a past one (read from the history store), and whether the view was
/// a paging walk pinned to a version that is no longer kept (so it shows the latest instead, and says so).
pub struct ShownPeriod {
    pub views: Derived,
    pub past: bool,
    pub refreshed: bool,
}

/// Where the periods a view shows come from.
pub struct Periods {
    keeper: Arc<PeriodKeeper>,
    views: DerivedCache,
    history: Option<Arc<History>>,
    budget: BudgetSettings,
    /// The upstream's base URL without credentials, for the logs.
    upstream_shown: String,
    /// The last failure a request was answered with, and when: what an operator's list shows.
    last_failure: std::sync::Mutex<Option<(jiff::Timestamp, String)>>,
    /// Each period's unusual days, by what they depend on (see `anomalies::unusual_days_of`).
    pub(super) unusual:
        crate::server::memo::BoundedMemo<super::anomalies::UnusualKey, Arc<crate::contract::UsageAnomalies>>,
}

impl Periods {
    pub fn new(
        keeper: Arc<PeriodKeeper>,
        history: Option<Arc<History>>,
        budget: BudgetSettings,
        upstream_shown: String,
    ) -> Self {
        let last_failure = std::sync::Mutex::new(None);
        let unusual = Default::default();
        Periods { keeper, views: DerivedCache::default(), history, budget, upstream_shown, last_failure, unusual }
    }

    pub fn keeper(&self) -> &Arc<PeriodKeeper> {
        &self.keeper
    }

    /// The periods kept in a database; `None` when `database_url` is empty.
    pub fn history(&self) -> Option<&Arc<History>> {
        self.history.as_ref()
    }

    /// The billing cycle and budget the configuration sets.
    pub fn budget(&self) -> &BudgetSettings {
        &self.budget
    }

    /// The kept period's views: what `/usage` reads.
    pub async fn current(&self) -> Result<Derived, UsageError> {
        let period = self.keeper.kept_period().await?;
        Ok(self.views.views_of(&period))
    }

    /// The period a view asks for, with its views: the current one from the upstream, or a past one from the
    /// history store. A period id that is the current period's is the current period.
    pub async fn shown_for(&self, view: &ViewQuery) -> Result<ShownPeriod, UsageError> {
        let current = |views| ShownPeriod { views, past: false, refreshed: false };
        let Some(id) = view.period.as_deref() else {
            // A paging walk stays on the version it started on while that version is kept.
            if let Some(version) = view.version {
                if let Some(period) = self.keeper.period_version(version).await {
                    return Ok(current(self.views.views_of(&period)));
                }
                // Not kept: the latest data, which may still be that version (the same data fetched again).
                let views = self.current().await?;
                let refreshed = views.period.version != version;
                return Ok(ShownPeriod { views, past: false, refreshed });
            }
            return self.current().await.map(current);
        };
        // The listing, as last read, says whether the store keeps it closed; only then is the store asked (or
        // when the listing could not be read, and the store may know).
        if let Some(history) = self.history.as_ref().filter(|history| history.is_closed(id) != Some(false)) {
            if let Some(period) = history.past_period(id).await? {
                return Ok(ShownPeriod { views: self.views.views_of(&period), past: true, refreshed: false });
            }
        }
        let views = self.current().await?;
        match period_id(&views.period) {
            Some(current_id) if current_id == id => Ok(current(views)),
            _ => Err(UsageError::PeriodNotFound { id: id.to_owned() }),
        }
    }

    /// Every failure a client is answered with is logged here, once, where it is answered: its code, the route
    /// and the upstream (without credentials), and the cause.
    pub fn log_failure(&self, route: &str, error: &UsageError) {
        tracing::error!(code = error.code(), route, upstream = %self.upstream_shown, %error, "request failed");
        let failure = (jiff::Timestamp::now(), format!("{} ({})", error.code(), error));
        *self.last_failure.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(failure);
    }

    /// The last failure a request was answered with, and when; `None` when none has failed since start.
    pub fn last_failure(&self) -> Option<(jiff::Timestamp, String)> {
        self.last_failure.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}
