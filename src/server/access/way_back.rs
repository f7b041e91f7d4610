//! Where a sign-in leads back to, and what the callback says of a provider's refusal: the way back is a path on
//! this server of at most 1 KB (the sign-in cookie carries it, under a browser's 4 KB), and a provider's error
//! code is told in fixed words, never in text of the link's.

use crate::view_query::ViewQuery;

/// The longest way back a sign-in's cookie carries: with the rest of the sign-in, encrypted, the cookie stays
/// far under the 4 096 bytes a browser keeps (a longer one is silently dropped, and the sign-in with it).
pub const LONGEST_RETURN: usize = 1024;

/// What the page says of a provider's `error` at the callback: fixed words per code of OAuth 2.0 (RFC 6749
/// §4.1.2.1) and OpenID Connect (Core §3.1.2.6), naming the code; anything else, no text of the link's.
pub fn provider_refusal(error: &str) -> String {
    let known: &[(&str, &str)] = &[
        ("access_denied", "the sign-in was declined at the provider"),
        ("login_required", "the provider needs you to sign in there first"),
        ("interaction_required", "the provider needs you to sign in there first"),
        ("consent_required", "the provider needs your consent first"),
        ("account_selection_required", "the provider needs you to choose an account"),
        ("temporarily_unavailable", "the provider cannot sign you in just now"),
        ("server_error", "the provider failed to sign you in"),
        (
            "invalid_request",
            "the provider refused the dashboard's request; an administrator should check its registration",
        ),
        (
            "unauthorized_client",
            "the provider refused the dashboard's request; an administrator should check its registration",
        ),
        (
            "unsupported_response_type",
            "the provider refused the dashboard's request; an administrator should check its registration",
        ),
        ("invalid_scope", "the provider refused the scopes asked for; an administrator should check auth_scopes"),
    ];
    match known.iter().find(|(code, _)| *code == error) {
        Some((code, words)) => format!("{words} ({code})"),
        None => "the provider refused the sign-in".to_owned(),
    }
}

/// A path on this server, without control characters or anything a browser reads as another host.
fn on_this_server(asked: &str) -> bool {
    asked.starts_with('/') && !asked.starts_with("//") && !asked.contains('\\') && !asked.chars().any(char::is_control)
}

/// A path on this server to return to after sign-in: anything else (another origin, `//host`, a backslash
/// some browsers read as a slash) is the dashboard's root. No open redirect.
pub fn safe_return_path(asked: &str) -> &str {
    if on_this_server(asked) && asked.len() <= LONGEST_RETURN {
        asked
    } else {
        "/"
    }
}

/// The way back a sign-in carries: the URL first asked for, when it is on this server and at most
/// `LONGEST_RETURN` bytes; a longer dashboard URL comes back as its view, written as the page writes its own
/// links (junk and repeats left out), when that is short enough; else the dashboard's root.
pub fn return_path(asked: &str) -> String {
    if !on_this_server(asked) {
        return "/".to_owned();
    }
    if asked.len() <= LONGEST_RETURN {
        return asked.to_owned();
    }
    let (path, query) = asked.split_once('?').unwrap_or((asked, ""));
    let view = ViewQuery::from_query(query).href_to(path, true);
    match path == crate::view_query::DASHBOARD_PATH && view.len() <= LONGEST_RETURN {
        true => view,
        false => "/".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_path_on_this_server_is_returned_to() {
        assert_eq!(
            safe_return_path("/?tz=Europe%2FBerlin&sort=credits_used:desc"),
            "/?tz=Europe%2FBerlin&sort=credits_used:desc"
        );
        for elsewhere in ["https://evil.example/", "//evil.example/", "/\\evil.example", "evil", "", "/\nSet-Cookie: x"]
        {
            assert_eq!(safe_return_path(elsewhere), "/", "{elsewhere:?}");
            assert_eq!(return_path(elsewhere), "/", "{elsewhere:?}");
        }
    }

    #[test]
    fn a_long_way_back_keeps_the_view_or_goes_to_the_root() {
        let short = "/?tz=Europe%2FBerlin&sort=credits_used:desc";
        assert_eq!(return_path(short), short);
        let padded = format!("/?tz=Europe%2FBerlin&sort=credits_used:desc&junk={}", "x".repeat(3000));
        assert_eq!(return_path(&padded), "/?tz=Europe/Berlin&sort=credits_used:desc", "the view, as the page links it");
        let long_name = format!("/?report={}", "r".repeat(2000));
        assert_eq!(return_path(&long_name), "/", "a view that is itself too long");
        assert_eq!(return_path(&format!("/elsewhere?{}", "x".repeat(2000))), "/");
        assert!(safe_return_path(&padded) == "/", "the callback never redirects to more than a cookie holds");
    }

    #[test]
    fn a_providers_refusal_is_told_in_fixed_words() {
        assert_eq!(provider_refusal("access_denied"), "the sign-in was declined at the provider (access_denied)");
        for chosen in ["<script>alert(1)</script>", "Your account is locked, call +1 555 0100", ""] {
            assert_eq!(provider_refusal(chosen), "the provider refused the sign-in", "{chosen}");
        }
    }
}
