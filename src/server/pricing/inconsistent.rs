//! The one error of a priced period that fails a check: read back from Redis or the history store, or built from
//! an upstream answer, what is wrong with it, in words for the log. Such a value is never served.

/// What is wrong with a priced period, a row or a shared value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Inconsistent(pub String);

impl From<String> for Inconsistent {
    fn from(reason: String) -> Self {
        Inconsistent(reason)
    }
}

impl From<&str> for Inconsistent {
    fn from(reason: &str) -> Self {
        Inconsistent(reason.to_owned())
    }
}
