//! Attacks as an adversary would make them, and the refusal a user sees, each with the
//! control that the legitimate caller still succeeds: requests that would crash the
//! process, subscribers and agents reaching for tickets they may not see, internal
//! knowledge made public, the user directory read through side doors, oversized
//! WebSocket messages, a revoked token's socket, and the smaller holes.

use std::time::Duration;

use serde_json::{Value, json};
use switchboard_tests::{
    Backend, TestServer,
    desk::{COMMENT, CREATE, Desk},
    on_both_backends,
    ws::WsClient,
};

const ESCALATE: &str = "mutation($input: EscalateTicketInput!) { escalateTicket(input: $input) { ticket { version group { id } } } }";

async fn healthy(server: &TestServer) {
    let status = server
        .http()
        .get(server.url("/healthz"))
        .send()
        .await
        .expect("the server still answers")
        .status();
    assert_eq!(status, 200);
}

/// An incident in the Network queue, raised by an agent for Rita.
async fn network_ticket(server: &TestServer, desk: &Desk, title: &str) -> Value {
    let input = json!({ "kind": "INCIDENT", "title": title, "groupId": desk.network_group_id, "requesterId": desk.requester.id });
    server
        .must(&desk.agents[0].token, CREATE, json!({ "input": input }))
        .await["createTicket"]["ticket"]
        .clone()
}

/// An incident in the tier-2 queue, which the Network agents may not see.
async fn tier2_ticket(server: &TestServer, desk: &Desk, title: &str) -> Value {
    let input = json!({ "kind": "INCIDENT", "title": title, "groupId": desk.tier2_group_id, "requesterId": desk.other_requester.id });
    server
        .must(&desk.tier2_agent.token, CREATE, json!({ "input": input }))
        .await["createTicket"]["ticket"]
        .clone()
}

// ---- 1. nothing a client sends takes the server down --------------------------------

async fn deeply_nested_values_are_refused_and_the_server_lives(backend: Backend) {
    let server = TestServer::start(backend).await;
    let list = format!(
        "{{ viewer(x: {}1{}) {{ id }} }}",
        "[".repeat(1500),
        "]".repeat(1500)
    );
    let object = format!(
        "{{ viewer(x: {}1{}) {{ id }} }}",
        "{a:".repeat(1500),
        "}".repeat(1500)
    );
    for query in [&list, &object] {
        let reply = server.gql(None, query, Value::Null).await;
        assert_eq!(
            reply.error_code(),
            "GRAPHQL_PARSE_FAILED",
            "{:#}",
            reply.body
        );
        assert!(
            reply.error_message().contains("levels deep"),
            "{}",
            reply.error_message()
        );
        healthy(&server).await;
    }

    // The same by GET, as urql sends queries.
    let response = server
        .http()
        .get(server.url("/graphql"))
        .query(&[("query", list.as_str())])
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        "GRAPHQL_PARSE_FAILED"
    );
    healthy(&server).await;

    // And in a WebSocket subscribe.
    let token = server.token("ada", &["agent"]);
    let mut ws = WsClient::connect_with_token(&server.ws_url(), &token).await;
    ws.subscribe("deep", &list, Value::Null).await;
    let message = ws.next_message().await;
    assert_eq!(message["type"], "error", "{message}");
    assert_eq!(
        message["payload"][0]["extensions"]["code"],
        "GRAPHQL_PARSE_FAILED"
    );
    healthy(&server).await;

    // Control: an ordinary nested query and variables still work.
    let reply = server
        .gql(Some(&token), "query { viewer { id name } }", Value::Null)
        .await;
    assert!(reply.data()["viewer"]["id"].is_string());
}

