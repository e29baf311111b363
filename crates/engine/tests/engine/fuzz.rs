//! Property-based fuzzing of the settings file (TOML) and of what a hostile provider answer can
//! do to the engine's clock arithmetic.
//!
//! Config properties: any text never panics the loader; a valid file with one key given a bad
//! value is refused with an error that names the key; every valid config the app can write
//! reads back equal; every duration a valid config holds can be added to "now".
//!
//! Cases per property: 256 in CI, `PROPTEST_CASES` for a long run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{NaiveDate, Utc};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::Config as ProptestConfig;
use textback_domain::{HumanDuration, PhoneNumber, Region, Template};
use textback_engine::config::{
    AppSettings, Business, BusinessNumber, EngineSettings, ProviderSettings, Staff, TextBack,
};
use textback_engine::{Config, ConfigError, SendStep};
use textback_sim::{Fault, Route};
use textback_store::outbox;

use crate::common::{CALLER, Harness};

fn config(ci_cases: u32) -> ProptestConfig {
    let mut config = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = ci_cases;
    }
    // NOTE: tests write nothing outside temp dirs, so no proptest-regressions files.
    config.failure_persistence = None;
    config
}

fn no_env(_: &str) -> Option<String> {
    None
}

fn any_text(max: usize) -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(any::<char>(), 0..max).prop_map(|c| c.into_iter().collect()),
        proptest::string::string_regex(&format!("\\PC{{0,{max}}}")).expect("valid regex"),
    ]
}

/// The longest duration any config key accepts (config.rs `MAX_DURATION`).
const MAX_DURATION: u64 = 366 * 24 * 3600;

// ---------------------------------------------------------------------------------------------
// Valid configs, as the desktop app could write them
// ---------------------------------------------------------------------------------------------

fn duration(min: u64) -> impl Strategy<Value = HumanDuration> {
    prop_oneof![min..=(min + 3600), min..=MAX_DURATION, Just(MAX_DURATION),]
        .prop_map(HumanDuration::from_secs)
}

fn template() -> impl Strategy<Value = Template> {
    let piece = prop_oneof![
        3 => any_text(40).prop_map(|t| t.replace('{', "{{").replace('}', "}}")),
        1 => select(vec!["{first_name}", "{business_name}", "{booking_link}"]).prop_map(str::to_owned),
    ];
    prop::collection::vec(piece, 1..6)
        .prop_map(|p| p.concat())
        .prop_filter_map("a usable template", |src| Template::parse(&src).ok())
}

fn number() -> impl Strategy<Value = PhoneNumber> {
    select(vec![
        "+15005550006",
        "+14155552671",
        "+442079460018",
        "+4915112345678",
        "+61412345678",
        "+33612345678",
        "+5511987654321",
        "+61130000",
    ])
    .prop_map(|n| PhoneNumber::parse_e164(n).expect("a valid number"))
}

fn hours() -> impl Strategy<Value = BTreeMap<String, String>> {
    let day = select(vec![
        "mon",
        "tue",
        "wed",
        "thu",
        "fri",
        "sat",
        "sun",
        "Monday",
        "TUE",
        "Wednesday",
    ]);
    let spec = select(vec![
        "closed",
        "08:00-17:00",
        "00:00-24:00",
        "08:00-12:00,13:00-17:00",
        "09:30-09:31",
        " 07:00 - 19:00 ",
        "",
    ]);
    prop::collection::btree_map(
        day.prop_map(str::to_owned),
        spec.prop_map(str::to_owned),
        0..8,
    )
}

fn holiday() -> impl Strategy<Value = NaiveDate> {
    prop_oneof![(1900i32..2200, 1u32..=366), (-5000i32..20_000, 1u32..=366),]
        .prop_filter_map("a real date", |(y, d)| NaiveDate::from_yo_opt(y, d))
}

