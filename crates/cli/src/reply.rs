//! `textback reply --to NUMBER "message"`: queue a text to a customer from the command line.
//!
//! The message goes into the configured database's outbox through the engine's own
//! [`Engine::start_conversation`] (the path the desktop app's reply box takes): the opt-out check
//! and the outbox row are one `IMMEDIATE` transaction, so this works while a daemon is running on
//! the same file (SQLite WAL), and the daemon's sender sends it on its next step. Nothing is sent
//! from this process.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use textback_domain::{PhoneNumber, SystemClock};
use textback_engine::config::{self, Config};
use textback_engine::{Engine, credentials};
use textback_providers::twilio::TwilioClient;
use textback_store::Store;

/// What `textback reply` was asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args {
    /// The customer's number as typed (parsed with the business's region).
    pub to: String,
    /// Which business number to send from; needed only when several are configured.
    pub from: Option<String>,
    /// Who wrote it, for the audit log.
    pub author: Option<String>,
    pub body: String,
}

const HOW: &str = "usage: textback [--config PATH] reply --to NUMBER [--from BUSINESS_NUMBER] [--as NAME] \"message\"";

/// Reads the arguments after `reply`: flags, then the message (words are joined with spaces;
/// `--` ends the flags, for a message starting with `-`).
pub fn parse_args(args: &mut impl Iterator<Item = String>) -> Result<Args, String> {
    let mut to = None;
    let mut from = None;
    let mut author = None;
    let mut words: Vec<String> = Vec::new();
    let mut flags_done = false;
    while let Some(a) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .filter(|v| !v.starts_with("--"))
                .ok_or_else(|| format!("{name} needs a value; {HOW}"))
        };
        match a.as_str() {
            _ if flags_done => words.push(a),
            "--" => flags_done = true,
            "--to" => to = Some(value("--to")?),
            "--from" => from = Some(value("--from")?),
            "--as" => author = Some(value("--as")?),
            "--config" | "-c" => {
                return Err(format!("put --config before the command; {HOW}"));
            }
            s if s.starts_with("--") => {
                return Err(format!("reply: unknown option {s:?}; {HOW}"));
            }
            _ => words.push(a),
        }
    }
    let to = to.ok_or_else(|| format!("reply: say who to text with --to NUMBER; {HOW}"))?;
    let body = words.join(" ");
    if body.trim().is_empty() {
        return Err(format!("reply: the message is missing; {HOW}"));
    }
    Ok(Args {
        to,
        from,
        author,
        body,
    })
}

fn env_var(k: &str) -> Option<String> {
    std::env::var(k).ok()
}

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("textback: {msg}");
    ExitCode::FAILURE
}

/// The business number to send from: `--from`, or the only configured one.
fn business_number(cfg: &Config, from: Option<&str>) -> Result<PhoneNumber, String> {
    let listed = || {
        cfg.numbers
            .iter()
            .map(|n| n.number.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match (from, cfg.numbers.as_slice()) {
        (_, []) => Err(
            "numbers: no business numbers are configured; add [[numbers]] number = \"+1...\""
                .to_owned(),
        ),
        (None, [only]) => Ok(only.number.clone()),
        (None, _) => Err(format!(
            "several business numbers are configured ({}); choose one with --from",
            listed()
        )),
        (Some(raw), numbers) => {
            let wanted =
                PhoneNumber::parse(raw, cfg.business.region).map_err(|e| format!("--from: {e}"))?;
            numbers
                .iter()
                .find(|n| n.number == wanted)
                .map(|n| n.number.clone())
                .ok_or_else(|| {
                    format!(
                        "--from: {wanted} is not one of this business's numbers ({})",
                        listed()
                    )
                })
        }
    }
}

pub fn run(flag: Option<&Path>, args: &Args) -> ExitCode {
    let path = config::resolve_path(flag, &env_var);
    let cfg = match Config::load(&path, &env_var) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    let from = match business_number(&cfg, args.from.as_deref()) {
        Ok(n) => n,
        Err(e) => return fail(e),
    };
    let (auth, _) = match credentials::load(&env_var) {
        Ok(a) => a,
        Err(e) => return fail(e),
    };
    let account = auth.account_sid().to_owned();
    let db = cfg.data_dir().join(format!("textback-{account}.db"));
    // NOTE: opening would create an empty database; a reply queued there would never be seen
    // by the daemon that watches the real one (a typo in the data dir, another account).
    if !db.exists() {
        return fail(format!(
            "no Textback database at {}: start `textback daemon` once with this config first (or check engine.data_dir / TEXTBACK_DATA_DIR and the account)",
            db.display()
        ));
    }
    let store = match Store::open(&db) {
        Ok(s) => Arc::new(s),
        Err(e) => return fail(e),
    };
    // The engine wants a provider; this one is never asked anything (the daemon sends).
    let client = match TwilioClient::new(
        &cfg.provider.api_base,
        auth,
        cfg.provider.request_timeout.as_std(),
    ) {
        Ok(c) => c,
        Err(e) => return fail(format!("provider.api_base: {e}")),
    };
    let engine = Engine::new(
        Arc::new(cfg),
        store,
        Arc::new(client),
        Arc::new(SystemClock),
        &account,
    );
    let author = args.author.as_deref().unwrap_or("textback reply");
    match engine.start_conversation(&from, &args.to, &args.body, Some(author)) {
        Ok(conversation_id) => {
            println!(
                "Queued from {from} (conversation {conversation_id}); a running `textback daemon` or desktop app on this database sends it within a few seconds."
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(format!("the reply was not queued: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(a: &[&str]) -> Result<Args, String> {
        parse_args(&mut a.iter().map(|s| s.to_string()))
    }

    #[test]
    fn reads_flags_and_joins_the_message_words() {
        let a = parse(&["--to", "+15551234567", "On", "our", "way"]).unwrap();
        assert_eq!(a.to, "+15551234567");
        assert_eq!(
            a.body, "On our way",
            "an unquoted message is still one text"
        );
        let a = parse(&[
            "--as",
            "Sam",
            "--from",
            "+15005550006",
            "--to",
            "x",
            "--",
            "-5%",
        ])
        .unwrap();
        assert_eq!(
            (a.author.as_deref(), a.from.as_deref(), a.body.as_str()),
            (Some("Sam"), Some("+15005550006"), "-5%"),
            "after -- a message may start with a dash"
        );
    }

    #[test]
    fn a_missing_recipient_or_message_is_a_usage_error_not_a_guess() {
        assert!(
            parse(&["hello"]).unwrap_err().contains("--to"),
            "no recipient: say which flag is missing"
        );
        assert!(parse(&["--to", "+15551234567"]).is_err(), "no message");
        assert!(
            parse(&["--to", "+15551234567", "  "]).is_err(),
            "a blank message"
        );
        assert!(
            parse(&["--to", "--as", "Sam", "hi"]).is_err(),
            "a flag is not taken as the value of another"
        );
        assert!(parse(&["--tо", "+1", "hi"]).is_err(), "an unknown option");
        assert!(
            parse(&["--to", "+15551234567", "--config", "x", "hi"])
                .unwrap_err()
                .contains("before the command"),
            "--config after the command says where it goes"
        );
    }
}
