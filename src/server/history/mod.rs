//! The history store: every billing period the dashboard has seen, kept in SQLite (a file, by default) or
//! PostgreSQL (what replicas share), so that a period the upstream no longer serves can still be browsed and
//! exported. The current period's numbers always come from the upstream; the store serves the periods before
//! it, and its being down never makes a page of the current period fail.

pub mod archive;
pub mod recorder;
pub mod schema;
pub mod store;

use crate::server::error::UsageError;
use crate::server::pricing::priced_period::PricedPeriod;
use archive::restored_period;
use moka::future::Cache;
use schema::SchemaError;
use std::sync::{Arc, RwLock};
use store::{HistoryStore, StoredPeriod};

/// Past periods read back from the store, kept in memory: a closed period does not change.
const KEPT_PAST_PERIODS: u64 = 4;

/// What the store holds, as last read: the periods, or why they could not be read.
#[derive(Clone, Debug, PartialEq)]
pub enum Listing {
    /// Not read yet (the server has just started).
    Pending,
    Read(Arc<[StoredPeriod]>),
    Unavailable(String),
    /// The store was refused at start-up (a database a newer binary migrated); it stays so.
    Refused(String),
}

pub struct History {
    store: HistoryStore,
    /// Set once the schema is this binary's; concurrent callers wait for the one migration.
    schema: tokio::sync::OnceCell<()>,
    listing: RwLock<Listing>,
    past: Cache<String, Arc<PricedPeriod>>,
    /// How many periods to keep; 0 keeps all.
    retention: usize,
}

impl History {
    pub fn new(store: HistoryStore, retention: usize) -> Self {
        History {
            store,
            schema: tokio::sync::OnceCell::new(),
            listing: RwLock::new(Listing::Pending),
            past: Cache::builder().max_capacity(KEPT_PAST_PERIODS).build(),
            retention,
        }
    }

    pub fn store(&self) -> &HistoryStore {
        &self.store
    }

    /// Brings the store to this binary's schema, once. A database a newer binary migrated is refused: the store is
    /// then left alone for good, and the error says why.
    pub async fn ensure_schema(&self) -> Result<(), SchemaError> {
        let outcome = self.schema.get_or_try_init(|| self.store.migrate()).await.map(|_| ());
        if let Err(refused @ SchemaError::NewerThanBinary { .. }) = &outcome {
            self.refuse(refused.to_string());
        }
        outcome
    }

    /// Stops listing and serving past periods, for good: the store was refused (a newer schema).
    pub fn refuse(&self, reason: String) {
        *self.listing.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Listing::Refused(reason);
    }

    /// The periods as last read, without waiting on the store.
    pub fn listing(&self) -> Listing {
        self.listing.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Reads the periods again; `Err` says why they could not be read (the listing then says so too).
    pub async fn refresh_listing(&self) -> Result<(), String> {
        if matches!(self.listing(), Listing::Refused(_)) {
            return Ok(());
        }
        let (listing, outcome) = match self.store.periods().await {
            Ok(periods) => (Listing::Read(periods.into()), Ok(())),
            Err(error) => {
                let reason = format!("the history store does not answer: {error}");
                (Listing::Unavailable(reason.clone()), Err(reason))
            }
        };
        *self.listing.write().unwrap_or_else(std::sync::PoisonError::into_inner) = listing;
        outcome
    }

    /// A closed period, read from the store on first use; `Ok(None)` when the store has no closed period of
    /// that id (it may be the current one, or none at all).
    pub async fn past_period(&self, id: &str) -> Result<Option<Arc<PricedPeriod>>, UsageError> {
        if let Some(period) = self.past.get(id).await {
            return Ok(Some(period));
        }
        if let Listing::Refused(cause) = self.listing() {
            return Err(UsageError::HistoryUnavailable { cause });
        }
        let unavailable = |error: sqlx::Error| UsageError::HistoryUnavailable { cause: error.to_string() };
        let periods = self.store.periods().await.map_err(unavailable)?;
        let Some(stored) = periods.into_iter().find(|period| period.id == id && period.closed_ms.is_some()) else {
            return Ok(None);
        };
        let rows = self.store.rows_of(id).await.map_err(unavailable)?;
        let period = restored_period(&stored, rows).map_err(|cause| UsageError::HistoryUnavailable { cause })?;
        let period = Arc::new(period);
        self.past.insert(id.to_owned(), period.clone()).await;
        Ok(Some(period))
    }

    /// The closed period just before the one named `id` (by id, which orders by date), from the listing.
    pub fn previous_of(&self, id: &str) -> Option<StoredPeriod> {
        match self.listing() {
            Listing::Read(periods) => {
                periods.iter().find(|period| period.id.as_str() < id && period.closed_ms.is_some()).cloned()
            }
            _ => None,
        }
    }
}
