use std::time::Duration;

use textback_providers::twilio::TwilioClient;
use textback_providers::{Provider, ProviderError};
use textback_sim::{CallScript, Fault, Route};

use crate::support::{
    TIMEOUT, business, client, client_with_timeout, customer, sim, token_auth, yesterday,
};

#[tokio::test]
async fn rate_limits_carry_retry_after_when_given() {
    let sim = sim().await;
    let client = client(&sim);
    sim.inject(
        Route::CallsList,
        vec![
            Fault::RateLimit {
                retry_after: Some(3),
            },
            Fault::RateLimit { retry_after: None },
        ],
    );
    let first = client
        .list_calls_to(&business(), yesterday())
        .await
        .expect_err("429");
    assert_eq!(
        first,
        ProviderError::RateLimited {
            retry_after: Some(Duration::from_secs(3))
        },
        "Retry-After: 3 becomes a 3 s wait"
    );
    let second = client
        .list_calls_to(&business(), yesterday())
        .await
        .expect_err("429");
    assert_eq!(
        second,
        ProviderError::RateLimited { retry_after: None },
        "without the header the engine uses its own backoff"
    );
    client
        .list_calls_to(&business(), yesterday())
        .await
        .expect("the faults are used up and the list works again");

    sim.inject(
        Route::MessagesCreate,
        vec![Fault::RateLimit {
            retry_after: Some(1),
        }],
    );
    let send = client
        .send_message(&business(), &customer(1), "hi")
        .await
        .expect_err("429 on a send");
    assert!(
        matches!(send, ProviderError::RateLimited { .. }) && send.is_retry_safe(),
        "Twilio never processes a 429'd request, so even a send may be retried: {send:?}"
    );
    assert!(sim.sent_messages().is_empty(), "nothing was created");
    sim.shutdown().await;
}

