//! Conditional GETs: an `ETag` for a response computed from what it shows, and `If-None-Match` answered with
//! `304 Not Modified` and no body, so a client that revalidates (`Cache-Control: no-cache`) downloads a period
//! again only when it changed.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// Clients revalidate every time: the data is live, but unchanged data need not be sent again.
pub const REVALIDATE: &str = "no-cache";

/// A weak entity tag from the parts that make a response: `W/"<prefix>-<16 hex digits of SHA-256>"`. Weak,
/// because the same tag goes out with identity, gzip and br bodies of one representation (RFC 9110 §8.8.3): a
/// client may revalidate with it, never use it to join byte ranges of differently encoded bodies.
pub fn entity_tag(prefix: &str, parts: &[&[u8]]) -> String {
    let mut hash = Sha256::new();
    for part in parts {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part);
    }
    format!("W/\"{prefix}-{}\"", &hex::encode(hash.finalize())[..16])
}

/// Whether `If-None-Match` names `etag` (or is `*`): weak comparison, as RFC 9110 asks for this header.
pub fn matches(request: &HeaderMap, etag: &str) -> bool {
    let opaque = |tag: &str| tag.trim().trim_start_matches("W/").to_owned();
    request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|value| value.split(',').any(|tag| tag.trim() == "*" || opaque(tag) == opaque(etag)))
}

/// `304 Not Modified` with the tag and the caching policy, and no body.
pub fn not_modified(etag: &str) -> Response {
    let mut response = StatusCode::NOT_MODIFIED.into_response();
    add_headers(&mut response, etag);
    response
}

/// The tag and the caching policy, on a full response.
pub fn add_headers(response: &mut Response, etag: &str) {
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(etag) {
        headers.insert(header::ETAG, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(REVALIDATE));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asking(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::IF_NONE_MATCH, value.parse().unwrap());
        headers
    }

    #[test]
    fn tags_follow_every_part_and_where_it_ends() {
        let tag = entity_tag("u", &[b"abc"]);
        assert!(tag.starts_with("W/\"u-") && tag.ends_with('"') && tag.len() == 22, "{tag}");
        assert_eq!(tag, entity_tag("u", &[b"abc"]));
        assert_ne!(tag, entity_tag("u", &[b"abd"]));
        assert_ne!(entity_tag("c", &[b"ab", b"c"]), entity_tag("c", &[b"a", b"bc"]), "parts are delimited");
    }

    #[test]
    fn if_none_match_names_the_tag_in_a_list_weakly_or_with_a_star() {
        let tag = "\"u-0123456789abcdef\"";
        assert!(matches(&asking(tag), tag));
        assert!(matches(&asking(&format!("\"x\", W/{tag}")), tag));
        assert!(matches(&asking("*"), tag));
        assert!(!matches(&asking("\"u-other\""), tag));
        assert!(!matches(&HeaderMap::new(), tag));
    }
}