fn valid_config() -> impl Strategy<Value = Config> {
    let business = (
        any_text(60).prop_filter("not blank", |n| !n.trim().is_empty()),
        prop_oneof![
            Just(String::new()),
            any_text(60).prop_map(|t| format!("https://{t}"))
        ],
        select(vec!["US", "CA", "GB", "AU", "DE"])
            .prop_map(|r| Region::parse(r).expect("a region")),
        select(vec![
            "America/New_York",
            "Europe/London",
            "Australia/Lord_Howe",
            "UTC",
            "Asia/Kathmandu",
        ]),
        hours(),
        prop::collection::vec(holiday(), 0..4),
    )
        .prop_map(
            |(name, booking_link, region, tz, hours, holidays)| Business {
                name,
                booking_link,
                region,
                time_zone: tz.to_owned(),
                hours,
                holidays,
            },
        );
    let numbers = prop::collection::btree_map(
        number().prop_map(|n| n.as_str().to_owned()),
        any::<bool>(),
        0..4,
    )
    .prop_map(|m| {
        m.into_iter()
            .map(|(n, ivr)| BusinessNumber {
                number: PhoneNumber::parse_e164(&n).expect("valid"),
                answered_by_ivr: ivr,
            })
            .collect::<Vec<_>>()
    });
    let textback = (
        template(),
        template(),
        template(),
        duration(0),
        duration(0),
        duration(0),
        duration(0),
    )
        .prop_map(|(b, a, l, dedupe, grace, fresh, answered)| TextBack {
            business_hours_template: b,
            after_hours_template: a,
            late_template: l,
            dedupe_window: dedupe,
            grace_window: grace,
            freshness_limit: fresh,
            answered_min_duration: answered,
        });
    let provider = (
        prop_oneof![
            Just("https://api.twilio.com".to_owned()),
            "[a-z0-9.-]{1,30}".prop_map(|h| format!("https://{h}")),
            (1u16..).prop_map(|p| format!("http://127.0.0.1:{p}")),
            Just("http://[::1]:8080".to_owned()),
            Just("http://localhost".to_owned()),
        ],
        duration(1),
    )
        .prop_map(|(api_base, request_timeout)| ProviderSettings {
            kind: "twilio".to_owned(),
            api_base,
            request_timeout,
        });
    let engine = (
        any::<bool>(),
        duration(1),
        prop::option::of(any_text(40).prop_map(PathBuf::from)),
    )
        .prop_map(|(responder, poll_interval, data_dir)| EngineSettings {
            responder,
            poll_interval,
            data_dir,
        });
    // The roster refuses a nameless member and two with one name (or one phone): each member
    // gets a distinct name after the generated one, and a phone only if not taken.
    let staff = prop::collection::vec((any_text(30), prop::option::of(number())), 0..3).prop_map(
        |members| {
            let mut taken = Vec::new();
            members
                .into_iter()
                .enumerate()
                .map(|(i, (name, phone))| {
                    let phone = phone.filter(|p| !taken.contains(p));
                    taken.extend(phone.clone());
                    Staff {
                        name: format!("{} {i}", name.trim()).trim().to_owned(),
                        phone,
                        role: Default::default(),
                        desk: None,
                    }
                })
                .collect::<Vec<_>>()
        },
    );
    let app = (
        duration(0),
        prop::collection::vec(any_text(80), 0..4),
        any::<bool>(),
    )
        .prop_map(
            |(alert_repeat, canned_replies, launch_at_login)| AppSettings {
                alert_repeat,
                canned_replies,
                launch_at_login,
            },
        );
    (business, numbers, textback, provider, engine, staff, app).prop_map(
        |(business, numbers, textback, provider, engine, staff, app)| Config {
            business,
            numbers,
            textback,
            provider,
            engine,
            staff,
            app,
            env_locked: Vec::new(),
            ..Config::default()
        },
    )
}

// ---------------------------------------------------------------------------------------------
// Mutations: one key of a valid file given a value it must refuse
// ---------------------------------------------------------------------------------------------

