//! Property-based fuzzing of what the simulator reads from outside: scenario TOML (from a file
//! or `POST /_sim/scenario`), the control API's JSON bodies, and the Twilio list queries.
//!
//! Properties: nothing panics; an accepted scenario can be played (its times are durations and
//! the repeat tail's range can be sampled); every request gets an HTTP answer, 2xx or 4xx with
//! a JSON body, and the sim stays healthy afterwards.
//!
//! Cases per property: `CI_CASES` in CI, `PROPTEST_CASES` for a long run.

use std::time::Duration;

use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config as ProptestConfig, TestCaseError, TestRunner};
use rand::Rng;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use textback_sim::{Scenario, ScenarioEvent, Sim, SimConfig};

const CI_CASES: u32 = 128;

fn config() -> ProptestConfig {
    let mut config = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = CI_CASES;
    }
    // NOTE: tests write nothing outside temp dirs, so no proptest-regressions files.
    config.failure_persistence = None;
    config
}

fn any_text(max: usize) -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(any::<char>(), 0..max).prop_map(|c| c.into_iter().collect()),
        proptest::string::string_regex(&format!("\\PC{{0,{max}}}")).expect("valid regex"),
    ]
}

// ---------------------------------------------------------------------------------------------
// Scenario TOML
// ---------------------------------------------------------------------------------------------

/// Numbers a scenario should refuse or survive: negative, zero, tiny, huge, NaN, infinities,
/// and values a hair apart.
fn seconds() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => 0.0f64..120.0,
        1 => select(vec![
            0.0, -0.0, -1.0, 1e-300, 5e-324, 1e-9, 1.000_000_000_1, 1.0, 0.999_999_999_9, 1e15,
            1.8e19, 1e300, f64::MAX, f64::NAN, f64::INFINITY, f64::NEG_INFINITY,
        ]),
        1 => any::<f64>(),
    ]
}

fn scenario_toml() -> impl Strategy<Value = String> {
    let number = select(vec![
        "+15125550123",
        "+266696687",
        "",
        "anonymous",
        "+1",
        "🛑",
    ])
    .prop_map(str::to_owned);
    let leg = (
        number.clone(),
        select(vec![
            "no-answer",
            "answered",
            "busy",
            "canceled",
            "failed",
            "completed",
            "teleported",
            "",
        ]),
        prop::option::of(seconds()),
    )
        .prop_map(|(to, outcome, talk)| {
            let mut t = toml::Table::new();
            t.insert("to".into(), to.into());
            t.insert("outcome".into(), outcome.into());
            if let Some(talk) = talk {
                t.insert("talk_secs".into(), talk.into());
            }
            toml::Value::Table(t)
        });
    let event = prop_oneof![
        (
            seconds(),
            number.clone(),
            prop::option::of(seconds()),
            prop::collection::vec(leg, 0..3),
            any::<bool>(),
            prop::collection::vec(any_text(20), 0..2)
        )
            .prop_map(|(at, from, ring, legs, voicemail, replies)| {
                let mut t = toml::Table::new();
                t.insert("kind".into(), "call".into());
                t.insert("at_secs".into(), at.into());
                t.insert("from".into(), from.into());
                if let Some(ring) = ring {
                    t.insert("ring_secs".into(), ring.into());
                }
                t.insert("legs".into(), toml::Value::Array(legs));
                t.insert("voicemail".into(), voicemail.into());
                t.insert(
                    "replies".into(),
                    toml::Value::Array(replies.into_iter().map(Into::into).collect()),
                );
                toml::Value::Table(t)
            }),
        (seconds(), number, any_text(40)).prop_map(|(at, from, body)| {
            let mut t = toml::Table::new();
            t.insert("kind".into(), "sms".into());
            t.insert("at_secs".into(), at.into());
            t.insert("from".into(), from.into());
            t.insert("body".into(), body.into());
            toml::Value::Table(t)
        }),
    ];
    // The range's ends: independent, or a hair apart either way.
    let range = prop_oneof![
        (seconds(), seconds()),
        (0.0f64..1000.0, select(vec![1e-12, -1e-12, 1e-15]))
            .prop_map(|(max, d)| (max + max * d, max)),
    ];
    let repeat = (
        range,
        seconds(),
        prop::collection::vec(prop::collection::vec(any_text(20), 0..2), 0..2),
    )
        .prop_map(|((min, max), ring, conversations)| {
            let mut t = toml::Table::new();
            t.insert("every_min_secs".into(), min.into());
            t.insert("every_max_secs".into(), max.into());
            t.insert("ring_secs".into(), ring.into());
            t.insert(
                "conversations".into(),
                toml::Value::Array(
                    conversations
                        .into_iter()
                        .map(|c| toml::Value::Array(c.into_iter().map(Into::into).collect()))
                        .collect(),
                ),
            );
            toml::Value::Table(t)
        });
    (
        any_text(20),
        prop::option::of(seconds()),
        prop::option::of(seconds()),
        prop::collection::vec(event, 0..4),
        prop::option::of(repeat),
    )
        .prop_map(|(name, scale, reply_delay, events, repeat)| {
            let mut t = toml::Table::new();
            t.insert("name".into(), name.into());
            if let Some(scale) = scale {
                t.insert("time_scale".into(), scale.into());
            }
            if let Some(delay) = reply_delay {
                t.insert("reply_delay_secs".into(), delay.into());
            }
            t.insert("event".into(), toml::Value::Array(events));
            if let Some(repeat) = repeat {
                t.insert("repeat".into(), repeat);
            }
            toml::to_string(&t).expect("a TOML table serializes")
        })
}

