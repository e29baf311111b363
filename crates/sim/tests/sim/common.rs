//! Shared helpers: a started sim, an HTTP client, and Twilio-shaped requests.

use std::collections::BTreeSet;
use std::time::Duration;

use reqwest::{Client, Response, StatusCode};
use serde_json::Value;
use textback_sim::{Sim, SimConfig};

pub const BIZ: &str = SimConfig::DEFAULT_NUMBER;
pub const CUSTOMER: &str = "+15125550123";
pub const CELL: &str = "+15125550199";
pub const DESK: &str = "+15125550198";

/// Generous bound for things that happen within milliseconds; only hit if the sim is broken.
pub const PATIENCE: Duration = Duration::from_secs(10);

#[derive(Debug)]
pub struct Harness {
    pub sim: Sim,
    pub http: Client,
}

pub async fn start() -> Harness {
    start_with(SimConfig::default()).await
}

pub async fn start_with(cfg: SimConfig) -> Harness {
    let sim = Sim::start(cfg)
        .await
        .expect("the sim binds a loopback port");
    let http = Client::builder()
        .timeout(PATIENCE)
        .build()
        .expect("a plain reqwest client builds");
    Harness { sim, http }
}

impl Harness {
    /// Absolute URL of a path under this account, e.g. `/Calls.json`.
    pub fn api(&self, rel: &str) -> String {
        format!(
            "{}/2010-04-01/Accounts/{}{}",
            self.sim.base_url(),
            self.sim.account_sid(),
            rel
        )
    }

    /// GET an account-relative path with the auth token.
    pub async fn get(&self, rel: &str) -> Response {
        self.get_url(&self.api(rel)).await
    }

    /// GET a server-relative path (like a `next_page_uri`) with the auth token.
    pub async fn get_path(&self, path: &str) -> Response {
        self.get_url(&format!("{}{}", self.sim.base_url(), path))
            .await
    }

    async fn get_url(&self, url: &str) -> Response {
        self.http
            .get(url)
            .basic_auth(self.sim.account_sid(), Some(self.sim.auth_token()))
            .send()
            .await
            .expect("the sim answers")
    }

    pub async fn get_json(&self, rel: &str) -> (StatusCode, Value) {
        json_of(self.get(rel).await).await
    }

    pub async fn send_form(&self, form: &[(&str, &str)]) -> (StatusCode, Value) {
        let resp = self
            .http
            .post(self.api("/Messages.json"))
            .basic_auth(self.sim.account_sid(), Some(self.sim.auth_token()))
            .form(form)
            .send()
            .await
            .expect("the sim answers");
        json_of(resp).await
    }

    pub async fn send_sms(&self, from: &str, to: &str, body: &str) -> (StatusCode, Value) {
        self.send_form(&[("From", from), ("To", to), ("Body", body)])
            .await
    }

    /// Every item of a list, following `next_page_uri` to the end; also returns the pages.
    pub async fn list_all(&self, rel: &str, key: &str) -> (Vec<Value>, Vec<Value>) {
        let (status, mut page) = self.get_json(rel).await;
        assert_eq!(status, StatusCode::OK, "listing {rel} must succeed: {page}");
        let mut items = Vec::new();
        let mut pages = Vec::new();
        loop {
            items.extend(
                page[key]
                    .as_array()
                    .expect("list envelope has the items array")
                    .iter()
                    .cloned(),
            );
            let next = page["next_page_uri"].as_str().map(str::to_owned);
            pages.push(page);
            let Some(next) = next else { break };
            assert!(
                next.starts_with("/2010-04-01/"),
                "Twilio page URIs are relative paths: {next}"
            );
            let (status, p) = json_of(self.get_path(&next).await).await;
            assert_eq!(
                status,
                StatusCode::OK,
                "following next_page_uri must succeed: {p}"
            );
            page = p;
            assert!(pages.len() < 100, "paging must end");
        }
        (items, pages)
    }
}

pub async fn json_of(resp: Response) -> (StatusCode, Value) {
    let status = resp.status();
    let text = resp.text().await.expect("the body arrives");
    let value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("body must be JSON ({e}): {text:?}"));
    (status, value)
}

pub fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .expect("a JSON object")
        .keys()
        .cloned()
        .collect()
}

pub fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

/// Asserts a Twilio error body with this code and HTTP status.
pub fn assert_twilio_error(
    status: StatusCode,
    body: &Value,
    want_status: u16,
    code: u64,
    why: &str,
) {
    assert_eq!(
        status.as_u16(),
        want_status,
        "{why}: HTTP status; body {body}"
    );
    assert_eq!(body["code"], code, "{why}: Twilio error code; body {body}");
    assert_eq!(
        body["status"], want_status,
        "{why}: the body repeats the HTTP status"
    );
    assert_eq!(
        body["more_info"],
        format!("https://www.twilio.com/docs/errors/{code}"),
        "{why}: more_info links the error page"
    );
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{why}: a message explains it"
    );
}