/// Keys whose every value of the wrong kind must be refused, as (section, key).
const KEYS: &[(&str, &str)] = &[
    ("business", "name"),
    ("business", "booking_link"),
    ("business", "region"),
    ("business", "time_zone"),
    ("business", "hours"),
    ("business", "holidays"),
    ("business.hours", "mon"),
    ("business.hours", "sun"),
    ("textback", "business_hours_template"),
    ("textback", "after_hours_template"),
    ("textback", "late_template"),
    ("textback", "dedupe_window"),
    ("textback", "grace_window"),
    ("textback", "freshness_limit"),
    ("textback", "answered_min_duration"),
    ("provider", "kind"),
    ("provider", "api_base"),
    ("provider", "request_timeout"),
    ("engine", "responder"),
    ("engine", "poll_interval"),
    ("app", "alert_repeat"),
    ("app", "canned_replies"),
    ("app", "launch_at_login"),
    ("numbers", "number"),
    ("numbers", "answered_by_ivr"),
    ("staff", "name"),
    ("staff", "phone"),
];

/// Values that break a key: wrong TOML types, and strings each key must refuse.
fn bad_value() -> impl Strategy<Value = toml::Value> {
    use toml::Value;
    prop_oneof![
        any::<i64>().prop_map(Value::Integer),
        prop_oneof![any::<f64>(), Just(f64::NAN), Just(f64::INFINITY)].prop_map(Value::Float),
        any::<bool>().prop_map(Value::Boolean),
        Just(Value::Array(vec![
            Value::Integer(1),
            Value::String("x".into())
        ])),
        Just(Value::Table(toml::Table::from_iter([(
            "x".to_owned(),
            Value::Integer(1)
        )]))),
        Just(Value::Datetime(
            "1979-05-27T07:32:00Z".parse().expect("a TOML datetime")
        )),
        select(vec![
            "",
            " ",
            "-1s",
            "1h1h",
            "30m1h",
            "5x",
            "99999999999999999999d",
            "367d",
            "1000000000d",
            "{oops}",
            "{",
            "}",
            "+1555",
            "555-0100",
            "ZZ",
            "Mars/Olympus",
            "25:00-26:00",
            "17:00-08:00",
            "08:00-12:00,11:00-13:00",
            "ftp://x",
            "http://10.0.0.1",
            "https://",
            "sms",
            "0s",
        ])
        .prop_map(|s| Value::String(s.to_owned())),
    ]
}

/// Puts `value` at `section.key` of a config's TOML table (into the first array element
/// for `numbers`/`staff`).
fn set(table: &mut toml::Table, section: &str, key: &str, value: toml::Value) -> bool {
    let mut at = &mut *table;
    for part in section.split('.') {
        let entry = at
            .entry(part.to_owned())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        let next = match entry {
            toml::Value::Table(t) => t,
            toml::Value::Array(items) => match items.first_mut() {
                Some(toml::Value::Table(t)) => t,
                _ => return false,
            },
            _ => return false,
        };
        at = next;
    }
    at.insert(key.to_owned(), value);
    true
}

/// Whether a TOML error's "at line N" falls inside `key`'s value: inside an array, toml's
/// message shows the element's line (not the key); a person finds the key just above it.
fn points_into(error: &str, text: &str, key: &str) -> bool {
    let Some(line) = error
        .split("at line ")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .and_then(|n| n.trim().parse::<usize>().ok())
    else {
        return false;
    };
    let lines: Vec<&str> = text.lines().collect();
    let above = &lines[..line.min(lines.len())];
    // The value's own key line, or (for a table value) its `[section.key]` header.
    let key_line = above
        .iter()
        .rev()
        .find(|l| !l.starts_with(char::is_whitespace) && !l.trim_start().starts_with(']'))
        .is_some_and(|l| l.starts_with(&format!("{key} =")));
    let header = above
        .iter()
        .rev()
        .find(|l| l.starts_with('['))
        .is_some_and(|l| {
            l.trim_matches(['[', ']'])
                .split('.')
                .any(|part| part == key)
        });
    key_line || header
}

