use textback_providers::twilio::{TwilioAuth, TwilioClient};
use textback_providers::{Provider, ProviderError, Secret};
use textback_sim::{Fault, Route, Sim, SimConfig};

use crate::support::{TIMEOUT, client, sim, token_auth};

#[tokio::test]
async fn auth_token_credentials_are_accepted() {
    let sim = sim().await;
    let info = client(&sim)
        .check_credentials()
        .await
        .expect("the sim's own SID and token must authenticate");
    assert_eq!(
        info.sid,
        sim.account_sid(),
        "the account answering is the one configured"
    );
    assert_eq!(info.status, "active", "a fresh sim account is active");
    sim.shutdown().await;
}

#[tokio::test]
async fn api_key_credentials_are_accepted_with_the_account_sid_in_the_path() {
    let sim = sim().await;
    let auth = TwilioAuth::ApiKey {
        account_sid: sim.account_sid().to_owned(),
        key_sid: SimConfig::DEFAULT_API_KEY_SID.to_owned(),
        key_secret: Secret::new(SimConfig::DEFAULT_API_KEY_SECRET),
    };
    let client = TwilioClient::new(&sim.base_url(), auth, TIMEOUT).expect("valid config");
    let info = client
        .check_credentials()
        .await
        .expect("an API key of the account must authenticate");
    assert_eq!(
        info.sid,
        sim.account_sid(),
        "the path carries the account SID, not the key"
    );
    let numbers = client
        .list_numbers()
        .await
        .expect("an API key can list numbers");
    assert!(
        !numbers.is_empty(),
        "the sim account owns its default number"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn wrong_credentials_are_auth_errors_that_do_not_echo_the_secret() {
    let sim = sim().await;
    let wrong_token = TwilioAuth::AuthToken {
        account_sid: sim.account_sid().to_owned(),
        auth_token: Secret::new("definitely-wrong-token"),
    };
    let client = TwilioClient::new(&sim.base_url(), wrong_token, TIMEOUT).expect("valid config");
    let err = client
        .check_credentials()
        .await
        .expect_err("a wrong token must not authenticate");
    assert!(
        matches!(err, ProviderError::Auth { .. }),
        "401/20003 is Auth, got {err:?}"
    );
    assert!(
        !err.is_retry_safe(),
        "retrying bad credentials only risks a lockout"
    );
    assert!(
        !err.to_string().contains("definitely-wrong-token"),
        "the error text may be shown or logged and must not carry the token: {err}"
    );

    let wrong_key = TwilioAuth::ApiKey {
        account_sid: sim.account_sid().to_owned(),
        key_sid: SimConfig::DEFAULT_API_KEY_SID.to_owned(),
        key_secret: Secret::new("wrong-key-secret"),
    };
    let client = TwilioClient::new(&sim.base_url(), wrong_key, TIMEOUT).expect("valid config");
    let err = client
        .list_numbers()
        .await
        .expect_err("a wrong key secret must not authenticate");
    assert!(
        matches!(err, ProviderError::Auth { .. }),
        "wrong API key is Auth, got {err:?}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn revoked_credentials_mid_session_are_auth_errors() {
    let sim = sim().await;
    let client = client(&sim);
    client
        .check_credentials()
        .await
        .expect("works before the fault");
    sim.inject(Route::Account, vec![Fault::Auth]);
    let err = client
        .check_credentials()
        .await
        .expect_err("the injected 401 must surface");
    assert!(
        matches!(err, ProviderError::Auth { .. }),
        "injected 20003 is Auth, got {err:?}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn owned_numbers_are_listed_with_sms_capability() {
    let cfg = SimConfig {
        numbers: vec![
            SimConfig::DEFAULT_NUMBER.to_owned(),
            "+15005550007".to_owned(),
        ],
        ..SimConfig::default()
    };
    let sim = Sim::start(cfg).await.expect("sim starts");
    let client = TwilioClient::new(&sim.base_url(), token_auth(&sim), TIMEOUT).expect("valid");
    let numbers = client.list_numbers().await.expect("numbers list");
    let mut phones: Vec<&str> = numbers.iter().map(|n| n.phone_number.as_str()).collect();
    phones.sort_unstable();
    assert_eq!(
        phones,
        ["+15005550006", "+15005550007"],
        "every owned number is listed exactly once"
    );
    assert!(
        numbers.iter().all(|n| n.sms_capable && !n.sid.is_empty()),
        "the sim's numbers are SMS-capable and have sids: {numbers:?}"
    );
    sim.shutdown().await;
}
