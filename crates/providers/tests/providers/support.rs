use std::time::Duration;

use chrono::{NaiveDate, Utc};
use textback_domain::PhoneNumber;
use textback_providers::Secret;
use textback_providers::twilio::{TwilioAuth, TwilioClient};
use textback_sim::{Sim, SimConfig};

/// Generous for loopback, short enough that a hang test finishes quickly.
pub const TIMEOUT: Duration = Duration::from_secs(5);

pub async fn sim() -> Sim {
    Sim::start(SimConfig::default())
        .await
        .expect("the simulator binds a loopback port")
}

pub fn token_auth(sim: &Sim) -> TwilioAuth {
    TwilioAuth::AuthToken {
        account_sid: sim.account_sid().to_owned(),
        auth_token: Secret::new(sim.auth_token()),
    }
}

pub fn client_with_timeout(sim: &Sim, timeout: Duration) -> TwilioClient {
    TwilioClient::new(&sim.base_url(), token_auth(sim), timeout)
        .expect("a loopback http base URL is a valid configuration")
}

pub fn client(sim: &Sim) -> TwilioClient {
    client_with_timeout(sim, TIMEOUT)
}

pub fn phone(e164: &str) -> PhoneNumber {
    PhoneNumber::parse_e164(e164)
        .unwrap_or_else(|e| panic!("test number {e164} must be valid E.164: {e}"))
}

/// The sim's number: Twilio's magic SMS-capable test number.
pub fn business() -> PhoneNumber {
    phone(SimConfig::DEFAULT_NUMBER)
}

/// Distinct, valid US mobile-looking numbers for customers.
pub fn customer(n: u32) -> PhoneNumber {
    phone(&format!("+1415555{:04}", 1000 + n))
}

/// A date filter that includes everything the sim creates now (day granular, UTC).
pub fn yesterday() -> NaiveDate {
    Utc::now().date_naive() - chrono::Duration::days(1)
}

pub fn tomorrow() -> NaiveDate {
    Utc::now().date_naive() + chrono::Duration::days(1)
}