#[tokio::test]
async fn server_errors_on_reads_are_transient() {
    let sim = sim().await;
    sim.inject(Route::MessagesList, vec![Fault::ServerError(503)]);
    let err = client(&sim)
        .list_messages(&business(), yesterday())
        .await
        .expect_err("503 on a read");
    assert!(
        matches!(err, ProviderError::Transient { .. }),
        "a failed read is simply repeated later, got {err:?}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_failure_on_a_later_page_fails_the_whole_list() {
    let sim = sim().await;
    for n in 0..150 {
        sim.place_call(CallScript::inbound(
            customer(n).as_str(),
            business().as_str(),
            None,
            vec![],
        ));
    }
    // The first page is answered normally (a zero delay), the second gets the 500.
    sim.inject(
        Route::CallsList,
        vec![Fault::Delay(Duration::ZERO), Fault::ServerError(500)],
    );
    let err = client(&sim)
        .list_calls_to(&business(), yesterday())
        .await
        .expect_err("page two failed");
    assert!(
        matches!(err, ProviderError::Transient { .. }),
        "a partial list is never returned as if complete, got {err:?}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn server_errors_on_a_send_are_outcome_unknown() {
    let sim = sim().await;
    sim.inject(Route::MessagesCreate, vec![Fault::ServerError(500)]);
    let err = client(&sim)
        .send_message(&business(), &customer(1), "hi")
        .await
        .expect_err("500 on a send");
    assert!(
        matches!(err, ProviderError::OutcomeUnknown { .. }),
        "a 500 does not prove the message was not created, got {err:?}"
    );
    assert!(!err.is_retry_safe(), "never resend blind");
    sim.shutdown().await;
}

#[tokio::test]
async fn accepted_then_failed_sends_are_outcome_unknown_and_reconcilable() {
    let sim = sim().await;
    let client = client(&sim);
    sim.inject(Route::MessagesCreate, vec![Fault::AcceptThenFail]);
    let err = client
        .send_message(&business(), &customer(1), "text back")
        .await
        .expect_err("the answer was a 500");
    assert!(
        matches!(err, ProviderError::OutcomeUnknown { .. }),
        "the message exists although the answer failed, got {err:?}"
    );
    assert_eq!(
        sim.sent_messages().len(),
        1,
        "the sim did create and send it"
    );
    let found = client
        .list_messages_between(&business(), &customer(1), yesterday())
        .await
        .expect("the pre-send check works");
    assert_eq!(
        found.len(),
        1,
        "reconciliation finds the message, so the engine will not send it twice"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn html_error_pages_are_typed_with_an_excerpt() {
    let sim = sim().await;
    let client = client(&sim);
    sim.inject(Route::CallsList, vec![Fault::HtmlError]);
    let read = client
        .list_calls_to(&business(), yesterday())
        .await
        .expect_err("502 page");
    assert!(
        matches!(read, ProviderError::Transient { .. }),
        "502 on a read: {read:?}"
    );
    assert!(
        read.to_string().contains("502 Bad Gateway"),
        "the excerpt tells a person what answered: {read}"
    );

    sim.inject(Route::MessagesCreate, vec![Fault::HtmlError]);
    let send = client
        .send_message(&business(), &customer(1), "hi")
        .await
        .expect_err("502 page on a send");
    assert!(
        matches!(send, ProviderError::OutcomeUnknown { .. }),
        "a gateway error on a send may hide a created message: {send:?}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn truncated_json_is_malformed_on_reads_and_unknown_on_sends() {
    let sim = sim().await;
    let client = client(&sim);
    sim.place_call(CallScript::inbound(
        customer(1).as_str(),
        business().as_str(),
        None,
        vec![],
    ));
    sim.inject(Route::CallsList, vec![Fault::TruncatedJson]);
    let read = client
        .list_calls_to(&business(), yesterday())
        .await
        .expect_err("cut body");
    assert!(
        matches!(read, ProviderError::Malformed { .. }) && read.is_retry_safe(),
        "a cut read is not understood but safe to repeat: {read:?}"
    );

    sim.inject(Route::MessagesCreate, vec![Fault::TruncatedJson]);
    let send = client
        .send_message(&business(), &customer(1), "hi")
        .await
        .expect_err("cut 201 body");
    assert!(
        matches!(send, ProviderError::OutcomeUnknown { .. }),
        "a 201 we cannot read still created the message: {send:?}"
    );
    assert_eq!(sim.sent_messages().len(), 1, "the sim created it");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_hanging_read_times_out_as_transient() {
    let sim = sim().await;
    let client = client_with_timeout(&sim, Duration::from_millis(400));
    sim.inject(Route::MessagesList, vec![Fault::Hang]);
    let err = client
        .list_messages(&business(), yesterday())
        .await
        .expect_err("no answer within the timeout");
    assert!(
        matches!(err, ProviderError::Transient { .. }),
        "a read timeout retries: {err:?}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_hanging_send_times_out_as_outcome_unknown() {
    let sim = sim().await;
    let client = client_with_timeout(&sim, Duration::from_millis(400));
    sim.inject(Route::MessagesCreate, vec![Fault::Hang]);
    let err = client
        .send_message(&business(), &customer(1), "hi")
        .await
        .expect_err("no answer within the timeout");
    assert!(
        matches!(err, ProviderError::OutcomeUnknown { .. }),
        "the request was sent; only the answer is missing: {err:?}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_slow_answer_within_the_timeout_succeeds() {
    let sim = sim().await;
    sim.inject(
        Route::Account,
        vec![Fault::Delay(Duration::from_millis(100))],
    );
    client(&sim)
        .check_credentials()
        .await
        .expect("a delay shorter than the timeout is just a slow answer");
    sim.shutdown().await;
}

#[tokio::test]
async fn connection_refused_before_sending_is_transient_even_for_a_send() {
    let sim = sim().await;
    let auth = token_auth(&sim);
    // Learn a free port, then close it so nothing listens there.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let client = TwilioClient::new(&format!("http://127.0.0.1:{port}"), auth, TIMEOUT)
        .expect("valid config");
    let err = client
        .send_message(&business(), &customer(1), "hi")
        .await
        .expect_err("nothing listens");
    assert!(
        matches!(err, ProviderError::Transient { .. }),
        "connect refused means nothing was sent, so a send is safe to retry: {err:?}"
    );
    let read = client
        .check_credentials()
        .await
        .expect_err("nothing listens");
    assert!(
        matches!(read, ProviderError::Transient { .. }),
        "same for a read: {read:?}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn network_cut_mid_send_is_never_treated_as_not_sent() {
    let sim = sim().await;
    let client = client(&sim);
    // Warm the connection pool, then cut: the kept-alive connection is dropped under us.
    client
        .check_credentials()
        .await
        .expect("works while connected");
    sim.set_accepting(false);
    let err = client
        .send_message(&business(), &customer(1), "hi")
        .await
        .expect_err("the sim drops connections");
    assert!(
        matches!(err, ProviderError::OutcomeUnknown { .. }),
        "the TCP connection was up, so the request may have been read before it broke; \
         only a failed connect proves nothing was sent: {err:?}"
    );
    assert!(
        sim.sent_messages().is_empty(),
        "the gated sim created nothing"
    );
    sim.set_accepting(true);
    client
        .send_message(&business(), &customer(1), "hi")
        .await
        .expect("sending works again once the network is back");
    sim.shutdown().await;
}

#[tokio::test]
async fn an_unresolvable_host_is_transient_even_for_a_send() {
    // `.invalid` never resolves (RFC 2606); with no resolver at all it fails just the same.
    let auth = textback_providers::twilio::TwilioAuth::AuthToken {
        account_sid: "AC0123456789abcdef0123456789abcdef".to_owned(),
        auth_token: textback_providers::Secret::new("token"),
    };
    let client = TwilioClient::new("https://api.twilio.invalid", auth, Duration::from_secs(2))
        .expect("valid config");
    let err = client
        .send_message(&business(), &customer(1), "hi")
        .await
        .expect_err("the host does not exist");
    assert!(
        matches!(err, ProviderError::Transient { .. }),
        "a DNS failure happens before anything is sent: {err:?}"
    );
}