async fn aliases_spread_through_fragments_count_against_the_limit(backend: Backend) {
    let server = TestServer::start(backend).await;
    let token = server.token("ada", &["agent"]);
    let aliases: String = (0..20).map(|n| format!("a{n}: id ")).collect();
    let spreads = "...F ".repeat(10);
    let query = format!("{{ viewer {{ {spreads} }} }} fragment F on Viewer {{ {aliases} }}");
    let reply = server.gql(Some(&token), &query, Value::Null).await;
    assert_eq!(reply.error_code(), "GRAPHQL_VALIDATION_FAILED");
    assert!(
        reply.error_message().contains("200 aliases"),
        "{}",
        reply.error_message()
    );
    // Control: the fragment spread once is within the limit.
    let once = format!("{{ viewer {{ ...F }} }} fragment F on Viewer {{ {aliases} }}");
    let reply = server.gql(Some(&token), &once, Value::Null).await;
    assert!(reply.data()["viewer"]["a0"].is_string());
}

async fn errors_quote_only_a_prefix_of_what_was_sent(backend: Backend) {
    let server = TestServer::start(backend).await;
    let token = server.token("ada", &["agent"]);
    let huge = "A".repeat(100_000);
    let reply = server
        .gql(
            Some(&token),
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": huge }),
        )
        .await;
    assert_eq!(reply.error_code(), "BAD_USER_INPUT");
    assert!(
        reply.error_message().len() < 600,
        "{}",
        reply.error_message().len()
    );
    // A document that does not parse, on one long line.
    let broken = format!("{{ viewer {{ id {} ", "x ".repeat(50_000));
    let reply = server.gql(Some(&token), &broken, Value::Null).await;
    assert_eq!(reply.error_code(), "GRAPHQL_PARSE_FAILED");
    assert!(
        reply.error_message().len() < 600,
        "{}",
        reply.error_message().len()
    );
}

async fn instants_outside_the_calendar_are_refused(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    network_ticket(&server, &desk, "Printer jam").await;
    let list = "query($after: DateTime) { tickets(filter: { createdAfter: $after }) { edges { node { number } } } }";
    let reply = server
        .gql(
            Some(&desk.manager.token),
            list,
            json!({ "after": "+99999-01-01T00:00:00Z" }),
        )
        .await;
    assert_eq!(reply.error_code(), "BAD_USER_INPUT", "{:#}", reply.body);
    assert_eq!(
        reply.body["errors"][0]["extensions"]["field"],
        "createdAfter"
    );
    // Control: an instant in range filters as it says.
    let reply = server
        .gql(
            Some(&desk.manager.token),
            list,
            json!({ "after": "2000-01-01T00:00:00Z" }),
        )
        .await;
    assert_eq!(
        reply.data()["tickets"]["edges"].as_array().unwrap().len(),
        1
    );
    let reply = server
        .gql(
            Some(&desk.manager.token),
            list,
            json!({ "after": "9999-01-01T00:00:00Z" }),
        )
        .await;
    assert_eq!(
        reply.data()["tickets"]["edges"].as_array().unwrap().len(),
        0
    );
}

// ---- 2. subscribers see only what a query made now would show ----------------------

