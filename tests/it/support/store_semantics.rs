//! What the store holds after a sequence of writes, run on both engines: a period holds exactly the newest fetch
//! it was given (an older write changes nothing, rows the newest fetch does not list are gone, a write that
//! assumes a version the store no longer holds replaces the rows whole); a period is closed only by a newer fetch
//! of another, a slower writer's older fetch does not reopen it, and a newer sighting does.

use credit_dashboard::server::database::Database;
use credit_dashboard::server::history::store::{Delta, HistoryStore, Recorded, Refresh, RowRecord};
use std::time::Duration;

fn row(message_id: i64, hundredths: i64) -> RowRecord {
    RowRecord {
        message_id,
        position: message_id,
        timestamp: format!("2024-04-29T00:00:{:02}Z", message_id % 60),
        report_id: None,
        report_name: None,
        credits_hundredths: hundredths,
        basis: "{}".into(),
    }
}

fn fetch<'a>(
    id: &'a str,
    seen_ms: i64,
    version: &'a str,
    rows: &'a [RowRecord],
    delta: Option<Delta<'a>>,
) -> Refresh<'a> {
    Refresh {
        id,
        first_message_ms: 0,
        last_message_ms: 0,
        seen_ms,
        version,
        message_count: rows.len() as i64,
        total_hundredths: rows.iter().map(|row| row.credits_hundredths).sum(),
        rows,
        delta,
    }
}

/// The store of the upstream "an upstream" at `url`, its schema this binary's.
pub async fn store(url: &str) -> HistoryStore {
    let db = Database::open(url, Duration::from_secs(10), Duration::from_secs(30)).unwrap();
    db.ensure_schema().await.unwrap();
    HistoryStore::new(std::sync::Arc::new(db), "an upstream")
}

/// `(message id, hundredths)` of each row the store holds for `id`, and its count and total.
async fn held(store: &HistoryStore, id: &str) -> (Vec<(i64, i64)>, i64, i64) {
    let rows = store.rows_of(id).await.unwrap().iter().map(|row| (row.message_id, row.credits_hundredths)).collect();
    let period = store.periods().await.unwrap().into_iter().find(|period| period.id == id).unwrap();
    (rows, period.message_count, period.total_hundredths)
}

/// `(id, closed)` of every period, the most recent first.
async fn open_and_closed(store: &HistoryStore) -> Vec<(String, bool)> {
    store.periods().await.unwrap().into_iter().map(|period| (period.id, period.closed_ms.is_some())).collect()
}

pub async fn a_period_holds_exactly_the_newest_fetch_it_was_given(url: &str) {
    let store = store(url).await;
    let v1 = [row(1, 100), row(2, 200), row(3, 300)];
    assert_eq!(store.record(&fetch("p", 100, "v1", &v1, None)).await.unwrap(), Recorded::Rows(3));
    // The upstream dropped message 2, repriced 1 and added 4.
    let v2 = [row(1, 150), row(3, 300), row(4, 400)];
    store.record(&fetch("p", 200, "v2", &v2, None)).await.unwrap();
    assert_eq!(held(&store, "p").await, (vec![(1, 150), (3, 300), (4, 400)], 3, 850));
    // A slower writer's older fetch changes nothing.
    assert_eq!(store.record(&fetch("p", 150, "v1", &v1, None)).await.unwrap(), Recorded::Stale);
    assert_eq!(held(&store, "p").await.0, [(1, 150), (3, 300), (4, 400)]);
    // Only what changed since v2, which the store holds.
    let v3 = [row(1, 150), row(4, 450)];
    let delta = Delta { base: "v2", changed: vec![&v3[1]], removed: vec![3] };
    assert_eq!(store.record(&fetch("p", 300, "v3", &v3, Some(delta))).await.unwrap(), Recorded::Rows(2));
    assert_eq!(held(&store, "p").await, (vec![(1, 150), (4, 450)], 2, 600));
    // A writer that thinks the store still holds v2 (it wrote v2; another wrote v3 since): the whole fetch.
    let v4 = [row(1, 150), row(5, 500)];
    let delta = Delta { base: "v2", changed: vec![&v4[1]], removed: vec![3] };
    assert_eq!(store.record(&fetch("p", 400, "v4", &v4, Some(delta))).await.unwrap(), Recorded::Rows(2));
    assert_eq!(held(&store, "p").await, (vec![(1, 150), (5, 500)], 2, 650));
    // The same fetch again (another replica, the same data): a sighting, nothing rewritten.
    assert_eq!(store.record(&fetch("p", 500, "v4", &v4, None)).await.unwrap(), Recorded::Sighting);
    assert_eq!(store.periods().await.unwrap()[0].last_seen_ms, 500);
}

pub async fn a_period_closes_only_on_newer_evidence_and_a_newer_sighting_reopens_it(url: &str) {
    let store = store(url).await;
    let rows = [row(1, 100)];
    store.record(&fetch("2024-04-01", 100, "a", &rows, None)).await.unwrap();
    // Another replica fetched after the rollover, and wrote first.
    store.record(&fetch("2024-05-01", 200, "b", &rows, None)).await.unwrap();
    assert_eq!(open_and_closed(&store).await, [("2024-05-01".into(), false), ("2024-04-01".into(), true)]);
    // The slow replica's fetch from just before the rollover: April's rows, but no reopening, and May stays open.
    store.record(&fetch("2024-04-01", 150, "a2", &rows, None)).await.unwrap();
    assert_eq!(open_and_closed(&store).await, [("2024-05-01".into(), false), ("2024-04-01".into(), true)]);
    // The upstream serves April again, later than May was seen: April is current, May is not.
    store.record(&fetch("2024-04-01", 300, "a3", &rows, None)).await.unwrap();
    assert_eq!(open_and_closed(&store).await, [("2024-05-01".into(), true), ("2024-04-01".into(), false)]);
}
