//! Where requests may go. The API key rides on every request, so the base URL is checked
//! once: HTTPS, or plain HTTP only to a loopback address (a simulator in tests).

use std::net::IpAddr;

use reqwest::Url;

use crate::booking::BookingError;

/// The checked API root without a trailing slash (`https://api.cal.com`,
/// `http://127.0.0.1:4011`, or a self-hosted `https://cal.example.com/api`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BaseUrl(String);

impl BaseUrl {
    pub(crate) fn parse(raw: &str) -> Result<Self, BookingError> {
        let config = |why: &str| BookingError::Config {
            message: format!("Cal.com API base URL {raw:?}: {why}"),
        };
        let url = Url::parse(raw.trim()).map_err(|e| config(&format!("not a URL ({e})")))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(config(
                "must not carry a user name or password; the API key is configured separately",
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(config("must not have a query or fragment"));
        }
        let host = url.host_str().ok_or_else(|| config("has no host"))?;
        match url.scheme() {
            "https" => {}
            "http" if is_loopback_ip(host) => {}
            "http" => {
                return Err(config(
                    "plain http is only allowed to a loopback address (127.0.0.1 or [::1]); use https",
                ));
            }
            other => {
                return Err(config(&format!(
                    "scheme {other:?} is not supported; use https"
                )));
            }
        }
        Ok(Self(url.as_str().trim_end_matches('/').to_owned()))
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    /// The absolute URL for a path this adapter built (starts with `/`).
    pub(crate) fn join(&self, path: &str) -> String {
        format!("{}{path}", self.0)
    }
}

fn is_loopback_ip(host: &str) -> bool {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_anywhere_http_only_to_loopback() {
        for ok in [
            "https://api.cal.com",
            "https://api.cal.com/",
            "https://cal.example.com/api",
            "http://127.0.0.1:4011",
            "http://[::1]:8080/",
        ] {
            assert!(BaseUrl::parse(ok).is_ok(), "{ok} is a valid API base");
        }
        assert_eq!(
            BaseUrl::parse("https://api.cal.com/").map(|b| b.join("/v2/me")),
            Ok("https://api.cal.com/v2/me".to_owned()),
            "a trailing slash does not double up"
        );
        for bad in [
            "http://api.cal.com",
            "http://localhost:4011",
            "http://10.0.0.5",
            "ftp://api.cal.com",
            "https://user:pw@api.cal.com",
            "https://api.cal.com/?x=1",
            "https://api.cal.com/#frag",
            "api.cal.com",
            "",
        ] {
            assert!(
                matches!(BaseUrl::parse(bad), Err(BookingError::Config { .. })),
                "{bad:?} must be refused: the API key would travel in clear or somewhere odd"
            );
        }
    }
}