async fn a_replayed_queue_does_not_show_a_ticket_that_left_it(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let ada = &desk.agents[0].token;
    let t = network_ticket(&server, &desk, "Switch port flapping").await;
    // The ticket moves to tier 2, where a work note is written that Network may not read.
    server
        .must(ada, ESCALATE, json!({ "input": { "id": t["id"], "level": "FUNCTIONAL", "reason": "needs tier 2", "version": t["version"] } }))
        .await;
    server
        .must(&desk.tier2_agent.token, COMMENT, json!({ "input": { "ticketId": t["id"], "body": "SECRET tier-2 note", "internal": true } }))
        .await;

    let mut ws = WsClient::connect_with_token(&server.ws_url(), ada).await;
    ws.subscribe(
        "q",
        "subscription($g: ID!) { queueChanged(groupId: $g, after: 0) { kind event { seq ticketNumber ticket { number title comments { edges { node { body } } } history { edges { node { action } } } } } } }",
        json!({ "g": desk.network_group_id }),
    )
    .await;
    let mut kinds = Vec::new();
    while kinds.last().map(String::as_str) != Some("LEFT") {
        let message = ws.next_message().await;
        assert_eq!(message["type"], "next", "{message}");
        assert!(
            !message.to_string().contains("SECRET"),
            "a tier-2 note reached a Network agent: {message}"
        );
        let change = &message["payload"]["data"]["queueChanged"];
        assert_eq!(change["event"]["ticketNumber"], t["number"]);
        // As a query made now would answer: the ticket is no longer Ada's to see.
        assert_eq!(change["event"]["ticket"], Value::Null, "{message}");
        kinds.push(change["kind"].as_str().unwrap().to_string());
    }
    assert_eq!(kinds.first().map(String::as_str), Some("ENTERED"));

    // Control: tier 2 replays its queue and reads the ticket with its note.
    let mut ws = WsClient::connect_with_token(&server.ws_url(), &desk.tier2_agent.token).await;
    ws.subscribe(
        "q",
        "subscription($g: ID!) { queueChanged(groupId: $g, after: 0) { kind event { ticket { comments { edges { node { body } } } } } } }",
        json!({ "g": desk.tier2_group_id }),
    )
    .await;
    let message = ws.next_message().await;
    assert_eq!(
        message["payload"]["data"]["queueChanged"]["kind"],
        "ENTERED"
    );
    assert!(
        message.to_string().contains("SECRET tier-2 note"),
        "{message}"
    );
}

// ---- 3. problems stay within the caller's scope -------------------------------------

const CREATE_PROBLEM: &str = "mutation($input: CreateProblemInput!) { createProblem(input: $input) { problem { id version incidents { number } } } }";
const LINK_PROBLEM: &str = "mutation($input: LinkProblemInput!) { linkProblem(input: $input) { problem { id incidents { number } } } }";
const UPDATE_PROBLEM: &str = "mutation($input: UpdateProblemInput!) { updateProblem(input: $input) { problem { version } } }";
const TRANSITION_PROBLEM: &str = "mutation($input: TransitionProblemInput!) { transitionProblem(input: $input) { problem { status version } resolvedIncidents { number comments { edges { node { body } } } } } }";

