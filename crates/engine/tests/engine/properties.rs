//! Random interleavings of calls, STOP/START texts, syncs, sender steps and time passing:
//! no caller is texted back twice within the dedupe window, and nobody is texted between a
//! synced STOP and the next START.

use std::collections::HashSet;

use chrono::Duration as Span;
use proptest::prelude::*;
use textback_engine::SendStep;

use crate::common::{BUSINESS, CALLERS, Harness};

const N: usize = 3;

#[derive(Debug, Clone)]
enum Op {
    MissedCall(usize),
    Stop(usize),
    Start(usize),
    Sync,
    Send,
    /// Minutes of time passing, on the provider's and the engine's clocks together.
    Advance(i64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..N).prop_map(Op::MissedCall),
        1 => (0..N).prop_map(Op::Stop),
        1 => (0..N).prop_map(Op::Start),
        3 => Just(Op::Sync),
        3 => Just(Op::Send),
        2 => (0i64..=30 * 60).prop_map(Op::Advance),
    ]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Word {
    Stop,
    Start,
}

async fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let h = Harness::start().await;
    h.sync().await;
    // The last keyword each caller texted, and who is known (synced) to have said STOP.
    let mut last_word: [Option<Word>; N] = [None; N];
    let mut blocked: HashSet<usize> = HashSet::new();
    for op in &ops {
        match *op {
            Op::MissedCall(i) => {
                h.missed_call(CALLERS[i]).await;
            }
            Op::Stop(i) => {
                h.sim.inbound_sms(CALLERS[i], BUSINESS, "STOP");
                last_word[i] = Some(Word::Stop);
            }
            Op::Start(i) => {
                h.sim.inbound_sms(CALLERS[i], BUSINESS, "START");
                last_word[i] = Some(Word::Start);
                blocked.remove(&i);
            }
            Op::Sync => {
                let r = h.try_sync().await;
                prop_assert!(r.is_ok(), "a sync against a healthy sim succeeds: {r:?}");
                for (i, word) in last_word.iter().enumerate() {
                    if *word == Some(Word::Stop) {
                        blocked.insert(i);
                    }
                }
            }
            Op::Send => {
                let before = h.sim.sent_messages().len();
                let step = h.engine.send_step().await;
                prop_assert!(
                    matches!(step, Ok(SendStep::Sent | SendStep::Empty)),
                    "no faults, so a step either resolves an entry or finds none: {step:?}"
                );
                for m in &h.sim.sent_messages()[before..] {
                    let i = CALLERS
                        .iter()
                        .position(|c| *c == m.to)
                        .unwrap_or(usize::MAX);
                    prop_assert!(
                        !blocked.contains(&i),
                        "{} was texted after their STOP was synced and before a START: {m:?}",
                        m.to
                    );
                }
            }
            Op::Advance(minutes) => h.advance(Span::minutes(minutes)),
        }
    }
    let sent = h.sim.sent_messages();
    for caller in CALLERS.iter().take(N) {
        let times: Vec<_> = sent
            .iter()
            .filter(|m| m.to == *caller)
            .map(|m| m.received_at)
            .collect();
        for pair in times.windows(2) {
            // NOTE: the window runs from when the last text went out; a minute of slack covers
            // the sub-second lag between the engine's clock and the provider's.
            prop_assert!(
                pair[1] - pair[0] >= Span::hours(24) - Span::minutes(1),
                "{caller} got two text-backs {} apart inside the 24 h dedupe window: {sent:?}",
                pair[1] - pair[0]
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 12,
        // Tests write nothing outside their temp dirs: no regression files.
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn text_backs_respect_dedupe_and_opt_outs(ops in prop::collection::vec(op(), 1..24)) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime");
        rt.block_on(run(ops))?;
    }
}