fn to_toml(config: &Config) -> toml::Table {
    toml::Table::try_from(config).expect("a valid config serializes")
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn any_text_is_read_or_refused_never_a_panic(text in prop_oneof![
        any_text(400),
        // TOML-ish soup: sections, keys, quotes and brackets.
        "(\\[{1,2}[a-z.]{0,12}\\]{0,2}\n|[a-z_]{1,12} ?= ?(\"[^\"\n]{0,20}\"?|[0-9.e+-]{1,8}|\\[|\\{|true)\n){0,12}",
    ]) {
        match Config::from_toml(&text, Path::new("fuzz.toml")) {
            Ok(config) => prop_assert!(config.validate().is_ok(), "an accepted file is a valid config"),
            Err(ConfigError::Parse { message, .. }) => prop_assert!(!message.is_empty(), "a parse error says why"),
            Err(ConfigError::Invalid { field, message }) => {
                prop_assert!(!field.is_empty() && !message.is_empty(), "an invalid value names its key and says why");
            }
            Err(other) => return Err(TestCaseError::fail(format!("reading text never does I/O: {other:?}"))),
        }
    }

    #[test]
    fn a_bad_value_is_refused_with_an_error_that_names_its_key(
        valid in valid_config(), (section, key) in select(KEYS.to_vec()), value in bad_value(),
    ) {
        let mut table = to_toml(&valid);
        if !set(&mut table, section, key, value.clone()) {
            // `numbers`/`staff` empty in this config: nothing to break.
            return Ok(());
        }
        let text = toml::to_string_pretty(&table).expect("a TOML table serializes");
        match Config::from_toml(&text, Path::new("fuzz.toml")) {
            Ok(config) => {
                // Some "bad" values are fine for some keys (a bool for a bool, "0s" for a window).
                prop_assert!(config.validate().is_ok(), "an accepted file is a valid config");
            }
            Err(e) => {
                let shown = e.to_string();
                prop_assert!(
                    shown.contains(key) || points_into(&shown, &text, key),
                    "setting {}.{} = {} was refused without naming the key: {}",
                    section, key, value, shown
                );
            }
        }
    }

    #[test]
    fn an_unknown_key_is_refused_by_name(valid in valid_config(), section in select(vec!["", "business", "textback", "provider", "engine", "app"]), key in "[a-z]{3,12}_[a-z]{2,8}") {
        let mut table = to_toml(&valid);
        let placed = if section.is_empty() {
            table.insert(key.clone(), toml::Value::Integer(1)).is_none()
        } else {
            set(&mut table, section, &key, toml::Value::Integer(1))
        };
        prop_assume!(placed);
        let text = toml::to_string_pretty(&table).expect("a TOML table serializes");
        let result = Config::from_toml(&text, Path::new("fuzz.toml"));
        prop_assert!(
            matches!(&result, Err(e) if e.to_string().contains(&key)),
            "a misspelt key must be refused by name, not ignored: {:?}", result
        );
    }
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn a_config_the_app_saves_reads_back_equal(valid in valid_config()) {
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = dir.path().join("textback.toml");
        let saved = valid.save(&path);
        prop_assert!(saved.is_ok(), "a valid config saves: {:?}", saved);
        let loaded = Config::load(&path, &no_env);
        prop_assert_eq!(loaded.as_ref().ok(), Some(&valid), "what the app writes it reads back: {:?}", loaded.as_ref().err());
    }

    #[test]
    fn every_duration_a_valid_config_holds_can_be_added_to_now(text in duration_keys()) {
        let Ok(config) = Config::from_toml(&text, Path::new("fuzz.toml")) else { return Ok(()) };
        let durations = [
            config.textback.dedupe_window,
            config.textback.grace_window,
            config.textback.freshness_limit,
            config.textback.answered_min_duration,
            config.provider.request_timeout,
            config.engine.poll_interval,
            config.app.alert_repeat,
        ];
        for d in durations {
            // What the engine and app do with them: sleep until `now + d` (doubled a few
            // times when offline), and date arithmetic on the UTC clock.
            prop_assert!(d.as_std().checked_mul(64).and_then(|d| Instant::now().checked_add(d)).is_some(),
                "{} cannot be added to the monotonic clock", d);
            prop_assert!(Utc::now().checked_add_signed(d.as_chrono()).is_some(), "{} overflows the UTC clock", d);
        }
    }
}

