//! Values derived from a kept period on first use and kept with it, up to a bound: the keys come from URLs,
//! so an unbounded map would let any client grow the server's memory.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

/// How many variants of each derived value are kept: enough for every sort and the zones and days people
/// look at. Past it, values are computed each time.
pub const KEPT_VARIANTS: usize = 64;

#[derive(Debug)]
pub struct BoundedMemo<K, V>(Mutex<HashMap<K, V>>);

impl<K, V> Default for BoundedMemo<K, V> {
    fn default() -> Self {
        BoundedMemo(Mutex::new(HashMap::new()))
    }
}

impl<K: Eq + Hash, V: Clone> BoundedMemo<K, V> {
    /// Computed outside the lock; two requests racing for a new key both compute it, which is harmless.
    pub fn get_or_compute(&self, key: K, compute: impl FnOnce() -> V) -> V {
        match self.get_or_try_compute(key, || Ok::<V, std::convert::Infallible>(compute())) {
            Ok(value) => value,
            Err(never) => match never {},
        }
    }

    /// Like [`get_or_compute`](Self::get_or_compute), but a failure is never kept: the next call computes
    /// again.
    pub fn get_or_try_compute<E>(&self, key: K, compute: impl FnOnce() -> Result<V, E>) -> Result<V, E> {
        if let Some(value) = self.lock().get(&key) {
            return Ok(value.clone());
        }
        let value = compute()?;
        let mut kept = self.lock();
        if kept.len() < KEPT_VARIANTS {
            kept.insert(key, value.clone());
        }
        Ok(value)
    }

    /// The value kept for `key`, if any: for values computed elsewhere (asynchronously), then [`keep`](Self::keep)-ed.
    pub fn get(&self, key: &K) -> Option<V> {
        self.lock().get(key).cloned()
    }

    pub fn keep(&self, key: K, value: V) {
        let mut kept = self.lock();
        if kept.len() < KEPT_VARIANTS {
            kept.insert(key, value);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, V>> {
        // A panic while holding the lock cannot leave the map half-written (inserts are single calls).
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn a_value_is_computed_once() {
        let memo = BoundedMemo::default();
        let calls = Cell::new(0);
        for _ in 0..3 {
            assert_eq!(
                memo.get_or_compute("k", || {
                    calls.set(calls.get() + 1);
                    7
                }),
                7
            );
        }
        assert_eq!(calls.get(), 1);
    }

    #[test]
    fn a_failure_is_never_kept() {
        let memo = BoundedMemo::default();
        assert_eq!(memo.get_or_try_compute("k", || Err::<i32, _>("broken")), Err("broken"));
        assert_eq!(memo.get_or_try_compute("k", || Ok::<_, &str>(5)), Ok(5), "computed again after a failure");
        assert_eq!(memo.get_or_try_compute("k", || Err::<i32, _>("not asked")), Ok(5), "and then kept");
    }

    #[test]
    fn past_the_bound_values_are_computed_each_time() {
        let memo = BoundedMemo::default();
        for key in 0..KEPT_VARIANTS {
            memo.get_or_compute(key, || key);
        }
        let calls = Cell::new(0);
        for _ in 0..2 {
            memo.get_or_compute(usize::MAX, || {
                calls.set(calls.get() + 1);
                0
            });
        }
        assert_eq!(calls.get(), 2);
    }
}
