//! The retry policy for upstream calls: how many attempts, how long to wait between them, and one
//! computation's shared allowance of retries and time. Built from the configuration; the client takes it as
//! plain values.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// The longest wait before a retry: backoff never grows past it, and a longer Retry-After is not waited
/// for (the call fails instead of hanging). The default deadline is sized with it.
pub const LONGEST_WAIT_BEFORE_RETRY: Duration = Duration::from_secs(1);

/// Transient failures (connection errors, timeouts, 5xx, 429) are retried `retries` times, after jittered
/// exponential backoff from `base`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    pub retries: u32,
    pub base: Duration,
}

impl RetryPolicy {
    /// How long to wait before retry number `attempt + 1` (0-based): the step doubles from `base` up to
    /// `LONGEST_WAIT_BEFORE_RETRY`, and the wait is jittered between half and the whole step so that many
    /// clients retrying together spread out. `unit` is a random number in [0, 1).
    pub fn backoff(&self, attempt: u32, unit: f64) -> Duration {
        let step = self.base.saturating_mul(2u32.saturating_pow(attempt)).min(LONGEST_WAIT_BEFORE_RETRY);
        step.mul_f64(unit.clamp(0.0, 1.0) * 0.5 + 0.5)
    }

    /// A server's Retry-After is honoured when it is short enough to wait for; `None`: fail now.
    pub fn wait_for(&self, retry_after: Option<Duration>, attempt: u32, unit: f64) -> Option<Duration> {
        match retry_after {
            Some(wait) if wait > LONGEST_WAIT_BEFORE_RETRY => None,
            Some(wait) => Some(wait),
            None => Some(self.backoff(attempt, unit)),
        }
    }

    /// The longest a usage computation can spend on the upstream when every call times out after `timeout`
    /// and is retried: the messages, then the reports (fetched concurrently), each with every attempt and the
    /// longest waits between them. A deadline shorter than this cuts the last retries off.
    pub fn worst_case(&self, timeout: Duration) -> Duration {
        let attempts = self.retries.saturating_add(1);
        let one_phase = timeout.saturating_mul(attempts) + LONGEST_WAIT_BEFORE_RETRY.saturating_mul(self.retries);
        one_phase.saturating_mul(2)
    }
}

/// One usage computation's allowance of upstream time and retries, shared by all its calls. Without it a
/// failing upstream would see every one of hundreds of report lookups retried; with it the whole
/// computation makes at most `retry_budget` retries, and none that its deadline would cut off.
pub struct CallBudget {
    deadline: Instant,
    retries_left: AtomicU32,
}

impl CallBudget {
    pub fn new(deadline: Instant, retries: u32) -> Self {
        CallBudget { deadline, retries_left: AtomicU32::new(retries) }
    }

    /// Takes one retry from the budget if there is one and waiting `wait` still ends before the deadline.
    pub fn take_retry(&self, wait: Duration) -> bool {
        if Instant::now() + wait >= self.deadline {
            return false;
        }
        self.retries_left.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| left.checked_sub(1)).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: RetryPolicy = RetryPolicy { retries: 2, base: Duration::from_millis(100) };

    #[test]
    fn backoff_doubles_is_jittered_and_capped() {
        assert_eq!(POLICY.backoff(0, 0.0), Duration::from_millis(50));
        assert_eq!(POLICY.backoff(0, 0.5), Duration::from_millis(75));
        assert_eq!(POLICY.backoff(2, 0.0), Duration::from_millis(200));
        assert_eq!(POLICY.backoff(20, 0.0), LONGEST_WAIT_BEFORE_RETRY / 2);
    }

    #[test]
    fn a_short_retry_after_is_honoured_and_a_long_one_fails_at_once() {
        assert_eq!(POLICY.wait_for(Some(Duration::from_secs(1)), 0, 0.0), Some(Duration::from_secs(1)));
        assert_eq!(POLICY.wait_for(Some(Duration::from_secs(2)), 0, 0.0), None);
        assert_eq!(POLICY.wait_for(None, 1, 0.0), Some(Duration::from_millis(100)));
    }

    #[test]
    fn the_worst_case_is_two_phases_of_every_attempt_and_wait() {
        // (3 × 3 s + 2 × 1 s) × 2
        assert_eq!(POLICY.worst_case(Duration::from_secs(3)), Duration::from_secs(22));
    }

    #[test]
    fn the_budget_is_shared_and_no_retry_ends_past_the_deadline() {
        let budget = CallBudget::new(Instant::now() + Duration::from_secs(60), 2);
        assert!(budget.take_retry(Duration::ZERO));
        assert!(budget.take_retry(Duration::ZERO));
        assert!(!budget.take_retry(Duration::ZERO), "the budget is spent");
        let soon = CallBudget::new(Instant::now() + Duration::from_millis(50), 5);
        assert!(!soon.take_retry(Duration::from_secs(1)), "the wait would end past the deadline");
    }
}