/// Files that set every duration key to something large or odd.
fn duration_keys() -> impl Strategy<Value = String> {
    let value = prop_oneof![
        (0u64..u64::MAX).prop_map(|s| format!("{s}s")),
        (0u64..1_000_000_000_000).prop_map(|d| format!("{d}d")),
        (0u64..10_000).prop_map(|d| format!("{d}d")),
        Just("1s".to_owned()),
    ];
    prop::collection::vec(value, 7).prop_map(|v| {
        format!(
            "[textback]\ndedupe_window = \"{}\"\ngrace_window = \"{}\"\nfreshness_limit = \"{}\"\n\
             answered_min_duration = \"{}\"\n[provider]\nrequest_timeout = \"{}\"\n\
             [engine]\npoll_interval = \"{}\"\n[app]\nalert_repeat = \"{}\"\n",
            v[0], v[1], v[2], v[3], v[4], v[5], v[6]
        )
    })
}

// ---------------------------------------------------------------------------------------------
// Regressions found by fuzzing
// ---------------------------------------------------------------------------------------------

#[test]
fn regression_a_duration_beyond_a_year_is_refused_by_name() {
    for (section, key) in [
        ("engine", "poll_interval"),
        ("textback", "dedupe_window"),
        ("app", "alert_repeat"),
        ("provider", "request_timeout"),
    ] {
        // 10^12 days: parses as a duration, but `now + it` overflowed and panicked the
        // engine's poll loop (Instant) and date arithmetic (chrono).
        let text = format!("[{section}]\n{key} = \"1000000000000d\"\n");
        let result = Config::from_toml(&text, Path::new("fuzz.toml"));
        assert!(
            matches!(&result, Err(ConfigError::Invalid { field, .. }) if field.contains(key)),
            "{section}.{key}: a duration no clock can reach is refused by name, got {result:?}"
        );
    }
    let year = "[engine]\npoll_interval = \"366d\"\n";
    assert!(
        Config::from_toml(year, Path::new("fuzz.toml")).is_ok(),
        "a year is still accepted"
    );
}

#[tokio::test]
async fn regression_a_huge_retry_after_on_a_send_does_not_crash_the_sender() {
    let h = Harness::start().await;
    let sid = h.fresh_missed_call(CALLER).await;
    // ~317,000 years: within std's Duration and chrono's TimeDelta, beyond chrono's dates.
    h.sim.inject(
        Route::MessagesCreate,
        vec![Fault::RateLimit {
            retry_after: Some(10_000_000_000_000),
        }],
    );
    let step = tokio::spawn(async move {
        let step = h.engine.send_step().await;
        (h, step)
    })
    .await;
    let (h, step) = step.expect("a provider's Retry-After must never panic the sender");
    assert!(
        matches!(step, Ok(SendStep::RetryLater)),
        "a rate-limited send is retried later: {step:?}"
    );
    let entry = h.textback_entry(&sid);
    assert_eq!(entry.state, outbox::State::Pending, "nothing is lost");
    assert!(
        entry.next_attempt_at <= h.now() + chrono::Duration::days(1),
        "the wait is capped at a day, whatever the provider asks: {entry:?}"
    );
}
