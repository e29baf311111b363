//! Where the provider credentials come from: the `TEXTBACK_TWILIO_*` environment variables
//! (a headless install), else the OS keychain (Secret Service, macOS Keychain, Windows
//! Credential Manager). Never the config file, SQLite or logs.
//!
//! With credentials in the environment the keychain is never touched: a headless box may have
//! no keychain at all.

use textback_providers::Secret;
use textback_providers::twilio::TwilioAuth;

use crate::config::env;

/// The keychain service name every entry is stored under.
pub const KEYCHAIN_SERVICE: &str = "textback";
const ENTRY: &str = "twilio";

#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    #[error(
        "no phone provider credentials: connect your provider in the app, or set {} and {} (or {} and {})",
        env::ACCOUNT_SID,
        env::AUTH_TOKEN,
        env::API_KEY_SID,
        env::API_KEY_SECRET
    )]
    Missing,
    #[error("{0}")]
    Incomplete(String),
    #[error("the OS keychain is not available: {0}")]
    Keychain(String),
    #[error("the credentials stored in the OS keychain are damaged; connect your provider again")]
    Damaged,
}

/// Where the credentials in use came from (shown by `textback doctor`, never the values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Environment,
    Keychain,
}

/// Reads credentials from the environment if any `TEXTBACK_TWILIO_*` credential variable is
/// set, else from the keychain.
pub fn load(
    vars: &dyn Fn(&str) -> Option<String>,
) -> Result<(TwilioAuth, Source), CredentialsError> {
    if let Some(auth) = from_env(vars)? {
        return Ok((auth, Source::Environment));
    }
    Ok((
        from_keychain()?.ok_or(CredentialsError::Missing)?,
        Source::Keychain,
    ))
}

/// The credentials in the environment, or None when no credential variable is set.
pub fn from_env(
    vars: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<TwilioAuth>, CredentialsError> {
    let get = |k: &str| {
        vars(k)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let (sid, token, key, secret) = (
        get(env::ACCOUNT_SID),
        get(env::AUTH_TOKEN),
        get(env::API_KEY_SID),
        get(env::API_KEY_SECRET),
    );
    if sid.is_none() && token.is_none() && key.is_none() && secret.is_none() {
        return Ok(None);
    }
    let Some(account_sid) = sid else {
        return Err(CredentialsError::Incomplete(format!(
            "{} is set but {} is not",
            if token.is_some() {
                env::AUTH_TOKEN
            } else {
                env::API_KEY_SID
            },
            env::ACCOUNT_SID
        )));
    };
    match (token, key, secret) {
        (Some(t), _, _) => Ok(Some(TwilioAuth::AuthToken {
            account_sid,
            auth_token: Secret::new(t),
        })),
        (None, Some(key_sid), Some(s)) => Ok(Some(TwilioAuth::ApiKey {
            account_sid,
            key_sid,
            key_secret: Secret::new(s),
        })),
        _ => Err(CredentialsError::Incomplete(format!(
            "{} is set; also set {} (or {} and {})",
            env::ACCOUNT_SID,
            env::AUTH_TOKEN,
            env::API_KEY_SID,
            env::API_KEY_SECRET
        ))),
    }
}

fn entry() -> Result<keyring::Entry, CredentialsError> {
    keyring::Entry::new(KEYCHAIN_SERVICE, ENTRY)
        .map_err(|e| CredentialsError::Keychain(e.to_string()))
}

/// The stored form: one keychain secret holding a small JSON object (the account SID is not
/// secret, but keeping it with its token keeps the pair consistent).
fn encode(auth: &TwilioAuth) -> String {
    let v = match auth {
        TwilioAuth::AuthToken {
            account_sid,
            auth_token,
        } => {
            serde_json::json!({"kind": "auth_token", "account_sid": account_sid, "secret": auth_token.expose()})
        }
        TwilioAuth::ApiKey {
            account_sid,
            key_sid,
            key_secret,
        } => serde_json::json!({
            "kind": "api_key", "account_sid": account_sid, "key_sid": key_sid, "secret": key_secret.expose()
        }),
    };
    v.to_string()
}

fn decode(text: &str) -> Option<TwilioAuth> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    let field = |name: &str| v.get(name)?.as_str().map(str::to_owned);
    let account_sid = field("account_sid")?;
    let secret = Secret::new(field("secret")?);
    match field("kind")?.as_str() {
        "auth_token" => Some(TwilioAuth::AuthToken {
            account_sid,
            auth_token: secret,
        }),
        "api_key" => Some(TwilioAuth::ApiKey {
            account_sid,
            key_sid: field("key_sid")?,
            key_secret: secret,
        }),
        _ => None,
    }
}

pub fn from_keychain() -> Result<Option<TwilioAuth>, CredentialsError> {
    match entry()?.get_password() {
        Ok(text) => decode(&text).map(Some).ok_or(CredentialsError::Damaged),
        Err(keyring::Error::NoEntry) => Ok(None),
        Err(e) => Err(CredentialsError::Keychain(e.to_string())),
    }
}

pub fn save_to_keychain(auth: &TwilioAuth) -> Result<(), CredentialsError> {
    entry()?
        .set_password(&encode(auth))
        .map_err(|e| CredentialsError::Keychain(e.to_string()))
}

pub fn delete_from_keychain() -> Result<(), CredentialsError> {
    match entry()?.delete_credential() {
        Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
        Err(e) => Err(CredentialsError::Keychain(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn environment_wins_and_an_empty_environment_defers_to_the_keychain() {
        let auth = from_env(&vars(&[
            (env::ACCOUNT_SID, "ACx"),
            (env::AUTH_TOKEN, "tok"),
        ]))
        .unwrap();
        assert!(
            matches!(auth, Some(TwilioAuth::AuthToken { .. })),
            "sid + token is a complete credential"
        );
        let key = from_env(&vars(&[
            (env::ACCOUNT_SID, "ACx"),
            (env::API_KEY_SID, "SKx"),
            (env::API_KEY_SECRET, "s"),
        ]))
        .unwrap();
        assert!(
            matches!(key, Some(TwilioAuth::ApiKey { .. })),
            "sid + API key pair is a complete credential"
        );
        assert!(
            from_env(&vars(&[])).unwrap().is_none(),
            "no variables: the keychain is asked instead"
        );
    }

    #[test]
    fn half_a_credential_in_the_environment_is_a_clear_error() {
        let err = from_env(&vars(&[(env::AUTH_TOKEN, "tok")])).unwrap_err();
        assert!(
            err.to_string().contains(env::ACCOUNT_SID),
            "the message names the missing variable: {err}"
        );
        let err = from_env(&vars(&[
            (env::ACCOUNT_SID, "ACx"),
            (env::API_KEY_SID, "SKx"),
        ]))
        .unwrap_err();
        assert!(
            err.to_string().contains(env::AUTH_TOKEN),
            "the message says what else to set: {err}"
        );
    }

    #[test]
    fn stored_form_round_trips_and_garbage_is_damaged_not_a_panic() {
        let a = TwilioAuth::ApiKey {
            account_sid: "ACx".into(),
            key_sid: "SKy".into(),
            key_secret: Secret::new("s=e\\cret\nkind=auth_token"),
        };
        let back = decode(&encode(&a)).expect("what we store we can read");
        assert_eq!(
            encode(&back),
            encode(&a),
            "every field survives the round trip"
        );
        assert!(decode("nonsense").is_none());
        assert!(decode(r#"{"kind":"other","account_sid":"x","secret":"y"}"#).is_none());
    }
}
