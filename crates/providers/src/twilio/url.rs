//! Where requests may go. Credentials ride on every request, so the base URL is checked
//! once (HTTPS, or plain HTTP only to this machine) and a `next_page_uri` from an answer
//! is only ever appended to that base, never followed as given.

use std::net::IpAddr;

use reqwest::Url;

use crate::ProviderError;

/// The checked origin requests go to, without a trailing slash
/// (`https://api.twilio.com`, `http://127.0.0.1:4010`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BaseUrl(String);

impl BaseUrl {
    pub(crate) fn parse(raw: &str) -> Result<Self, ProviderError> {
        let config = |why: &str| ProviderError::Config {
            message: format!("base URL {raw:?}: {why}"),
        };
        let url = Url::parse(raw.trim()).map_err(|e| config(&format!("not a URL ({e})")))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(config(
                "must not carry credentials; give them as the account SID and token",
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(config("must not have a query or fragment"));
        }
        if url.path() != "/" && !url.path().is_empty() {
            return Err(config(
                "must be an origin only, like https://api.twilio.com (no path)",
            ));
        }
        let host = url.host_str().ok_or_else(|| config("has no host"))?;
        match url.scheme() {
            "https" => {}
            "http" if is_loopback(host) => {}
            "http" => {
                return Err(config(
                    "plain http is only allowed to this machine (127.0.0.1, ::1, localhost); use https",
                ));
            }
            other => {
                return Err(config(&format!(
                    "scheme {other:?} is not supported; use https"
                )));
            }
        }
        let origin = url.as_str().trim_end_matches('/').to_owned();
        Ok(Self(origin))
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    /// The absolute URL for a path the adapter built itself (starts with `/`).
    pub(crate) fn join(&self, path: &str) -> String {
        format!("{}{}", self.0, path)
    }

    /// The absolute URL for a `next_page_uri` from an answer, or why it is refused.
    ///
    /// It must be a relative reference to the same list resource we asked for
    /// (`expected_path`, e.g. `/2010-04-01/Accounts/AC…/Calls.json`) with its own query.
    /// Anything else (an absolute URL, `//host`, another account or resource, path tricks)
    /// is refused so a hostile or broken answer cannot send our credentials elsewhere.
    pub(crate) fn next_page(
        &self,
        next_page_uri: &str,
        expected_path: &str,
    ) -> Result<String, ProviderError> {
        let refuse = |why: &str| ProviderError::Malformed {
            message: format!("refusing to follow next_page_uri: {why}"),
        };
        if next_page_uri.len() > 8 * 1024 {
            return Err(refuse("it is longer than 8 KiB"));
        }
        if next_page_uri
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '\\' || c == '#')
        {
            return Err(refuse(
                "it contains whitespace, control characters, '\\' or '#'",
            ));
        }
        let (path, query) = match next_page_uri.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (next_page_uri, None),
        };
        if path != expected_path {
            return Err(refuse(&format!(
                "it does not point at the list that was requested ({expected_path})"
            )));
        }
        let joined = match query {
            Some(q) => format!("{}{path}?{q}", self.0),
            None => format!("{}{path}", self.0),
        };
        // Defence in depth: whatever the string rules above missed, the parsed result must
        // still be on our origin and our path.
        let base = Url::parse(&self.0).map_err(|_| refuse("the base URL no longer parses"))?;
        let url = Url::parse(&joined).map_err(|e| refuse(&format!("not a valid URL ({e})")))?;
        if url.origin() != base.origin() || url.path() != expected_path {
            return Err(refuse("it leaves the provider's origin or list path"));
        }
        Ok(url.into())
    }

