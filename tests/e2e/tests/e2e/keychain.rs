//! Credentials through the real Secret Service (gnome-keyring, unlocked by scripts/e2e.sh):
//! they round-trip, another process sees them, the environment wins without touching them, and
//! they never reach the database, the config file or the logs.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use textback_e2e::require_session;
use textback_engine::config::env;
use textback_engine::credentials::{self, KEYCHAIN_SERVICE, Source};
use textback_providers::Secret;
use textback_providers::twilio::TwilioAuth;

/// The tests share the one keychain entry; they take turns.
static ENTRY: Mutex<()> = Mutex::new(());

const ACCOUNT: &str = "ACfeedfacefeedfacefeedfacefeedface";

fn api_key(secret: &str) -> TwilioAuth {
    TwilioAuth::ApiKey {
        account_sid: ACCOUNT.into(),
        key_sid: "SKfedcba0987654321fedcba0987654321".into(),
        key_secret: Secret::new(secret),
    }
}

fn secret_of(a: &TwilioAuth) -> String {
    match a {
        TwilioAuth::AuthToken { auth_token, .. } => auth_token.expose().to_owned(),
        TwilioAuth::ApiKey { key_secret, .. } => key_secret.expose().to_owned(),
    }
}

/// What another process (`secret-tool`) finds under the app's service and user, if anything.
fn secret_tool_lookup() -> Option<String> {
    let output = std::process::Command::new("secret-tool")
        .args(["lookup", "service", KEYCHAIN_SERVICE, "username", "twilio"])
        .output()
        .expect("secret-tool runs (apt: libsecret-tools)");
    let found = String::from_utf8_lossy(&output.stdout).into_owned();
    (output.status.success() && !found.is_empty()).then_some(found)
}

#[test]
fn credentials_round_trip_through_the_keychain() {
    require_session!();
    let _turn = ENTRY.lock().unwrap_or_else(|p| p.into_inner());
    credentials::save_to_keychain(&api_key("first-secret")).expect("save");
    let loaded = credentials::from_keychain()
        .expect("load")
        .expect("saved credentials are found");
    assert_eq!(
        secret_of(&loaded),
        "first-secret",
        "what is saved to the Secret Service loads back unchanged"
    );
    assert_eq!(loaded.account_sid(), ACCOUNT);
    let seen = secret_tool_lookup().expect("secret-tool must see the entry Textback saved");
    assert!(
        seen.contains("first-secret"),
        "another process reads the same entry"
    );

    credentials::save_to_keychain(&api_key("second-secret")).expect("overwrite");
    let again = credentials::from_keychain().unwrap().unwrap();
    assert_eq!(
        secret_of(&again),
        "second-secret",
        "saving again replaces the entry"
    );

    credentials::delete_from_keychain().expect("delete");
    assert!(
        credentials::from_keychain().unwrap().is_none(),
        "deleted credentials are gone"
    );
    assert!(
        secret_tool_lookup().is_none(),
        "and gone for other processes too"
    );
    credentials::delete_from_keychain().expect("deleting nothing is not an error");
}

#[test]
fn environment_credentials_win_over_the_keychain() {
    require_session!();
    let _turn = ENTRY.lock().unwrap_or_else(|p| p.into_inner());
    credentials::save_to_keychain(&api_key("keychain-secret")).expect("save");
    let vars = |k: &str| match k {
        env::ACCOUNT_SID => Some("ACenv0000000000000000000000000000".to_owned()),
        env::AUTH_TOKEN => Some("env-token".to_owned()),
        _ => None,
    };
    let (auth, source) = credentials::load(&vars).expect("load");
    assert_eq!(
        source,
        Source::Environment,
        "TEXTBACK_TWILIO_* variables win"
    );
    assert_eq!(secret_of(&auth), "env-token");
    credentials::delete_from_keychain().expect("clean up");
}

#[test]
fn a_live_desk_keeps_the_secret_out_of_the_database_config_and_logs() {
    require_session!();
    let _turn = ENTRY.lock().unwrap_or_else(|p| p.into_inner());
    let secret = "kc-secret-7f3a9b2c1d";
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let sim = textback_sim::Sim::start(textback_sim::SimConfig {
            auth_token: secret.into(),
            ..Default::default()
        })
        .await
        .unwrap();
        credentials::save_to_keychain(&TwilioAuth::AuthToken {
            account_sid: sim.account_sid().into(),
            auth_token: Secret::new(secret),
        })
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("textback.toml");
        std::fs::write(&config, "[[numbers]]\nnumber = \"+15005550006\"\n").unwrap();
        let data = dir.path().join("data");
        let (base, data_s) = (sim.base_url(), data.display().to_string());
        let vars: textback_app::Vars = Arc::new(move |k| match k {
            env::API_BASE => Some(base.clone()),
            env::DATA_DIR => Some(data_s.clone()),
            _ => None,
        });
        let desk = textback_app::Desk::start(textback_app::DeskOptions {
            config_path: config.clone(),
            vars,
            desk_user: "e2e".into(),
        })
        .await
        .expect("credentials from the keychain start a live desk");
        assert_eq!(
            desk.mode().await,
            textback_app::dto::Mode::Live,
            "keychain credentials + a number: live mode"
        );
        // One missed call after the first sync (earlier calls are history), texted back
        // through the keychain credentials.
        tokio::time::timeout(Duration::from_secs(30), desk.wait_synced())
            .await
            .expect("the first sync completes");
        let mut events = desk.subscribe();
        sim.place_call(textback_sim::CallScript::inbound(
            "+15125550188",
            "+15005550006",
            Some(Duration::from_millis(100)),
            vec![textback_sim::LegScript::no_answer("+15125550100")],
        ));
        tokio::time::timeout(Duration::from_secs(30), async {
            while let Ok(e) = events.recv().await {
                if matches!(e, textback_engine::DomainEvent::TextBackSent { .. }) {
                    break;
                }
            }
        })
        .await
        .expect("the live desk texts back with the keychain's credentials");
        desk.shutdown().await;
        let mut leaked = Vec::new();
        for entry in walk(dir.path()) {
            let bytes = std::fs::read(&entry).unwrap_or_default();
            if bytes.windows(secret.len()).any(|w| w == secret.as_bytes()) {
                leaked.push(entry);
            }
        }
        assert!(
            leaked.is_empty(),
            "the secret must never be written to the database, config or logs: {leaked:?}"
        );
        sim.shutdown().await;
    });
    credentials::delete_from_keychain().expect("clean up");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