async fn problems_cannot_reach_incidents_the_agent_may_not_see(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let ada = &desk.agents[0].token;
    let mine = network_ticket(&server, &desk, "VPN drops").await;
    let hidden = tier2_ticket(&server, &desk, "Core router CPU").await;
    server
        .must(&desk.tier2_agent.token, COMMENT, json!({ "input": { "ticketId": hidden["id"], "body": "SECRET router note", "internal": true } }))
        .await;

    // Linking a hidden incident and a missing one answer alike.
    let hidden_reply = server
        .gql(
            Some(ada),
            CREATE_PROBLEM,
            json!({ "input": { "title": "Flaps", "incidentIds": [hidden["id"]] } }),
        )
        .await;
    let missing_id = switchboard_tests::server::global_id("Ticket", 999_999);
    let missing_reply = server
        .gql(
            Some(ada),
            CREATE_PROBLEM,
            json!({ "input": { "title": "Flaps", "incidentIds": [missing_id] } }),
        )
        .await;
    assert_eq!(hidden_reply.error_code(), "NOT_FOUND");
    assert_eq!(missing_reply.error_code(), "NOT_FOUND");
    assert_eq!(hidden_reply.error_message(), missing_reply.error_message());

    // Control: her own incident links.
    let problem = server
        .must(
            ada,
            CREATE_PROBLEM,
            json!({ "input": { "title": "Flaps", "incidentIds": [mine["id"]] } }),
        )
        .await["createProblem"]["problem"]
        .clone();
    assert_eq!(problem["incidents"], json!([{ "number": mine["number"] }]));
    let reply = server
        .gql(
            Some(ada),
            LINK_PROBLEM,
            json!({ "input": { "problemId": problem["id"], "incidentIds": [hidden["id"]] } }),
        )
        .await;
    assert_eq!(reply.error_code(), "NOT_FOUND");

    // The manager links the tier-2 incident; Ada's workaround and resolution must not
    // reach into it.
    server
        .must(
            &desk.manager.token,
            LINK_PROBLEM,
            json!({ "input": { "problemId": problem["id"], "incidentIds": [hidden["id"]] } }),
        )
        .await;
    let listed = server
        .must(
            ada,
            "query($id: ID!) { node(id: $id) { ... on Problem { incidents { number } } } }",
            json!({ "id": problem["id"] }),
        )
        .await;
    assert_eq!(
        listed["node"]["incidents"],
        json!([{ "number": mine["number"] }])
    );
    let version = server
        .must(ada, UPDATE_PROBLEM, json!({ "input": { "id": problem["id"], "version": problem["version"], "rootCause": "Bad firmware" } }))
        .await["updateProblem"]["problem"]["version"]
        .clone();
    let version = server
        .must(ada, TRANSITION_PROBLEM, json!({ "input": { "id": problem["id"], "version": version, "to": "UNDER_INVESTIGATION" } }))
        .await["transitionProblem"]["problem"]["version"]
        .clone();
    let resolved = server
        .must(ada, TRANSITION_PROBLEM, json!({ "input": { "id": problem["id"], "version": version, "to": "RESOLVED", "resolveIncidents": true } }))
        .await;
    let text = resolved.to_string();
    assert!(!text.contains("SECRET"), "{text}");
    assert_eq!(
        resolved["transitionProblem"]["resolvedIncidents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["number"].clone())
            .collect::<Vec<_>>(),
        vec![mine["number"].clone()]
    );
    // The hidden incident stays with its own group, open.
    let status = server
        .must(
            &desk.tier2_agent.token,
            "query($n: String!) { ticket(number: $n) { status } }",
            json!({ "n": hidden["number"] }),
        )
        .await;
    assert_eq!(status["ticket"]["status"], "NEW");
}

// ---- 4. a published version keeps the visibility it was published with -------------

const SAVE_ARTICLE: &str =
    "mutation($input: SaveArticleInput!) { saveArticle(input: $input) { article { id version } } }";
const MOVE_ARTICLE: &str = "mutation($input: TransitionArticleInput!) { transitionArticle(input: $input) { article { id version } } }";

async fn an_internal_article_stays_internal_when_its_copy_is_marked_public(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let ada = &desk.agents[0].token;
    let rita = &desk.requester.token;
    let saved = server
        .must(ada, SAVE_ARTICLE, json!({ "input": { "title": "Firewall override codes", "body": "The override code is 4242.", "visibility": "INTERNAL" } }))
        .await["saveArticle"]["article"]
        .clone();
    let mut version = saved["version"].clone();
    for to in ["REVIEW", "PUBLISHED", "REVIEW"] {
        version = server
            .must(
                ada,
                MOVE_ARTICLE,
                json!({ "input": { "id": saved["id"], "version": version, "to": to } }),
            )
            .await["transitionArticle"]["article"]["version"]
            .clone();
    }
    // The working copy, under review, is marked public. Nothing is published.
    version = server
        .must(ada, SAVE_ARTICLE, json!({ "input": { "id": saved["id"], "version": version, "title": "Firewall override codes", "body": "Ask the desk.", "visibility": "PUBLIC" } }))
        .await["saveArticle"]["article"]["version"]
        .clone();

    let read = "query($id: ID!) { node(id: $id) { ... on Article { title body } } }";
    let reply = server
        .gql(Some(rita), read, json!({ "id": saved["id"] }))
        .await;
    assert_eq!(reply.error_code(), "NOT_FOUND", "{:#}", reply.body);
    let found = server
        .must(
            rita,
            "{ searchArticles(text: \"firewall override\") { article { title } } }",
            Value::Null,
        )
        .await;
    assert_eq!(found["searchArticles"], json!([]));
    let listed = server
        .must(
            rita,
            "{ articles { edges { node { title } } } }",
            Value::Null,
        )
        .await;
    assert_eq!(listed["articles"]["edges"], json!([]));

    // Control: once the public text is published, requesters read it, and only it.
    server
        .must(
            ada,
            MOVE_ARTICLE,
            json!({ "input": { "id": saved["id"], "version": version, "to": "PUBLISHED" } }),
        )
        .await;
    let reply = server
        .gql(Some(rita), read, json!({ "id": saved["id"] }))
        .await;
    assert_eq!(reply.data()["node"]["body"], "Ask the desk.");
    let versions = server
        .must(ada, "query($id: ID!) { node(id: $id) { ... on Article { versions { number visibility } } } }", json!({ "id": saved["id"] }))
        .await;
    assert_eq!(
        versions["node"]["versions"],
        json!([{ "number": 1, "visibility": "INTERNAL" }, { "number": 2, "visibility": "PUBLIC" }])
    );
}

// ---- 5. what is shown of a person depends on who asks --------------------------------

const PERSON: &str = "id name email roles groups subject";

async fn requesters_and_narrow_tokens_see_names_not_the_directory(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let ada = &desk.agents[0].token;
    let rita = &desk.requester.token;
    let t = server
        .must(
            rita,
            CREATE,
            json!({ "input": { "kind": "INCIDENT", "title": "VPN down" } }),
        )
        .await["createTicket"]["ticket"]
        .clone();
    server
        .must(
            ada,
            COMMENT,
            json!({ "input": { "ticketId": t["id"], "body": "Looking into it" } }),
        )
        .await;
    let groups =
        format!("{{ groups {{ members {{ nodes {{ {PERSON} }} }} manager {{ {PERSON} }} }} }}");
    let paths = format!(
        "query($n: String!) {{
            ticket(number: $n) {{
                requester {{ {PERSON} }} assignee {{ {PERSON} }}
                comments {{ edges {{ node {{ author {{ {PERSON} }} }} }} }}
                history {{ edges {{ node {{ actor {{ {PERSON} }} }} }} }}
            }}
        }}"
    );
    let vars = json!({ "n": t["number"] });

    // Rita sees the agents' names, and everything of herself.
    let seen = server.must(rita, &paths, vars.clone()).await;
    let mut people = Vec::new();
    collect_people(&seen, &mut people);
    collect_people(&server.must(rita, &groups, Value::Null).await, &mut people);
    assert!(
        people.iter().any(|p| p["name"] == "mona"),
        "the groups' manager is named"
    );
    assert!(people.iter().any(|p| p["name"] == "ada"), "{seen:#}");
    for person in &people {
        if person["id"] == desk.requester.id {
            assert_eq!(person["subject"], "rita");
            continue;
        }
        for field in ["email", "roles", "groups", "subject"] {
            assert_eq!(
                person[field],
                Value::Null,
                "{field} of {person} shown to a requester"
            );
        }
    }

    // A token with tickets:read but not users:read sees names only, Rita's included.
    let admin = &desk.admin;
    let narrow = create_token(&server, admin, &["tickets:read"]).await;
    let seen = server.must(&narrow, &paths, vars.clone()).await;
    let mut people = Vec::new();
    collect_people(&seen, &mut people);
    assert!(!people.is_empty());
    for person in &people {
        assert!(person["name"].is_string());
        for field in ["email", "roles", "groups", "subject"] {
            assert_eq!(
                person[field],
                Value::Null,
                "{field} of {person} shown to a narrow token"
            );
        }
    }

    // Controls: with users:read, and for an agent, the directory is there.
    let wide = create_token(&server, admin, &["tickets:read", "users:read"]).await;
    for token in [&wide, ada] {
        let seen = server.must(token, &paths, vars.clone()).await;
        let requester = &seen["ticket"]["requester"];
        assert_eq!(requester["subject"], "rita");
        assert_eq!(requester["roles"], json!(["REQUESTER"]));
    }
}