    /// The absolute URL of an attachment's content: its listed `uri` without `.json`.
    ///
    /// The uri must be exactly `{account_path}/Messages/{MessageSid}/Media/{sid}.json`, so a
    /// hostile list answer (or a tampered store) cannot point the credentialed request at
    /// another account, resource or host.
    pub(crate) fn media_content(
        &self,
        uri: &str,
        account_path: &str,
        sid: &str,
    ) -> Result<String, ProviderError> {
        let refuse = |why: &str| ProviderError::Malformed {
            message: format!("refusing to fetch media {sid}: {why}"),
        };
        let message_sid = uri
            .strip_prefix(account_path)
            .and_then(|rest| rest.strip_prefix("/Messages/"))
            .and_then(|rest| rest.strip_suffix(&format!("/Media/{sid}.json")))
            .ok_or_else(|| refuse("its uri is not this account's media resource"))?;
        if message_sid.is_empty() || !message_sid.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(refuse("its uri names no valid message"));
        }
        Ok(self.join(uri.trim_end_matches(".json")))
    }
}

/// Where a media redirect may lead: `location` resolved against the URL that answered it,
/// over HTTPS (or plain HTTP only to this machine), without credentials in the URL.
pub(crate) fn redirect_target(current: &str, location: &str) -> Result<Url, ProviderError> {
    let refuse = |why: &str| ProviderError::Malformed {
        message: format!("refusing to follow the media redirect: {why}"),
    };
    if location.len() > 8 * 1024 {
        return Err(refuse("its location is longer than 8 KiB"));
    }
    let base = Url::parse(current).map_err(|_| refuse("the previous URL does not parse"))?;
    let url = base
        .join(location)
        .map_err(|e| refuse(&format!("its location is not a URL ({e})")))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refuse("its location carries credentials"));
    }
    let host = url
        .host_str()
        .ok_or_else(|| refuse("its location has no host"))?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(host) => Ok(url),
        other => Err(refuse(&format!(
            "it leads over {other}:// to {host}, not over https"
        ))),
    }
}