/// What the player relies on for a scenario that passed validation.
fn check_playable(s: &Scenario) -> Result<(), TestCaseError> {
    let scale = s.time_scale;
    prop_assert!(
        scale.is_finite() && scale > 0.0,
        "time_scale {} must be finite and positive",
        scale
    );
    let duration = |secs: f64, what: &str| -> Result<(), TestCaseError> {
        prop_assert!(
            Duration::try_from_secs_f64(secs * scale).is_ok(),
            "{} = {} x {} is not a duration",
            what,
            secs,
            scale
        );
        Ok(())
    };
    duration(s.reply_delay_secs, "reply_delay_secs")?;
    for event in &s.events {
        match event {
            ScenarioEvent::Call { at_secs, call, .. } => {
                duration(*at_secs, "at_secs")?;
                if let Some(ring) = call.ring_secs {
                    duration(ring, "ring_secs")?;
                }
            }
            ScenarioEvent::Sms { at_secs, .. } => duration(*at_secs, "at_secs")?,
        }
    }
    if let Some(r) = &s.repeat {
        duration(r.every_min_secs, "every_min_secs")?;
        duration(r.every_max_secs, "every_max_secs")?;
        duration(r.ring_secs, "ring_secs")?;
        // The player draws each gap with exactly this call; an empty range panics.
        prop_assert!(
            r.every_min_secs <= r.every_max_secs,
            "every_min_secs {} > every_max_secs {}",
            r.every_min_secs,
            r.every_max_secs
        );
        let gap = rand::rng().random_range(r.every_min_secs..=r.every_max_secs);
        duration(gap, "a drawn gap")?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn scenario_text_is_read_or_refused_never_a_panic(text in prop_oneof![
        any_text(300),
        "(\\[{1,2}(event|repeat)\\]{1,2}\n|[a-z_]{1,14} ?= ?(\"[^\"\n]{0,12}\"?|-?[0-9.e+-]{1,8}|nan|inf|\\[|true)\n){0,12}",
    ]) {
        if let Ok(scenario) = Scenario::from_toml(&text) {
            check_playable(&scenario)?;
        }
    }

    #[test]
    fn an_accepted_scenario_can_be_played(text in scenario_toml()) {
        match Scenario::from_toml(&text) {
            Ok(scenario) => check_playable(&scenario)?,
            Err(e) => prop_assert!(!e.to_string().is_empty(), "a refusal says why"),
        }
    }
}

#[test]
fn regression_a_repeat_range_reversed_by_a_hair_is_refused() {
    // Both ends round to the same whole-nanosecond Duration, so the old check (on the scaled
    // durations) let it through; the player's `random_range(min..=max)` then panicked.
    let text = "name = \"hair\"\n[repeat]\nevery_min_secs = 1.0000000001\nevery_max_secs = 1.0\n";
    let result = Scenario::from_toml(text);
    assert!(
        result.is_err(),
        "every_min_secs above every_max_secs is refused, however slightly: {result:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Over HTTP: the control API and Twilio list queries
// ---------------------------------------------------------------------------------------------

struct Rig {
    rt: tokio::runtime::Runtime,
    sim: Sim,
    http: Client,
}

impl Rig {
    fn new() -> Self {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let sim = rt
            .block_on(Sim::start(SimConfig::default()))
            .expect("the sim binds a loopback port");
        let http = Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("a reqwest client");
        Rig { rt, sim, http }
    }

    fn check<S: Strategy>(
        &self,
        strategy: S,
        property: impl Fn(&Rig, S::Value) -> Result<(), TestCaseError>,
    ) where
        S::Value: std::fmt::Debug,
    {
        let mut runner = TestRunner::new(config());
        if let Err(e) = runner.run(&strategy, |value| property(self, value)) {
            panic!("{e}");
        }
    }

    /// Sends one request; the answer's status and body, or why there was none.
    fn send(&self, request: reqwest::RequestBuilder) -> Result<(StatusCode, Vec<u8>), String> {
        self.rt.block_on(async {
            let response = request
                .send()
                .await
                .map_err(|e| format!("no answer: {e}"))?;
            let status = response.status();
            let body = response
                .bytes()
                .await
                .map_err(|e| format!("body cut off: {e}"))?;
            Ok((status, body.to_vec()))
        })
    }

    fn post_json(&self, path: &str, body: Vec<u8>) -> Result<(StatusCode, Vec<u8>), String> {
        self.send(
            self.http
                .post(format!("{}{path}", self.sim.base_url()))
                .header("Content-Type", "application/json")
                .body(body),
        )
    }

    fn api(&self, resource: &str) -> String {
        format!(
            "{}/2010-04-01/Accounts/{}/{resource}",
            self.sim.base_url(),
            self.sim.account_sid()
        )
    }

    /// The sim still answers its health check: nothing above wedged or killed it.
    fn healthy(&self) -> Result<(), TestCaseError> {
        let answer = self.send(
            self.http
                .get(format!("{}/_sim/health", self.sim.base_url())),
        );
        prop_assert!(
            matches!(answer, Ok((StatusCode::OK, _))),
            "the sim stays healthy: {:?}",
            answer
        );
        Ok(())
    }
}

/// A 2xx, or a 4xx refusal: never a 5xx, never a dropped connection.
fn answered(
    what: &str,
    answer: Result<(StatusCode, Vec<u8>), String>,
) -> Result<StatusCode, TestCaseError> {
    let (status, body) = answer.map_err(|e| TestCaseError::fail(format!("{what}: {e}")))?;
    prop_assert!(
        status.is_success() || status.is_client_error(),
        "{}: answered {} ({})",
        what,
        status,
        String::from_utf8_lossy(&body)
    );
    Ok(status)
}

fn junk_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        any_text(20).prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    select(vec![
                        "route",
                        "faults",
                        "kind",
                        "retry_after",
                        "status",
                        "ms",
                        "seconds",
                        "from",
                        "to",
                        "body",
                        "number",
                        "error_code",
                        "revoked",
                        "toml",
                        "builtin",
                        "time_scale",
                        "legs",
                        "ring_secs",
                        "outcome",
                        "talk_secs"
                    ])
                    .prop_map(str::to_owned),
                    "[a-z_]{1,8}",
                ],
                inner,
                0..5,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

const CONTROL: &[&str] = &[
    "/_sim/calls",
    "/_sim/sms",
    "/_sim/faults",
    "/_sim/landline",
    "/_sim/undeliverable",
    "/_sim/opt_out",
    "/_sim/revoked",
    "/_sim/clock_offset",
    "/_sim/clock_scale",
    "/_sim/delivery_delay",
    "/_sim/scenario",
];

#[test]
fn the_control_api_answers_any_body() {
    let rig = Rig::new();
    let body = prop_oneof![
        4 => junk_json().prop_map(|v| v.to_string().into_bytes()),
        2 => (scenario_toml(), prop::option::of(prop_oneof![seconds(), Just(1e-3)]))
            .prop_map(|(toml, scale)| json!({"toml": toml, "time_scale": scale}).to_string().into_bytes()),
        1 => select(vec![
            json!({"route": "messages_create", "faults": [{"kind": "delay", "ms": u64::MAX}]}),
            json!({"route": "any", "faults": [{"kind": "rate_limit", "retry_after": u64::MAX}]}),
            json!({"route": "calls_list", "faults": [{"kind": "server_error", "status": 99}]}),
            json!({"route": "calls_list", "faults": [{"kind": "server_error", "status": 65535}]}),
            json!({"seconds": i64::MAX}),
            json!({"seconds": 9_000_000_000_000i64}),
            json!({"scale": 1e6, "origin": "0001-01-01T00:00:00Z"}),
            json!({"scale": 1e-300, "origin": "9999-12-31T23:59:59Z"}),
            json!({"ms": u64::MAX}),
            json!({"from": "+15125550123", "legs": [{"to": "+1", "outcome": "answered", "talk_secs": 1e300}]}),
            json!({"from": "", "ring_secs": -1.0}),
        ]).prop_map(|v| v.to_string().into_bytes()),
        1 => prop::collection::vec(any::<u8>(), 0..200),
    ];
    rig.check((select(CONTROL.to_vec()), body), |rig, (path, body)| {
        answered(path, rig.post_json(path, body))?;
        // Undo whatever the case set up, so one case's faults or scenario cannot bend the next.
        for cleanup in [
            rig.post_json("/_sim/scenario/stop", Vec::new()),
            rig.send(
                rig.http
                    .delete(format!("{}/_sim/faults", rig.sim.base_url())),
            ),
            rig.post_json("/_sim/clock_offset", br#"{"seconds": 0}"#.to_vec()),
            rig.post_json("/_sim/clock_scale", br#"{"scale": 1}"#.to_vec()),
            rig.post_json("/_sim/delivery_delay", br#"{"ms": 0}"#.to_vec()),
            rig.post_json("/_sim/revoked", br#"{"revoked": false}"#.to_vec()),
        ] {
            answered("cleanup", cleanup)?;
        }
        rig.healthy()
    });
}

#[test]
fn list_queries_are_answered_or_refused() {
    let rig = Rig::new();
    let key = prop_oneof![
        select(vec![
            "PageSize",
            "Page",
            "PageToken",
            "To",
            "From",
            "Status",
            "ParentCallSid",
            "StartTime",
            "StartTime>",
            "StartTime<",
            "StartTime>=",
            "DateSent",
            "DateSent>",
            "DateSent<",
            "EndTime>",
        ])
        .prop_map(str::to_owned),
        "[A-Za-z<>=]{1,12}",
    ];
    let value = prop_oneof![
        select(vec![
            "0",
            "1",
            "1000",
            "1001",
            "-1",
            "18446744073709551615",
            "18446744073709551616",
            "PA",
            "PB",
            "PACA",
            "PB\u{e9}",
            "2024-02-30",
            "2024-01-01",
            "99999-01-01",
            "+15005550006",
            "",
            " ",
        ])
        .prop_map(str::to_owned),
        any_text(20),
    ];
    let resource = select(vec![
        "Calls.json",
        "Messages.json",
        "IncomingPhoneNumbers.json",
        "Calls/CA1/Recordings.json",
        "Messages/MM1/Media.json",
        "Calls/CA..%2F..%2Fx.json",
    ]);
    rig.check(
        (resource, prop::collection::vec((key, value), 0..5)),
        |rig, (resource, query)| {
            let request = rig
                .http
                .get(rig.api(resource))
                .basic_auth(rig.sim.account_sid(), Some(rig.sim.auth_token()))
                .query(&query);
            let answer = rig.send(request);
            if let Ok((status, body)) = &answer {
                prop_assert!(
                    serde_json::from_slice::<Value>(body).is_ok(),
                    "{} {:?}: Twilio answers JSON, errors included ({}): {}",
                    resource,
                    query,
                    status,
                    String::from_utf8_lossy(body)
                );
            }
            answered(resource, answer)?;
            rig.healthy()
        },
    );
}
