//! The schema fuzzer (`switchboard_tests::fuzz`) in the suite: every query and mutation
//! field, two generated cases each, as an admin, an agent, a requester and a token with
//! one narrow scope, on both backends. Whatever it sends, the server answers below 500,
//! never with `INTERNAL`, and every error carries an `extensions.code`.
//! `SWITCHBOARD_FUZZ_CASES` and `SWITCHBOARD_FUZZ_SEED` change the cases and the seed;
//! `./bench.sh --fuzz CASES` runs longer against the release server.

use serde_json::{Value, json};
use switchboard_tests::{Backend, TestServer, on_both_backends};

on_both_backends!(
    no_generated_request_gets_an_internal_error,
    a_nul_in_any_text_is_refused_before_the_database,
);

async fn no_generated_request_gets_an_internal_error(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let cases: usize = std::env::var("SWITCHBOARD_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2);
    let seed: u64 = std::env::var("SWITCHBOARD_FUZZ_SEED")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0x5157_C4B0_A12D);
    let narrow = server
        .must(&desk.admin, "mutation { createApiToken(input: { name: \"fuzz\", scopes: [\"cmdb:read\"] }) { secret } }", Value::Null)
        .await["createApiToken"]["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let callers = [
        ("admin", desk.admin.clone()),
        ("agent", desk.agents[0].token.clone()),
        ("requester", desk.requester.token.clone()),
        ("narrow token", narrow),
    ];
    let outcome = switchboard_tests::fuzz::run(
        server.http(),
        &server.url("/graphql"),
        &callers,
        cases,
        seed,
    )
    .await;
    let (sent, failures) = (outcome.sent, outcome.failures);
    assert!(sent > 500, "the fuzzer reached the schema: {sent} requests");
    assert!(
        failures.is_empty(),
        "{} of {sent} generated requests (seed {seed}) were answered badly:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// What the fuzzer found first: a NUL character in a search, a ticket number, an
/// external key or a new organization's name reached PostgreSQL, which refuses NUL in
/// text, and came back `INTERNAL`. Now every request holding one is refused at the edge.
async fn a_nul_in_any_text_is_refused_before_the_database(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    for (query, variables) in [
        (
            "query($s: String) { services(search: $s) { __typename } }",
            json!({ "s": "a\u{0}b" }),
        ),
        (
            "query($n: String!) { ticket(number: $n) { id } }",
            json!({ "n": "INC\u{0}1" }),
        ),
        (
            "query($k: String!) { configurationItemByKey(externalKey: $k) { id } }",
            json!({ "k": "\u{0}" }),
        ),
        (
            "mutation($i: CreateOrganizationInput!) { createOrganization(input: $i) { organization { id } } }",
            json!({ "i": { "name": "Nulco\u{0}" } }),
        ),
        ("{ ticket(number: \"INC\\u0000\") { id } }", Value::Null),
    ] {
        let reply = server.gql(Some(&desk.admin), query, variables).await;
        assert_eq!(
            reply.error_code(),
            "BAD_USER_INPUT",
            "{query}: {:#}",
            reply.body
        );
        assert!(
            reply.error_message().contains("NUL"),
            "{}",
            reply.error_message()
        );
    }
    let listed = server
        .must(&desk.admin, "{ organizations { name } }", Value::Null)
        .await;
    assert!(
        !listed.to_string().contains("Nulco"),
        "nothing half-written: {listed}"
    );
}