fn collect_people(value: &Value, out: &mut Vec<Value>) {
    match value {
        Value::Object(map) if map.contains_key("subject") => out.push(value.clone()),
        Value::Object(map) => map.values().for_each(|v| collect_people(v, out)),
        Value::Array(items) => items.iter().for_each(|v| collect_people(v, out)),
        _ => {}
    }
}

async fn create_token(server: &TestServer, admin: &str, scopes: &[&str]) -> String {
    server
        .must(admin, "mutation($s: [String!]!) { createApiToken(input: { name: \"partner\", scopes: $s }) { secret } }", json!({ "s": scopes }))
        .await["createApiToken"]["secret"]
        .as_str()
        .unwrap()
        .to_string()
}

// ---- 6 and 7. WebSocket messages are bounded; a revoked token's socket closes ---------

async fn oversized_websocket_messages_close_the_socket_not_the_server(backend: Backend) {
    let server = TestServer::start(backend).await;
    let token = server.token("ada", &["agent"]);
    let mut ws = WsClient::connect_with_token(&server.ws_url(), &token).await;
    let ping = json!({ "type": "ping", "payload": { "junk": "x".repeat(10 * 1024 * 1024) } });
    // The server may close before the whole message is written: that is the point.
    let _ = ws.try_send(ping).await;
    let closed = ws.closed(Duration::from_secs(10)).await;
    assert_eq!(closed.code, 1009, "{closed:?}");
    healthy(&server).await;

    // Before connection_init a socket may not send more than a handshake needs.
    let mut ws = WsClient::connect(&server.ws_url()).await;
    let _ = ws
        .try_send(json!({ "type": "ping", "payload": { "junk": "x".repeat(100 * 1024) } }))
        .await;
    let closed = ws.closed(Duration::from_secs(10)).await;
    assert_eq!(closed.code, 4400, "{closed:?}");

    // Control: an ordinary ping is answered.
    let mut ws = WsClient::connect_with_token(&server.ws_url(), &token).await;
    ws.answers_ping(1).await;
}

