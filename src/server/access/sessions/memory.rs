//! Sessions in this process's memory: one server, nothing to share, and everything gone at a restart. Bounded:
//! at `capacity` sessions, the ended ones are swept out, and if none has ended a new sign-in is refused (a clear
//! page, counted in `/metrics`): a flood of sign-ins never evicts a live session to make room.

use super::{now_s, SessionBackend, SessionError};
use futures::future::BoxFuture;
use std::collections::HashMap;
use std::sync::Mutex;

pub struct MemorySessions {
    capacity: usize,
    /// Each value with when it ends (seconds since the epoch).
    entries: Mutex<HashMap<String, (String, i64)>>,
}

impl MemorySessions {
    pub fn new(capacity: usize) -> Self {
        MemorySessions { capacity: capacity.max(1), entries: Mutex::new(HashMap::new()) }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, (String, i64)>> {
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn put_now(&self, name: &str, value: String, ends_s: i64, existing: bool) -> Result<(), SessionError> {
        let mut entries = self.entries();
        if let Some(entry) = entries.get_mut(name) {
            *entry = (value, ends_s);
            return Ok(());
        }
        if existing {
            return Ok(());
        }
        if entries.len() >= self.capacity {
            let now = now_s();
            entries.retain(|_, (_, ends)| *ends > now);
        }
        if entries.len() >= self.capacity {
            return Err(SessionError::Full);
        }
        entries.insert(name.to_owned(), (value, ends_s));
        Ok(())
    }

    fn get_now(&self, name: &str) -> Option<String> {
        let mut entries = self.entries();
        match entries.get(name) {
            Some((value, ends)) if *ends > now_s() => Some(value.clone()),
            Some(_) => {
                entries.remove(name);
                None
            }
            None => None,
        }
    }
}

impl SessionBackend for MemorySessions {
    fn kind(&self) -> &'static str {
        "memory (this process only)"
    }

    fn put<'a>(
        &'a self,
        name: &'a str,
        value: String,
        ends_s: i64,
        existing: bool,
    ) -> BoxFuture<'a, Result<(), SessionError>> {
        Box::pin(std::future::ready(self.put_now(name, value, ends_s, existing)))
    }

    fn get<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Option<String>, SessionError>> {
        Box::pin(std::future::ready(Ok(self.get_now(name))))
    }

    fn delete<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<(), SessionError>> {
        self.entries().remove(name);
        Box::pin(std::future::ready(Ok(())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_the_bound_a_new_session_is_refused_and_every_live_one_kept() {
        let sessions = MemorySessions::new(2);
        let later = now_s() + 600;
        sessions.put_now("a", "A".into(), later, false).unwrap();
        sessions.put_now("b", "B".into(), later, false).unwrap();
        assert_eq!(sessions.put_now("c", "C".into(), later, false), Err(SessionError::Full));
        assert_eq!((sessions.get_now("a").as_deref(), sessions.get_now("b").as_deref()), (Some("A"), Some("B")));
        assert_eq!(sessions.get_now("c"), None);
        // A session already kept is written again at the bound (its idle end moves on).
        sessions.put_now("a", "A2".into(), later, true).unwrap();
        assert_eq!(sessions.get_now("a").as_deref(), Some("A2"));
    }

    #[test]
    fn ended_sessions_make_room_and_are_never_read() {
        let sessions = MemorySessions::new(2);
        sessions.put_now("old", "O".into(), now_s() - 1, false).unwrap();
        sessions.put_now("a", "A".into(), now_s() + 600, false).unwrap();
        assert_eq!(sessions.get_now("old"), None);
        sessions.put_now("c", "C".into(), now_s() + 600, false).unwrap();
        assert_eq!(sessions.get_now("c").as_deref(), Some("C"));
    }

    #[test]
    fn an_update_only_writes_over_a_session_that_is_there() {
        let sessions = MemorySessions::new(2);
        sessions.put_now("gone", "G".into(), now_s() + 600, true).unwrap();
        assert_eq!(sessions.get_now("gone"), None);
    }
}
