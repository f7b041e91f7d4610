//! The upstream's addresses. The base URL is configuration, so it is validated at start-up, and it may carry
//! credentials (userinfo, or a signed query such as a blob store's `?sv=…&sig=…`): the endpoints keep them,
//! and nothing that is logged or shown to a client ever contains them.

use crate::server::config::redacted;
use reqwest::Url;

/// Why a text is no upstream base URL.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NotAnUpstreamUrl(String);

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpstreamUrls {
    base: Url,
}

impl UpstreamUrls {
    /// An `http` or `https` URL with a host and no fragment.
    pub fn parse(text: &str) -> Result<Self, NotAnUpstreamUrl> {
        let refused = |why: String| Err(NotAnUpstreamUrl(why));
        let base = match Url::parse(text) {
            Ok(base) => base,
            Err(error) => return refused(format!("not a URL ({error})")),
        };
        if !matches!(base.scheme(), "http" | "https") {
            return refused(format!("the scheme must be http or https, not `{}`", base.scheme()));
        }
        if base.host_str().is_none_or(str::is_empty) {
            return refused("the URL has no host".into());
        }
        if base.fragment().is_some() {
            return refused("the URL has a fragment, which would never reach the upstream".into());
        }
        Ok(UpstreamUrls { base })
    }

    pub fn messages(&self) -> Url {
        self.endpoint(&["messages", "current-period"])
    }

    pub fn report(&self, id: u64) -> Url {
        self.endpoint(&["reports", &id.to_string()])
    }

    /// The base's path with the segments appended; its query (a signature, say) is kept as it is.
    fn endpoint(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    /// The base, safe to log.
    pub fn redacted_base(&self) -> String {
        redacted(&self.base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_the_endpoints_to_the_base_path() {
        let urls = UpstreamUrls::parse("https://up.test/tech-task").unwrap();
        assert_eq!(urls.messages().as_str(), "https://up.test/tech-task/messages/current-period");
        assert_eq!(urls.report(5392).as_str(), "https://up.test/tech-task/reports/5392");
        let urls = UpstreamUrls::parse("http://127.0.0.1:9000/").unwrap();
        assert_eq!(urls.messages().as_str(), "http://127.0.0.1:9000/messages/current-period");
    }

    #[test]
    fn a_signed_query_is_kept_on_both_endpoints() {
        let urls = UpstreamUrls::parse("https://blob.test/tech-task/?sv=2024&sig=abc%2Fdef").unwrap();
        assert_eq!(
            urls.messages().as_str(),
            "https://blob.test/tech-task/messages/current-period?sv=2024&sig=abc%2Fdef"
        );
        assert_eq!(urls.report(7).as_str(), "https://blob.test/tech-task/reports/7?sv=2024&sig=abc%2Fdef");
    }

    #[test]
    fn refuses_what_is_not_an_http_upstream() {
        for text in
            ["", "up.test", "ftp://up.test", "file:///etc/passwd", "https://", "http://up.test/#x", "unix:/run/x"]
        {
            assert!(UpstreamUrls::parse(text).is_err(), "{text:?} should be refused");
        }
    }

    #[test]
    fn redaction_drops_userinfo_and_query() {
        let url = Url::parse("https://user:hunter2@up.test:8443/api/messages?sig=s3cret").unwrap();
        assert_eq!(redacted(&url), "https://up.test:8443/api/messages?…");
        let urls = UpstreamUrls::parse("http://token@up.test/base?key=k").unwrap();
        assert_eq!(urls.redacted_base(), "http://up.test/base?…");
    }
}
