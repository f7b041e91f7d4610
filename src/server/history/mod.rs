//! The history store: every billing period the dashboard has seen, kept in SQLite (a file, by default) or
//! PostgreSQL (what replicas share), so that a period the upstream no longer serves can still be browsed and
//! exported. The current period's numbers always come from the upstream; the store serves the periods before
//! it, and its being down never makes a page of the current period fail.

pub mod archive;
pub mod recorder;
pub mod store;

use crate::server::database::schema::SchemaError;
use crate::server::database::{within, CallError, Database};
use crate::server::error::UsageError;
use crate::server::pricing::priced_period::PricedPeriod;
use archive::restored_period;
use moka::future::Cache;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use store::{HistoryStore, PeriodRecord};

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
    Read(Arc<[PeriodRecord]>),
    Unavailable(String),
    /// The store was refused (a database a newer binary migrated); it stays so.
    Refused(String),
}

pub struct History {
    store: Arc<HistoryStore>,
    listing: RwLock<Listing>,
    past: Cache<String, Arc<PricedPeriod>>,
    /// How many periods to keep; 0 keeps all.
    retention: usize,
    /// Refreshes this server has written (for the tests, and the operator's logs).
    writes: AtomicU64,
    /// Whether this process has looked for rows left without their period.
    orphans_checked: AtomicBool,
}

impl History {
    pub fn new(store: HistoryStore, retention: usize) -> Self {
        History {
            store: Arc::new(store),
            listing: RwLock::new(Listing::Pending),
            past: Cache::builder().max_capacity(KEPT_PAST_PERIODS).time_to_live(PAST_PERIOD_TTL).build(),
            retention,
            writes: AtomicU64::new(0),
            orphans_checked: AtomicBool::new(false),
        }
    }

    fn db(&self) -> &Database {
        self.store.database()
    }

    /// The database without credentials, for the logs.
    pub fn shown(&self) -> &str {
        self.db().shown()
    }

    /// Records one fetch of a period (the recorder's work, bounded by the work timeout).
    pub async fn record(&self, refresh: &store::Refresh<'_>) -> Result<store::Recorded, sqlx::Error> {
        self.bounded(self.store.record(refresh)).await
    }

    /// A period's rows, as the store holds them.
    pub async fn rows_of(&self, id: &str) -> Result<Vec<store::RowRecord>, sqlx::Error> {
        self.bounded(self.store.rows_of(id)).await
    }

    /// Brings the store to this binary's schema, once. A database a newer binary migrated is refused: the store is
    /// then left alone for good, and the error says why.
    pub async fn ensure_schema(&self) -> Result<(), SchemaError> {
        let outcome = self.db().ensure_schema().await;
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
    pub async fn refresh_listing(&self) -> Result<(), CallError> {
        if matches!(self.listing(), Listing::Refused(_)) {
            return Ok(());
        }
        let (listing, outcome) = match self.db().waited(self.store.periods()).await {
            Ok(periods) => {
                for (id, _) in self.past.iter() {
                    if !periods.iter().any(|period| period.id == *id) {
                        self.past.invalidate(id.as_str()).await;
                    }
                }
                (Listing::Read(periods.into()), Ok(()))
            }
            Err(error) => (Listing::Unavailable(error.to_string()), Err(error)),
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

    /// A closed period, read from the store on first use and kept; `Ok(None)` when the store has no closed
    /// period of that id (it may be the current one, or none at all). The read is a task of its own, shared by
    /// concurrent requests and bounded by the store's work timeout, which is also how long a request waits for
    /// it (like the current period's first computation, the first view of a large past period takes its time:
    /// 500 000 rows are a few seconds); a request that goes away leaves it to finish and be kept for the next.
    pub async fn past_period(&self, id: &str) -> Result<Option<Arc<PricedPeriod>>, UsageError> {
        if let Listing::Refused(cause) = self.listing() {
            return Err(UsageError::HistoryUnavailable { cause });
        }
        if let Some(period) = self.past.get(id).await {
            return Ok(Some(period));
        }
        let (store, past, budget, key) =
            (self.store.clone(), self.past.clone(), self.db().work_timeout(), id.to_owned());
        let read =
            tokio::spawn(async move { past.try_get_with(key.clone(), read_past_period(store, key, budget)).await });
        let outcome = match read.await {
            Ok(outcome) => outcome,
            Err(_) => return Err(UsageError::HistoryUnavailable { cause: "the read of the period failed".into() }),
        };
        match outcome {
            Ok(period) => Ok(Some(period)),
            Err(error) => match &*error {
                ReadError::NotKept => Ok(None),
                ReadError::Failed(cause) => Err(UsageError::HistoryUnavailable { cause: cause.clone() }),
            },
        }
    }

    /// Whether the past period `id` is read and kept in memory.
    pub async fn is_kept(&self, id: &str) -> bool {
        self.past.contains_key(id)
    }

    /// A call of the store's own work (a write, a ledger update, a batch of the retention), bounded by the work
    /// timeout: one that does not end in time fails as a store error does.
    async fn bounded<T>(&self, call: impl Future<Output = Result<T, sqlx::Error>>) -> Result<T, sqlx::Error> {
        self.db().bounded(call).await
    }

    /// Deletes the periods past the retention, the most recent `retention` kept: each leaves the listing first,
    /// then its rows go in batches, each its own statement, so that no transaction holds the store for long.
    /// Rows a crash left without their period go the same way. The ids of the periods deleted.
    pub async fn apply_retention(&self) -> Result<Vec<String>, sqlx::Error> {
        if self.retention == 0 {
            return Ok(Vec::new());
        }
        let deleted = self.bounded(self.store.forget_older_periods(self.retention)).await?;
        // Rows a crash left behind are looked for once per process (a scan of every row), then only the rows of
        // the periods just deleted.
        let orphaned = match self.orphans_checked.swap(true, Ordering::Relaxed) {
            true => deleted.clone(),
            false => self.bounded(self.store.periods_of_orphaned_rows()).await?,
        };
        for id in orphaned {
            while self.bounded(self.store.delete_row_batch(&id, RETENTION_BATCH_ROWS)).await? > 0 {}
        }
        Ok(deleted)
    }

    /// The closed period just before the one named `id` (by id, which orders by date), from the listing.
    pub fn previous_of(&self, id: &str) -> Option<PeriodRecord> {
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

/// Rows deleted per statement by the retention: small enough that SQLite's write lock is never held long.
const RETENTION_BATCH_ROWS: usize = 10_000;

/// Reads a closed period whole, within `budget`.
async fn read_past_period(
    store: Arc<HistoryStore>,
    id: String,
    budget: Duration,
) -> Result<Arc<PricedPeriod>, ReadError> {
    let read = async {
        let periods = store.periods().await?;
        let Some(stored) = periods.into_iter().find(|period| period.id == id && period.closed_ms.is_some()) else {
            return Ok(None);
        };
        let rows = store.rows_of(&id).await?;
        Ok(Some((stored, rows)))
    };
    match within(budget, read).await {
        Ok(Some((stored, rows))) => {
            restored_period(&stored, rows).map(Arc::new).map_err(|error| ReadError::Failed(error.0))
        }
        Ok(None) => Err(ReadError::NotKept),
        Err(error) => Err(ReadError::Failed(format!("the history store does not answer: {error}"))),
    }
}

/// Why a past period could not be read: not kept (an answer), or the store failed (never cached).
#[derive(Debug)]
enum ReadError {
    NotKept,
    Failed(String),
}