fn is_loopback(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    // `host_str` keeps IPv6 literals in brackets.
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_anywhere_and_http_only_on_loopback() {
        for ok in [
            "https://api.twilio.com",
            "https://api.twilio.com/",
            "http://127.0.0.1:4010",
            "http://127.8.9.10:1",
            "http://[::1]:8080/",
            "http://localhost:3000",
            "http://LOCALHOST",
        ] {
            assert!(BaseUrl::parse(ok).is_ok(), "{ok} must be accepted");
        }
        for bad in [
            "http://api.twilio.com",
            "http://10.0.0.5:4010",
            "http://128.0.0.1",
            "http://localhost.evil.com",
            "http://127.0.0.1.nip.io",
            "http://[::2]",
            "ftp://127.0.0.1",
            "https://user:pw@api.twilio.com",
            "https://api.twilio.com/some/prefix",
            "https://api.twilio.com/?x=1",
            "not a url",
            "",
        ] {
            let err = BaseUrl::parse(bad);
            assert!(
                matches!(err, Err(ProviderError::Config { .. })),
                "{bad:?} must be a Config error, got {err:?}"
            );
        }
    }

    #[test]
    fn the_config_error_says_why() {
        let err = BaseUrl::parse("http://api.twilio.com").expect_err("plain http off-box");
        assert!(
            err.to_string().contains("only allowed to this machine"),
            "the user must learn why: {err}"
        );
    }

    #[test]
    fn trailing_slash_is_dropped() {
        let base = BaseUrl::parse("http://127.0.0.1:4010/").expect("valid");
        assert_eq!(
            base.join("/2010-04-01/Accounts/AC1.json"),
            "http://127.0.0.1:4010/2010-04-01/Accounts/AC1.json",
            "paths are appended without a double slash"
        );
    }

    const LIST: &str = "/2010-04-01/Accounts/AC0123/Calls.json";

    #[test]
    fn relative_next_page_on_the_same_list_is_followed() {
        let base = BaseUrl::parse("https://api.twilio.com").expect("valid");
        let next = base
            .next_page(
                "/2010-04-01/Accounts/AC0123/Calls.json?To=%2B15005550006&PageSize=100&Page=1&PageToken=PACA1",
                LIST,
            )
            .expect("a normal next link must be followed");
        assert_eq!(
            next,
            "https://api.twilio.com/2010-04-01/Accounts/AC0123/Calls.json?To=%2B15005550006&PageSize=100&Page=1&PageToken=PACA1",
            "the base is prepended, the query kept as given"
        );
    }

    const MEDIA_URI: &str = "/2010-04-01/Accounts/AC0123/Messages/MM1/Media/ME1.json";

    #[test]
    fn media_content_is_the_listed_uri_without_json() {
        let base = BaseUrl::parse("https://api.twilio.com").expect("valid");
        assert_eq!(
            base.media_content(MEDIA_URI, "/2010-04-01/Accounts/AC0123", "ME1")
                .expect("the account's own media uri is fetched"),
            "https://api.twilio.com/2010-04-01/Accounts/AC0123/Messages/MM1/Media/ME1",
            "the content lives at the resource without .json"
        );
        for bad in [
            "https://evil.example/2010-04-01/Accounts/AC0123/Messages/MM1/Media/ME1.json",
            "//evil.example/2010-04-01/Accounts/AC0123/Messages/MM1/Media/ME1.json",
            "/2010-04-01/Accounts/ACother/Messages/MM1/Media/ME1.json",
            "/2010-04-01/Accounts/AC0123/Messages/MM1/Media/ME2.json",
            "/2010-04-01/Accounts/AC0123/Messages/../Calls/Media/ME1.json",
            "/2010-04-01/Accounts/AC0123/Messages//Media/ME1.json",
            "/2010-04-01/Accounts/AC0123/Calls/CA1/Media/ME1.json",
        ] {
            let result = base.media_content(bad, "/2010-04-01/Accounts/AC0123", "ME1");
            assert!(
                matches!(result, Err(ProviderError::Malformed { .. })),
                "{bad:?} must not be fetched with credentials, got {result:?}"
            );
        }
    }

    #[test]
    fn media_redirects_go_only_over_https_or_to_this_machine() {
        let from = "https://api.twilio.com/2010-04-01/Accounts/AC0123/Messages/MM1/Media/ME1";
        for ok in [
            "https://s3.amazonaws.com/bucket/ME1?X-Amz-Signature=abc",
            "http://127.0.0.1:9000/ME1",
        ] {
            assert!(redirect_target(from, ok).is_ok(), "{ok} may be followed");
        }
        assert_eq!(
            redirect_target(from, "/elsewhere")
                .expect("a relative location resolves")
                .as_str(),
            "https://api.twilio.com/elsewhere",
            "relative locations resolve against the answering URL"
        );
        for bad in [
            "http://media.example/ME1",
            "ftp://media.example/ME1",
            "https://user:pw@media.example/ME1",
            "file:///etc/passwd",
        ] {
            assert!(
                matches!(
                    redirect_target(from, bad),
                    Err(ProviderError::Malformed { .. })
                ),
                "{bad:?} must not be followed"
            );
        }
    }

    #[test]
    fn hostile_or_foreign_next_pages_are_refused() {
        let base = BaseUrl::parse("https://api.twilio.com").expect("valid");
        for bad in [
            "https://evil.example/2010-04-01/Accounts/AC0123/Calls.json?Page=1",
            "//evil.example/2010-04-01/Accounts/AC0123/Calls.json",
            "/2010-04-01/Accounts/ACother/Calls.json?Page=1",
            "/2010-04-01/Accounts/AC0123/Messages.json?Page=1",
            "/2010-04-01/Accounts/AC0123/Calls.json/../../../x?Page=1",
            "/2010-04-01/Accounts/AC0123/../ACother/Calls.json",
            "/2010-04-01/Accounts/AC0123/Calls.json?Page=1#frag",
            "/2010-04-01/Accounts/AC0123/Calls.json?Page=1\r\nHost: evil",
            "/2010-04-01/Accounts/AC0123/Calls.json\\@evil.example",
            "@evil.example/2010-04-01/Accounts/AC0123/Calls.json",
            "",
        ] {
            let result = base.next_page(bad, LIST);
            assert!(
                matches!(result, Err(ProviderError::Malformed { .. })),
                "{bad:?} must not be followed, got {result:?}"
            );
        }
    }
}