async fn a_stalled_socket_is_closed_when_its_token_is_revoked(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let admin = &desk.admin;
    let created = server
        .must(admin, "mutation { createApiToken(input: { name: \"bridge\", scopes: [\"tickets:read\", \"events:subscribe\"] }) { secret apiToken { id } } }", Value::Null)
        .await;
    let secret = created["createApiToken"]["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let token_id = created["createApiToken"]["apiToken"]["id"].clone();
    let mut ws = WsClient::connect_with_token(&server.ws_url(), &secret).await;
    ws.subscribe(
        "q",
        "subscription($g: ID!) { queueChanged(groupId: $g) { event { seq ticketNumber } } }",
        json!({ "g": desk.network_group_id }),
    )
    .await;
    server.subscriptions_running(1).await;
    // The client stops reading while the desk keeps working.
    for n in 0..300 {
        network_ticket(&server, &desk, &format!("Noise {n}")).await;
    }
    server
        .must(
            admin,
            "mutation($id: ID!) { revokeApiToken(input: { id: $id }) { apiToken { active } } }",
            json!({ "id": token_id }),
        )
        .await;
    // Whatever it had queued, the socket ends refused, not subscribed.
    let closed = ws.closed(Duration::from_secs(20)).await;
    assert_eq!(
        closed.code, 4403,
        "the socket must close on the revocation: {closed:?}"
    );
    // And the token opens nothing again.
    let mut ws = WsClient::connect(&server.ws_url()).await;
    ws.send(json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {secret}") } }))
        .await;
    assert_eq!(ws.closed(Duration::from_secs(10)).await.code, 4403);
}

// ---- 8. the smaller ones -------------------------------------------------------------

async fn a_stale_version_is_a_conflict_even_when_nothing_changes(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let ada = &desk.agents[0].token;
    let t = network_ticket(&server, &desk, "Printer jam").await;
    let update = "mutation($input: UpdateTicketInput!) { updateTicket(input: $input) { ticket { version } } }";
    server
        .must(
            ada,
            update,
            json!({ "input": { "id": t["id"], "version": 1, "title": "Printer jam again" } }),
        )
        .await;
    // Version 1 is stale now; sending the current title changes nothing, and is refused.
    let reply = server
        .gql(
            Some(ada),
            update,
            json!({ "input": { "id": t["id"], "version": 1, "title": "Printer jam again" } }),
        )
        .await;
    assert_eq!(reply.error_code(), "CONFLICT");

    let problem = server
        .must(ada, CREATE_PROBLEM, json!({ "input": { "title": "Jams" } }))
        .await["createProblem"]["problem"]
        .clone();
    server
        .must(
            ada,
            UPDATE_PROBLEM,
            json!({ "input": { "id": problem["id"], "version": 1, "title": "Paper jams" } }),
        )
        .await;
    let reply = server
        .gql(
            Some(ada),
            UPDATE_PROBLEM,
            json!({ "input": { "id": problem["id"], "version": 1, "title": "Paper jams" } }),
        )
        .await;
    assert_eq!(reply.error_code(), "CONFLICT");
}

async fn a_tickets_write_token_changes_tickets_as_the_readme_says(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let t = network_ticket(&server, &desk, "Disk full").await;
    let writer = create_token(&server, &desk.admin, &["tickets:write"]).await;
    let update = "mutation($input: UpdateTicketInput!) { updateTicket(input: $input) { ticket { title version } } }";
    let changed = server
        .must(&writer, update, json!({ "input": { "id": t["id"], "version": t["version"], "title": "Disk full on db-1" } }))
        .await;
    assert_eq!(
        changed["updateTicket"]["ticket"]["title"],
        "Disk full on db-1"
    );
    // Control: a read-only token may not.
    let reader = create_token(&server, &desk.admin, &["tickets:read"]).await;
    let reply = server
        .gql(
            Some(&reader),
            update,
            json!({ "input": { "id": t["id"], "version": 2, "title": "x" } }),
        )
        .await;
    assert_eq!(reply.error_code(), "FORBIDDEN");
}

/// PostgreSQL cannot store a NUL character; a client that sends one hears which field,
/// on both backends alike, and nothing is written.
async fn text_with_a_nul_character_is_refused_by_field(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let ada = &desk.agents[0].token;
    let input = json!({ "kind": "INCIDENT", "title": "Printer\u{0}jam", "impact": "LOW", "urgency": "LOW", "groupId": desk.network_group_id });
    let refused = server
        .gql(Some(ada), CREATE, json!({ "input": input }))
        .await;
    assert_eq!(refused.error_code(), "BAD_USER_INPUT", "{:#}", refused.body);
    assert_eq!(refused.body["errors"][0]["extensions"]["field"], "title");
    let ticket = network_ticket(&server, &desk, "Printer jam").await;
    let comment = server
        .gql(
            Some(ada),
            COMMENT,
            json!({ "input": { "ticketId": ticket["id"], "body": "see\u{0}log" } }),
        )
        .await;
    assert_eq!(comment.error_code(), "BAD_USER_INPUT", "{:#}", comment.body);
    assert_eq!(comment.body["errors"][0]["extensions"]["field"], "body");
    let tickets = server
        .must(
            &desk.manager.token,
            "{ tickets(first: 10) { edges { node { title } } } }",
            Value::Null,
        )
        .await;
    assert_eq!(
        tickets["tickets"]["edges"].as_array().unwrap().len(),
        1,
        "nothing half-written"
    );
}

on_both_backends!(
    text_with_a_nul_character_is_refused_by_field,
    deeply_nested_values_are_refused_and_the_server_lives,
    aliases_spread_through_fragments_count_against_the_limit,
    errors_quote_only_a_prefix_of_what_was_sent,
    instants_outside_the_calendar_are_refused,
    a_replayed_queue_does_not_show_a_ticket_that_left_it,
    problems_cannot_reach_incidents_the_agent_may_not_see,
    an_internal_article_stays_internal_when_its_copy_is_marked_public,
    requesters_and_narrow_tokens_see_names_not_the_directory,
    oversized_websocket_messages_close_the_socket_not_the_server,
    a_stalled_socket_is_closed_when_its_token_is_revoked,
    a_stale_version_is_a_conflict_even_when_nothing_changes,
    a_tickets_write_token_changes_tickets_as_the_readme_says,
);
