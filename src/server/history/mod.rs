//! The history store: every billing period the dashboard has seen, kept in SQLite (a file, by default) or
//! PostgreSQL (what replicas share), so that a period the upstream no longer serves can still be browsed and
//! exported. The current period's numbers always come from the upstream; the store serves the periods before
//! it, and its being down never makes a page of the current period fail.

pub mod alert_ledger;
pub mod archive;
pub mod recorder;
pub mod schema;
pub mod store;

use crate::server::error::UsageError;
use crate::server::pricing::priced_period::PricedPeriod;
use archive::restored_period;
use moka::future::Cache;
use schema::SchemaError;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use store::{HistoryStore, StoredPeriod};

/// Past periods read back from the store, kept in memory: a closed period does not change, but one deleted by
/// retention (here or on another replica) leaves the listing, and with it this cache.
const KEPT_PAST_PERIODS: u64 = 4;
/// Rows a lagging replica writes into a closed period are seen within this.
const PAST_PERIOD_TTL: Duration = Duration::from_secs(600);

/// What the store holds, as last read: the periods, or why they could not be read.
#[derive(Clone, Debug, PartialEq)]
pub enum Listing {
    /// Not read yet (the server has just started).
    Pending,
    Read(Arc<[StoredPeriod]>),
    Unavailable(String),
    /// The store was refused (a database a newer binary migrated); it stays so.
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
    /// The longest a request waits on the store.
    timeout: Duration,
    /// Refreshes this server has written (for the tests, and the operator's logs).
    writes: AtomicU64,
}

impl History {
    pub fn new(store: HistoryStore, retention: usize, timeout: Duration) -> Self {
        History {
            store,
            schema: tokio::sync::OnceCell::new(),
            listing: RwLock::new(Listing::Pending),
            past: Cache::builder().max_capacity(KEPT_PAST_PERIODS).time_to_live(PAST_PERIOD_TTL).build(),
            retention,
            timeout,
            writes: AtomicU64::new(0),
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

    /// Reads the periods again; `Err` says why they could not be read (the listing then says so too). A period
    /// no longer listed (deleted by retention) leaves the cache of past periods.
    pub async fn refresh_listing(&self) -> Result<(), String> {
        if matches!(self.listing(), Listing::Refused(_)) {
            return Ok(());
        }
        let (listing, outcome) = match self.with_timeout(self.store.periods()).await {
            Ok(periods) => {
                for (id, _) in self.past.iter() {
                    if !periods.iter().any(|period| period.id == *id) {
                        self.past.invalidate(id.as_str()).await;
                    }
                }
                (Listing::Read(periods.into()), Ok(()))
            }
            Err(reason) => (Listing::Unavailable(reason.clone()), Err(reason)),
        };
        *self.listing.write().unwrap_or_else(std::sync::PoisonError::into_inner) = listing;
        outcome
    }

    /// Whether the listing, as last read, holds `id` as a closed period; `None` when it could not be read.
    pub fn is_closed(&self, id: &str) -> Option<bool> {
        match self.listing() {
            Listing::Read(periods) => Some(periods.iter().any(|period| period.id == id && period.closed_ms.is_some())),
            _ => None,
        }
    }

    /// A closed period, read from the store on first use (concurrent requests share one read); `Ok(None)` when the
    /// store has no closed period of that id (it may be the current one, or none at all). Waits at most the
    /// store's timeout.
    pub async fn past_period(&self, id: &str) -> Result<Option<Arc<PricedPeriod>>, UsageError> {
        if let Listing::Refused(cause) = self.listing() {
            return Err(UsageError::HistoryUnavailable { cause });
        }
        let outcome = self.past.try_get_with(id.to_owned(), self.read_past_period(id)).await;
        match outcome {
            Ok(period) => Ok(Some(period)),
            Err(error) => match &*error {
                ReadError::NotKept => Ok(None),
                ReadError::Failed(cause) => Err(UsageError::HistoryUnavailable { cause: cause.clone() }),
            },
        }
    }

    async fn read_past_period(&self, id: &str) -> Result<Arc<PricedPeriod>, ReadError> {
        let periods = self.with_timeout(self.store.periods()).await.map_err(ReadError::Failed)?;
        let Some(stored) = periods.into_iter().find(|period| period.id == id && period.closed_ms.is_some()) else {
            return Err(ReadError::NotKept);
        };
        let rows = self.with_timeout(self.store.rows_of(id)).await.map_err(ReadError::Failed)?;
        restored_period(&stored, rows).map(Arc::new).map_err(ReadError::Failed)
    }

    /// A store call, bounded by the store's timeout.
    async fn with_timeout<T>(&self, call: impl Future<Output = Result<T, sqlx::Error>>) -> Result<T, String> {
        match tokio::time::timeout(self.timeout, call).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(format!("the history store does not answer: {error}")),
            Err(_) => Err(format!("the history store did not answer within {} ms", self.timeout.as_millis())),
        }
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

    /// Counts a refresh written by this server's recorder.
    fn recorded(&self) {
        self.writes.fetch_add(1, Ordering::Relaxed);
    }

    /// How many refreshes this server's recorder has written.
    pub fn writes(&self) -> u64 {
        self.writes.load(Ordering::Relaxed)
    }
}

/// Why a past period could not be read: not kept (an answer), or the store failed (never cached).
#[derive(Debug)]
enum ReadError {
    NotKept,
    Failed(String),
}
