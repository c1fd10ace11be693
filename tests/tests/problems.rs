//! Problem management: trend detection proposes problems, a known error's workaround
//! reaches its incidents, and fixing the problem resolves them.

use chrono::Duration;
use serde_json::{Value, json};
use switchboard_tests::{Backend, TestServer, on_both_backends};

const INCIDENT: &str =
    "mutation($input: CreateTicketInput!) { createTicket(input: $input) { ticket { id number } } }";
const CANDIDATES: &str =
    "{ problemCandidates { id basis configurationItem { name } incidents { number } } }";
const TRANSITION: &str =
    "mutation($input: TransitionProblemInput!) { transitionProblem(input: $input) {
    problem { status version } resolvedIncidents { number status } } }";

async fn the_third_incident_on_one_item_inside_the_window_proposes_a_problem(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let ada = &desk.agents[0].token;
    let servers = server
        .must(&desk.admin, "{ ciClasses { id name } }", Value::Null)
        .await["ciClasses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "Server")
        .unwrap()["id"]
        .clone();
    let mail = server
        .must(&desk.admin, "mutation($c: ID!) { createConfigurationItem(input: { classId: $c, name: \"mail-01\" }) { configurationItem { id } } }", json!({ "c": servers }))
        .await["createConfigurationItem"]["configurationItem"]["id"]
        .clone();
    let incident = |title: &'static str| {
        let mail = mail.clone();
        let server = &server;
        async move {
            server
                .must(ada, INCIDENT, json!({ "input": { "kind": "INCIDENT", "title": title, "configurationItemIds": [mail] } }))
                .await["createTicket"]["ticket"]["number"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    // The first falls out of the 24-hour window before the others arrive.
    incident("Mail bounces").await;
    server.advance(Duration::hours(25));
    let second = incident("Mail is slow").await;
    let third_in_window = incident("Mail queue stuck").await;
    let none = server.must(ada, CANDIDATES, Value::Null).await;
    assert_eq!(
        none["problemCandidates"],
        json!([]),
        "two inside the window are not a trend"
    );
    let fourth = incident("Mail down again").await;
    let proposed = server.must(ada, CANDIDATES, Value::Null).await["problemCandidates"].clone();
    assert_eq!(
        proposed,
        json!([{ "id": proposed[0]["id"], "basis": "CONFIGURATION_ITEM", "configurationItem": { "name": "mail-01" },
                 "incidents": [{ "number": second }, { "number": third_in_window }, { "number": fourth }] }])
    );
    // A fifth joins the open proposal instead of making another.
    let fifth = incident("Mail down, fifth time").await;
    let joined = server.must(ada, CANDIDATES, Value::Null).await["problemCandidates"].clone();
    assert_eq!(joined.as_array().unwrap().len(), 1);
    assert_eq!(joined[0]["incidents"][3]["number"], fifth);

    let accepted = server
        .must(ada, "mutation($id: ID!) { acceptProblemCandidate(id: $id, title: \"mail-01 keeps failing\") { problem { number title status incidents { number } configurationItems { name } } } }", json!({ "id": joined[0]["id"] }))
        .await["acceptProblemCandidate"]["problem"]
        .clone();
    assert_eq!(accepted["status"], "NEW");
    assert_eq!(accepted["incidents"].as_array().unwrap().len(), 4);
    assert_eq!(
        accepted["configurationItems"],
        json!([{ "name": "mail-01" }])
    );
    assert_eq!(
        server.must(ada, CANDIDATES, Value::Null).await["problemCandidates"],
        json!([])
    );
    let again = server
        .gql(
            Some(ada),
            "mutation($id: ID!) { dismissProblemCandidate(id: $id) { id } }",
            json!({ "id": joined[0]["id"] }),
        )
        .await;
    assert_eq!(again.error_code(), "CONFLICT");
}

async fn a_known_errors_workaround_reaches_its_incidents_and_the_fix_resolves_them(
    backend: Backend,
) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let ada = &desk.agents[0].token;
    let rita = &desk.requester.token;
    let incident = server
        .must(
            rita,
            INCIDENT,
            json!({ "input": { "kind": "INCIDENT", "title": "VPN drops every hour" } }),
        )
        .await["createTicket"]["ticket"]
        .clone();
    let created = server
        .must(ada, "mutation($i: ID!) { createProblem(input: { title: \"VPN sessions expire\", description: \"Sessions drop hourly\", incidentIds: [$i] }) { problem { id number status version } } }", json!({ "i": incident["id"] }))
        .await["createProblem"]["problem"]
        .clone();
    let id = created["id"].clone();
    let step = |to: &'static str, version: i64, resolve: bool| {
        let id = id.clone();
        let server = &server;
        async move {
            server
                .gql(Some(ada), TRANSITION, json!({ "input": { "id": id, "version": version, "to": to, "resolveIncidents": resolve } }))
                .await
                .body
        }
    };
    // NEW cannot jump to KNOWN_ERROR.
    let jumped = step("KNOWN_ERROR", 1, false).await;
    assert_eq!(
        jumped["errors"][0]["extensions"]["code"],
        "INVALID_TRANSITION"
    );
    assert_eq!(
        jumped["errors"][0]["extensions"]["allowed"],
        json!(["UNDER_INVESTIGATION", "CLOSED"])
    );
    let investigating = step("UNDER_INVESTIGATION", 1, false).await;
    assert_eq!(
        investigating["data"]["transitionProblem"]["problem"]["status"],
        "UNDER_INVESTIGATION"
    );
    // A known error needs its root cause and workaround.
    let early = step("KNOWN_ERROR", 2, false).await;
    assert_eq!(early["errors"][0]["extensions"]["field"], "rootCause");
    let stale = step("KNOWN_ERROR", 1, false).await;
    assert_eq!(stale["errors"][0]["extensions"]["code"], "CONFLICT");
    let updated = server
        .must(ada, "mutation($id: ID!) { updateProblem(input: { id: $id, version: 2, rootCause: \"The VPN concentrator's session timer is 60 minutes\", workaround: \"Reconnect the VPN client; it keeps working for another hour\" }) { problem { version } } }", json!({ "id": id }))
        .await;
    assert_eq!(updated["updateProblem"]["problem"]["version"], 3);
    let known = step("KNOWN_ERROR", 3, false).await;
    assert_eq!(
        known["data"]["transitionProblem"]["problem"]["status"],
        "KNOWN_ERROR"
    );

    // Rita sees the workaround on her incident; the desk gets a draft article.
    let hers = server
        .must(rita, "query($n: String!) { ticket(number: $n) { workarounds { problemNumber workaround } } }", json!({ "n": incident["number"] }))
        .await;
    assert_eq!(
        hers["ticket"]["workarounds"],
        json!([{ "problemNumber": created["number"], "workaround": "Reconnect the VPN client; it keeps working for another hour" }])
    );
    let articles = server
        .must(ada, "query($id: ID!) { node(id: $id) { ... on Problem { articles { title status visibility body } } } }", json!({ "id": id }))
        .await["node"]["articles"]
        .clone();
    assert_eq!(articles[0]["title"], "Known error: VPN sessions expire");
    assert_eq!(
        (
            articles[0]["status"].as_str(),
            articles[0]["visibility"].as_str()
        ),
        (Some("DRAFT"), Some("INTERNAL"))
    );
    assert!(
        articles[0]["body"]
            .as_str()
            .unwrap()
            .contains("Reconnect the VPN client")
    );

    // Fixing the problem resolves the open incident, with a comment saying why.
    let fixed = step("RESOLVED", 4, true).await;
    assert_eq!(
        fixed["data"]["transitionProblem"]["resolvedIncidents"],
        json!([{ "number": incident["number"], "status": "RESOLVED" }]),
        "{fixed}"
    );
    let resolved = server
        .must(rita, "query($n: String!) { ticket(number: $n) { status resolutionCode comments { edges { node { body } } } } }", json!({ "n": incident["number"] }))
        .await["ticket"]
        .clone();
    assert_eq!(resolved["status"], "RESOLVED");
    assert!(
        resolved["comments"]["edges"][0]["node"]["body"]
            .as_str()
            .unwrap()
            .contains(created["number"].as_str().unwrap())
    );
    let closed = step("CLOSED", 5, false).await;
    assert_eq!(
        closed["data"]["transitionProblem"]["problem"]["status"],
        "CLOSED"
    );
    let after = step("UNDER_INVESTIGATION", 6, false).await;
    assert_eq!(
        after["errors"][0]["extensions"]["code"], "INVALID_TRANSITION",
        "CLOSED is final"
    );
    // Requesters do not work problems.
    let refused = server
        .gql(
            Some(rita),
            "mutation { createProblem(input: { title: \"x\" }) { problem { id } } }",
            Value::Null,
        )
        .await;
    assert_eq!(refused.error_code(), "FORBIDDEN");
}

on_both_backends!(
    the_third_incident_on_one_item_inside_the_window_proposes_a_problem,
    a_known_errors_workaround_reaches_its_incidents_and_the_fix_resolves_them,
);
