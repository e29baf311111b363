use textback_domain::ProviderMessageId;
use textback_providers::{MessageDirection, MessageStatus, Provider, ProviderError};

use crate::support::{business, client, customer, phone, sim, tomorrow, yesterday};

#[tokio::test]
async fn inbound_and_outbound_messages_are_both_listed_once() {
    let sim = sim().await;
    let caller = customer(1);
    let inbound_sid = sim.inbound_sms(caller.as_str(), business().as_str(), "Can you come today?");
    let client = client(&sim);
    let sent = client
        .send_message(&business(), &caller, "Sorry we missed your call")
        .await
        .expect("sending from the owned number works");

    let messages = client
        .list_messages(&business(), yesterday())
        .await
        .expect("messages list");
    let inbound = messages
        .iter()
        .find(|m| m.sid.as_str() == inbound_sid)
        .expect("the customer's text is listed (To=business)");
    assert_eq!(
        inbound.direction,
        MessageDirection::Inbound,
        "customer texts are inbound"
    );
    assert_eq!(
        inbound.status,
        MessageStatus::Received,
        "inbound texts end received"
    );
    assert_eq!(
        inbound.body, "Can you come today?",
        "the body arrives intact"
    );
    assert_eq!(inbound.from, caller.as_str(), "from the customer");
    let outbound = messages
        .iter()
        .find(|m| m.sid == sent.sid)
        .expect("our text is listed (From=business)");
    assert!(
        outbound.direction.is_outbound(),
        "our text is outbound: {:?}",
        outbound.direction
    );
    assert_eq!(
        outbound.body, "Sorry we missed your call",
        "our body as sent"
    );
    assert_eq!(
        messages.iter().filter(|m| m.sid == sent.sid).count(),
        1,
        "merged To/From queries are deduplicated"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn the_pre_send_check_sees_only_our_texts_to_that_caller() {
    let sim = sim().await;
    let client = client(&sim);
    let caller = customer(2);
    let other = customer(3);
    sim.inbound_sms(caller.as_str(), business().as_str(), "hello?");
    assert!(
        client
            .list_messages_between(&business(), &caller, yesterday())
            .await
            .expect("pre-send check")
            .is_empty(),
        "the customer's own text is not a text from us"
    );
    client
        .send_message(&business(), &other, "to someone else")
        .await
        .expect("send");
    let sent = client
        .send_message(&business(), &caller, "text back")
        .await
        .expect("send");
    let between = client
        .list_messages_between(&business(), &caller, yesterday())
        .await
        .expect("pre-send check");
    let sids: Vec<&str> = between.iter().map(|m| m.sid.as_str()).collect();
    assert_eq!(sids, [sent.sid.as_str()], "exactly our text to this caller");
    let later = client
        .list_messages_between(&business(), &caller, tomorrow())
        .await
        .expect("pre-send check");
    assert!(later.is_empty(), "the DateSent>= filter reached the sim");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_sent_message_reaches_the_provider_and_its_status_can_be_read() {
    let sim = sim().await;
    let client = client(&sim);
    let body = "Hi! Sorry we missed you — book here: https://example.com/b 👍";
    let sent = client
        .send_message(&business(), &customer(4), body)
        .await
        .expect("send works");
    let on_sim = sim.sent_messages();
    assert_eq!(on_sim.len(), 1, "one POST made one message");
    assert_eq!(
        on_sim[0].sid,
        sent.sid.as_str(),
        "the sid we got is the one created"
    );
    assert_eq!(
        on_sim[0].body, body,
        "form encoding kept the Unicode body intact"
    );
    assert_eq!(
        on_sim[0].from,
        business().as_str(),
        "From is the business number"
    );
    assert_eq!(on_sim[0].to, customer(4).as_str(), "To is the customer");
    assert!(
        sent.direction.is_outbound(),
        "the created message is outbound"
    );
    assert!(sent.date_created.is_some(), "the creation date is parsed");

    let read = client.get_message(&sent.sid).await.expect("read back");
    assert_eq!(read.sid, sent.sid, "the same message is read back");
    assert!(
        !matches!(read.status, MessageStatus::Unknown(_)),
        "the sim's statuses are all known ones, got {:?}",
        read.status
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn an_undeliverable_message_reports_its_error_code() {
    let sim = sim().await;
    sim.set_undeliverable(customer(6).as_str(), 30003);
    sim.set_delivery_delay(std::time::Duration::ZERO);
    let client = client(&sim);
    let sent = client
        .send_message(&business(), &customer(6), "hello")
        .await
        .expect("accepted at first");
    // Delivery settles on the sim's own task; read it back as the engine's status poll
    // would, each round trip giving that task its turn.
    let settle = async {
        loop {
            let read = client.get_message(&sent.sid).await.expect("read back");
            if read.status.is_final() {
                return read;
            }
        }
    };
    let read = tokio::time::timeout(std::time::Duration::from_secs(5), settle)
        .await
        .expect("the message reaches a final status promptly");
    assert_eq!(
        read.status,
        MessageStatus::Undelivered,
        "the handset was unreachable"
    );
    assert_eq!(
        read.error_code,
        Some(30003),
        "the delivery error code is kept"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn reading_an_unknown_message_is_permanent() {
    let sim = sim().await;
    let missing = ProviderMessageId::parse("SM00000000000000000000000000000000").expect("valid id");
    let err = client(&sim)
        .get_message(&missing)
        .await
        .expect_err("no such message");
    assert!(
        matches!(err, ProviderError::Permanent { code: 20404, .. }),
        "a missing message will not appear by retrying, got {err:?}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn refusals_are_typed_for_what_happens_next() {
    let sim = sim().await;
    let client = client(&sim);

    let opted_out = customer(10);
    sim.opt_out(opted_out.as_str(), business().as_str());
    let err = client
        .send_message(&business(), &opted_out, "hello")
        .await
        .expect_err("an opted-out customer cannot be texted");
    assert!(
        err.is_opt_out(),
        "21610 is recorded as an opt-out, got {err:?}"
    );
    assert!(!err.is_retry_safe(), "an opt-out is never retried");

    let landline = customer(11);
    sim.set_landline(landline.as_str());
    let err = client
        .send_message(&business(), &landline, "hello")
        .await
        .expect_err("a landline cannot be texted");
    assert!(
        matches!(err, ProviderError::Permanent { code: 21614, .. }),
        "21614 is permanent for this number, got {err:?}"
    );

    let not_ours = phone("+15005550009");
    let err = client
        .send_message(&not_ours, &customer(12), "hello")
        .await
        .expect_err("a number the account does not own cannot send");
    assert!(
        matches!(err, ProviderError::AccountBlocked { code: 21606, .. }),
        "21606 stops sending from that number, got {err:?}"
    );

    let too_long = "x".repeat(1601);
    let err = client
        .send_message(&business(), &customer(13), &too_long)
        .await
        .expect_err("over 1600 characters is refused");
    assert!(
        matches!(err, ProviderError::Permanent { code: 21617, .. }),
        "21617 is permanent for this message, got {err:?}"
    );
    assert!(
        sim.sent_messages().is_empty(),
        "no refused message was created"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn an_invalid_to_number_is_permanent() {
    let sim = sim().await;
    // Niue's 4-digit local numbers are valid E.164 but shorter than the sim's 8-digit floor,
    // which is how the sim (like Twilio) arrives at 21211.
    let short = phone("+6834002");
    let err = client(&sim)
        .send_message(&business(), &short, "hello")
        .await
        .expect_err("the sim refuses a 7-digit To");
    assert!(
        matches!(err, ProviderError::Permanent { code: 21211, .. }),
        "21211 marks the number invalid, got {err:?}"
    );
    sim.shutdown().await;
}
