//! The service desk core, end to end: tickets recorded, routed, worked, resolved and
//! closed, with their history; the lifecycle's rules; visibility; concurrency.

use serde_json::{Value, json};
use switchboard_tests::{
    Backend, TestServer,
    desk::{COMMENT, CREATE, TRANSITION},
    on_both_backends,
};

fn ticket(reply: &Value) -> &Value {
    &reply["createTicket"]["ticket"]
}

async fn transition(
    server: &TestServer,
    token: &str,
    ticket: &Value,
    input: Value,
) -> switchboard_tests::Reply {
    let mut input = input;
    input["id"] = ticket["id"].clone();
    input["version"] = ticket["version"].clone();
    server
        .gql(Some(token), TRANSITION, json!({ "input": input }))
        .await
}

/// The ticket as it is now: status and version, for the next change.
async fn reload(server: &TestServer, token: &str, number: &Value) -> Value {
    server
        .must(
            token,
            "query($n: String!) { ticket(number: $n) { id number status version } }",
            json!({ "n": number }),
        )
        .await["ticket"]
        .clone()
}

async fn a_portal_ticket_is_routed_worked_and_closed_with_its_history(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let rita = &desk.requester.token;

    let created = server
        .must(rita, CREATE, json!({ "input": { "kind": "INCIDENT", "title": "VPN down in Lyon", "description": "Nobody can connect since 9:00", "impact": "HIGH", "urgency": "HIGH" } }))
        .await;
    let first = ticket(&created).clone();
    assert_eq!(first["number"], "INC0000001");
    assert_eq!(
        first["priority"], "P1",
        "high impact and high urgency give P1"
    );
    assert_eq!(first["group"]["name"], "Network", "the VPN rule routed it");
    assert_eq!(
        first["assignee"]["name"], "ada",
        "least open work: both agents are free, the first one gets it"
    );
    assert_eq!(first["status"], "ASSIGNED");
    assert_eq!(first["requester"]["name"], "rita");
    assert_eq!(first["organization"]["name"], "Acme");
    // The next VPN incident goes to the agent with less open work.
    let second = server
        .must(rita, CREATE, json!({ "input": { "kind": "INCIDENT", "title": "vpn slow", "impact": "LOW", "urgency": "MEDIUM" } }))
        .await;
    assert_eq!(ticket(&second)["assignee"]["name"], "bob");
    assert_eq!(ticket(&second)["priority"], "P4");
    assert_eq!(ticket(&second)["number"], "INC0000002");
    // A service request does not match the incident rule: it waits unrouted.
    let request = server
        .must(
            rita,
            CREATE,
            json!({ "input": { "kind": "SERVICE_REQUEST", "title": "New VPN token" } }),
        )
        .await;
    assert_eq!(ticket(&request)["number"], "REQ0000001");
    assert_eq!(ticket(&request)["group"], Value::Null);

    // Ada works it through to resolution.
    let ada = &desk.agents[0].token;
    let t = transition(&server, ada, &first, json!({ "status": "IN_PROGRESS" })).await;
    let t = t.data()["transitionTicket"]["ticket"].clone();
    let reply = server
        .must(ada, COMMENT, json!({ "input": { "ticketId": first["id"], "body": "We are on it: the Lyon concentrator rebooted." } }))
        .await;
    assert!(
        reply["addComment"]["ticket"]["firstResponseAt"].is_string(),
        "the first public agent comment is the first response"
    );
    server
        .must(ada, COMMENT, json!({ "input": { "ticketId": first["id"], "body": "Suspect firmware 4.2 bug", "internal": true } }))
        .await;
    let t = transition(
        &server,
        ada,
        &t,
        json!({ "status": "PENDING", "pendingReason": "AWAITING_CUSTOMER" }),
    )
    .await;
    let t = t.data()["transitionTicket"]["ticket"].clone();
    let t = transition(&server, ada, &t, json!({ "status": "IN_PROGRESS" }))
        .await
        .data()["transitionTicket"]["ticket"]
        .clone();
    let t = transition(&server, ada, &t, json!({ "status": "RESOLVED", "resolutionCode": "FIXED", "resolutionNotes": "Firmware rolled back" }))
        .await
        .data()["transitionTicket"]["ticket"]
        .clone();
    assert!(t["resolvedAt"].is_string());
    // Rita confirms: closed.
    let t = transition(&server, rita, &t, json!({ "status": "CLOSED" }))
        .await
        .data()["transitionTicket"]["ticket"]
        .clone();
    assert_eq!(t["status"], "CLOSED");

    let history = "query($n: String!) { ticket(number: $n) { history { nodes { action actorName changes { field oldValue newValue } details } } } }";
    let agent_view = server
        .must(ada, history, json!({ "n": "INC0000001" }))
        .await;
    let entries = agent_view["ticket"]["history"]["nodes"]
        .as_array()
        .unwrap()
        .clone();
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "ticket.created",
            "ticket.routed",
            "ticket.status_changed",
            "ticket.commented",
            "ticket.commented",
            "ticket.status_changed",
            "ticket.status_changed",
            "ticket.status_changed",
            "ticket.status_changed"
        ]
    );
    assert_eq!(entries[0]["actorName"], "rita");
    assert_eq!(entries[1]["details"]["ruleName"], "VPN incidents");
    assert_eq!(entries[2]["actorName"], "ada");
    assert_eq!(
        entries[2]["changes"],
        json!([{ "field": "status", "oldValue": "ASSIGNED", "newValue": "IN_PROGRESS" }])
    );
    let resolved = &entries[7]["changes"];
    assert!(
        resolved
            .as_array()
            .unwrap()
            .contains(&json!({ "field": "resolutionCode", "oldValue": null, "newValue": "FIXED" }))
    );
    assert_eq!(entries[8]["actorName"], "rita");
    assert_eq!(
        entries[8]["changes"][0],
        json!({ "field": "status", "oldValue": "RESOLVED", "newValue": "CLOSED" })
    );
    // The requester's history leaves out the internal note.
    let requester_view = server
        .must(rita, history, json!({ "n": "INC0000001" }))
        .await;
    assert_eq!(
        requester_view["ticket"]["history"]["nodes"]
            .as_array()
            .unwrap()
            .len(),
        entries.len() - 1
    );
}

async fn invalid_transitions_are_refused_and_reopening_has_a_window(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let ada = &desk.agents[0].token;
    let created = server
        .must(ada, CREATE, json!({ "input": { "kind": "INCIDENT", "title": "Printer jam", "groupId": desk.network_group_id } }))
        .await;
    let t = ticket(&created).clone();
    assert_eq!(t["status"], "NEW");

    let refused = transition(&server, ada, &t, json!({ "status": "CLOSED" })).await;
    assert_eq!(refused.error_code(), "INVALID_TRANSITION");
    assert_eq!(
        refused.body["errors"][0]["extensions"]["allowed"],
        json!(["ASSIGNED", "IN_PROGRESS", "RESOLVED", "CANCELLED"])
    );
    assert!(
        refused
            .error_message()
            .contains("NEW ticket cannot become CLOSED"),
        "{}",
        refused.error_message()
    );
    let refused = transition(&server, ada, &t, json!({ "status": "ASSIGNED" })).await;
    assert_eq!(
        refused.error_code(),
        "INVALID_TRANSITION",
        "ASSIGNED needs an assignee"
    );
    let refused = transition(&server, ada, &t, json!({ "status": "RESOLVED" })).await;
    assert_eq!(refused.error_code(), "BAD_USER_INPUT");
    assert_eq!(
        refused.body["errors"][0]["extensions"]["field"],
        "resolutionCode"
    );
    let t = transition(&server, ada, &t, json!({ "status": "IN_PROGRESS" }))
        .await
        .data()["transitionTicket"]["ticket"]
        .clone();
    let refused = transition(&server, ada, &t, json!({ "status": "PENDING" })).await;
    assert_eq!(
        refused.body["errors"][0]["extensions"]["field"],
        "pendingReason"
    );
    // Nothing the refusals touched changed: the version is the one after IN_PROGRESS.
    assert_eq!(
        reload(&server, ada, &created["createTicket"]["ticket"]["number"]).await["version"],
        t["version"]
    );

    let t = transition(
        &server,
        ada,
        &t,
        json!({ "status": "RESOLVED", "resolutionCode": "FIXED" }),
    )
    .await
    .data()["transitionTicket"]["ticket"]
        .clone();
    // Reopened inside the window (after 6 of 7 days).
    server.advance(chrono::Duration::days(6));
    let t = transition(&server, ada, &t, json!({ "status": "IN_PROGRESS" }))
        .await
        .data()["transitionTicket"]["ticket"]
        .clone();
    assert_eq!(t["status"], "IN_PROGRESS");
    assert_eq!(t["resolvedAt"], Value::Null);
    let t = transition(
        &server,
        ada,
        &t,
        json!({ "status": "RESOLVED", "resolutionCode": "FIXED" }),
    )
    .await
    .data()["transitionTicket"]["ticket"]
        .clone();
    // Refused outside it.
    server.advance(chrono::Duration::days(8));
    let refused = transition(&server, ada, &t, json!({ "status": "IN_PROGRESS" })).await;
    assert_eq!(refused.error_code(), "INVALID_TRANSITION");
    assert!(
        refused
            .error_message()
            .contains("can no longer be reopened"),
        "{}",
        refused.error_message()
    );
    let t = transition(&server, ada, &t, json!({ "status": "CLOSED" }))
        .await
        .data()["transitionTicket"]["ticket"]
        .clone();
    // A closed ticket moves no more.
    for status in ["NEW", "IN_PROGRESS", "RESOLVED", "CANCELLED"] {
        let refused = transition(
            &server,
            ada,
            &t,
            json!({ "status": status, "resolutionCode": "X" }),
        )
        .await;
        assert_eq!(
            refused.error_code(),
            "INVALID_TRANSITION",
            "CLOSED -> {status}"
        );
        assert_eq!(
            refused.body["errors"][0]["extensions"]["allowed"],
            json!([])
        );
    }
}

async fn resolved_tickets_close_themselves(backend: Backend) {
    let server =
        TestServer::start_with(backend, |s| s.job_interval_seconds = Some("1".into())).await;
    let desk = server.desk().await;
    let ada = &desk.agents[0].token;
    let created = server
        .must(ada, CREATE, json!({ "input": { "kind": "INCIDENT", "title": "Monitor flickers", "groupId": desk.network_group_id } }))
        .await;
    let t = transition(
        &server,
        ada,
        ticket(&created),
        json!({ "status": "RESOLVED", "resolutionCode": "REPLACED" }),
    )
    .await;
    assert_eq!(t.data()["transitionTicket"]["ticket"]["status"], "RESOLVED");
    let number = ticket(&created)["number"].clone();
    // Four days on: still resolved (the default period is five).
    server.advance(chrono::Duration::days(4));
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(reload(&server, ada, &number).await["status"], "RESOLVED");
    server.advance(chrono::Duration::days(2));
    let start = std::time::Instant::now();
    loop {
        if reload(&server, ada, &number).await["status"] == "CLOSED" {
            break;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "the ticket did not close itself"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let history = server
        .must(
            ada,
            "query($n: String!) { ticket(number: $n) { history { nodes { actorName details } } } }",
            json!({ "n": number }),
        )
        .await;
    let last = history["ticket"]["history"]["nodes"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["actorName"], "Switchboard");
    assert_eq!(
        last["details"]["reason"],
        "closed automatically 5 days after resolution"
    );
}

async fn two_updates_with_the_same_version_one_wins(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let (ada, bob) = (&desk.agents[0].token, &desk.agents[1].token);
    let created = server
        .must(ada, CREATE, json!({ "input": { "kind": "INCIDENT", "title": "Disk full", "groupId": desk.network_group_id } }))
        .await;
    let t = ticket(&created).clone();
    let update = "mutation($input: UpdateTicketInput!) { updateTicket(input: $input) { ticket { title version } } }";
    let as_ada = server.gql(Some(ada), update, json!({ "input": { "id": t["id"], "version": t["version"], "title": "Disk full on db-1", "urgency": "HIGH" } }));
    let as_bob = server.gql(Some(bob), update, json!({ "input": { "id": t["id"], "version": t["version"], "title": "Disk full on db-2" } }));
    let (a, b) = tokio::join!(as_ada, as_bob);
    let (winner, loser) = match (
        a.body.get("errors").is_none(),
        b.body.get("errors").is_none(),
    ) {
        (true, false) => (a, b),
        (false, true) => (b, a),
        other => panic!(
            "exactly one must win, got {other:?}: {:#} {:#}",
            a.body, b.body
        ),
    };
    assert_eq!(loser.error_code(), "CONFLICT");
    assert!(loser.error_message().contains("reload it and try again"));
    let won = winner.data()["updateTicket"]["ticket"].clone();
    assert_eq!(won["version"], 2);
    let now = server
        .must(ada, "query($n: String!) { ticket(number: $n) { title version history { nodes { action } } } }", json!({ "n": t["number"] }))
        .await;
    assert_eq!(
        now["ticket"]["title"], won["title"],
        "the winner's change is what stands"
    );
    assert_eq!(now["ticket"]["version"], 2);
    let updates = now["ticket"]["history"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "ticket.updated")
        .count();
    assert_eq!(updates, 1);
}

async fn requesters_see_only_their_own_tickets_and_no_internal_notes(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let (rita, otto) = (&desk.requester.token, &desk.other_requester.token);
    let ada = &desk.agents[0].token;
    let created = server
        .must(
            rita,
            CREATE,
            json!({ "input": { "kind": "INCIDENT", "title": "VPN broken for rita" } }),
        )
        .await;
    let t = ticket(&created).clone();
    server.must(ada, COMMENT, json!({ "input": { "ticketId": t["id"], "body": "Customer is VIP, careful", "internal": true } })).await;
    server
        .must(
            ada,
            COMMENT,
            json!({ "input": { "ticketId": t["id"], "body": "Please restart your laptop" } }),
        )
        .await;

    // Otto cannot read it: by number, by node id, or in a list.
    let by_number = server
        .gql(
            Some(otto),
            "query($n: String!) { ticket(number: $n) { id } }",
            json!({ "n": t["number"] }),
        )
        .await;
    assert_eq!(by_number.error_code(), "NOT_FOUND");
    let by_id = server
        .gql(
            Some(otto),
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": t["id"] }),
        )
        .await;
    assert_eq!(by_id.error_code(), "NOT_FOUND");
    let list = server
        .must(
            otto,
            "{ tickets { nodes { number } } myTickets { nodes { number } } }",
            Value::Null,
        )
        .await;
    assert_eq!(list["tickets"]["nodes"], json!([]));
    assert_eq!(list["myTickets"]["nodes"], json!([]));
    let comment = server
        .gql(
            Some(otto),
            COMMENT,
            json!({ "input": { "ticketId": t["id"], "body": "hello?" } }),
        )
        .await;
    assert_eq!(comment.error_code(), "NOT_FOUND");

    // Rita reads it, with the public comment only.
    let mine = server
        .must(
            rita,
            "query($n: String!) { ticket(number: $n) { comments { nodes { body internal } } } }",
            json!({ "n": t["number"] }),
        )
        .await;
    assert_eq!(
        mine["ticket"]["comments"]["nodes"],
        json!([{ "body": "Please restart your laptop", "internal": false }])
    );
    // And may not write internal notes or set what agents set, naming the field; nothing is written.
    let note = server
        .gql(
            Some(rita),
            COMMENT,
            json!({ "input": { "ticketId": t["id"], "body": "x", "internal": true } }),
        )
        .await;
    assert_eq!(
        (
            note.error_code(),
            note.body["errors"][0]["extensions"]["field"].as_str()
        ),
        ("BAD_USER_INPUT", Some("internal"))
    );
    let routed = server
        .gql(Some(rita), CREATE, json!({ "input": { "kind": "INCIDENT", "title": "Mine", "groupId": desk.network_group_id } }))
        .await;
    assert_eq!(
        (
            routed.error_code(),
            routed.body["errors"][0]["extensions"]["field"].as_str()
        ),
        ("BAD_USER_INPUT", Some("groupId"))
    );
    let count = server
        .must(&desk.admin, "{ ticketCounts { total } }", Value::Null)
        .await;
    assert_eq!(count["ticketCounts"]["total"], 1);

    // Once Acme shares its tickets among its requesters, Otto sees Rita's, still without notes.
    server
        .must(
            &desk.admin,
            "mutation($id: ID!) { updateOrganization(input: { id: $id, requestersSeeAllTickets: true }) { organization { id } } }",
            json!({ "id": desk.organization_id }),
        )
        .await;
    let shared = server
        .must(
            otto,
            "query($n: String!) { ticket(number: $n) { comments { nodes { internal } } } }",
            json!({ "n": t["number"] }),
        )
        .await;
    assert_eq!(
        shared["ticket"]["comments"]["nodes"],
        json!([{ "internal": false }])
    );
}

async fn agents_see_their_groups_and_escalate(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let (ada, tess) = (&desk.agents[0].token, &desk.tier2_agent.token);
    let created = server
        .must(
            &desk.requester.token,
            CREATE,
            json!({ "input": { "kind": "INCIDENT", "title": "VPN flapping" } }),
        )
        .await;
    let t = ticket(&created).clone();
    // Tess (tier 2) does not see the Network queue's ticket yet.
    let hidden = server
        .gql(
            Some(tess),
            "query($n: String!) { ticket(number: $n) { id } }",
            json!({ "n": t["number"] }),
        )
        .await;
    assert_eq!(hidden.error_code(), "NOT_FOUND");

    let escalate = "mutation($input: EscalateTicketInput!) { escalateTicket(input: $input) { ticket { version status escalationLevel managerFlaggedAt group { name } assignee { name } } } }";
    let up = server
        .must(ada, escalate, json!({ "input": { "id": t["id"], "version": t["version"], "level": "FUNCTIONAL", "reason": "needs routing changes" } }))
        .await;
    let up = &up["escalateTicket"]["ticket"];
    assert_eq!(up["group"]["name"], "Network tier 2");
    assert_eq!(up["assignee"], Value::Null);
    assert_eq!(up["status"], "NEW");
    assert_eq!(up["escalationLevel"], 1);
    let seen = server
        .must(
            tess,
            "query($n: String!) { ticket(number: $n) { number } }",
            json!({ "n": t["number"] }),
        )
        .await;
    assert_eq!(seen["ticket"]["number"], t["number"]);
    // Tier 2 has no higher tier: said plainly.
    let refused = server
        .gql(Some(tess), escalate, json!({ "input": { "id": t["id"], "version": up["version"], "level": "FUNCTIONAL", "reason": "again" } }))
        .await;
    assert_eq!(refused.error_code(), "BAD_USER_INPUT");
    assert!(refused.error_message().contains("no escalation group"));
    let flagged = server
        .must(tess, escalate, json!({ "input": { "id": t["id"], "version": up["version"], "level": "HIERARCHICAL", "reason": "customer is waiting" } }))
        .await;
    assert!(flagged["escalateTicket"]["ticket"]["managerFlaggedAt"].is_string());
    // Requesters do not escalate.
    let refused = server
        .gql(Some(&desk.requester.token), escalate, json!({ "input": { "id": t["id"], "version": 3, "level": "HIERARCHICAL", "reason": "please" } }))
        .await;
    assert_eq!(refused.error_code(), "FORBIDDEN");
}

async fn bad_input_is_refused_naming_the_field_and_writes_nothing(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let ada = &desk.agents[0].token;
    let cases = [
        (json!({ "kind": "INCIDENT", "title": "   " }), "title"),
        (
            json!({ "kind": "INCIDENT", "title": "x".repeat(201) }),
            "title",
        ),
        (
            json!({ "kind": "INCIDENT", "title": "ok", "description": "x".repeat(20_001) }),
            "description",
        ),
        (
            json!({ "kind": "INCIDENT", "title": "ok", "categoryId": desk.network_group_id }),
            "categoryId",
        ),
        (
            json!({ "kind": "INCIDENT", "title": "ok", "groupId": "bm9wZQ" }),
            "groupId",
        ),
        (
            json!({ "kind": "INCIDENT", "title": "ok", "assigneeId": desk.tier2_agent.id, "groupId": desk.network_group_id }),
            "assigneeId",
        ),
    ];
    for (input, field) in cases {
        let reply = server
            .gql(Some(ada), CREATE, json!({ "input": input }))
            .await;
        assert_eq!(
            reply.error_code(),
            "BAD_USER_INPUT",
            "{field}: {:#}",
            reply.body
        );
        assert_eq!(
            reply.body["errors"][0]["extensions"]["field"], field,
            "{:#}",
            reply.body
        );
    }
    // An enumeration value that does not exist.
    let reply = server
        .gql(
            Some(ada),
            CREATE,
            json!({ "input": { "kind": "OUTAGE", "title": "ok" } }),
        )
        .await;
    assert_eq!(reply.error_code(), "BAD_USER_INPUT", "{:#}", reply.body);
    assert_eq!(reply.body["errors"][0]["extensions"]["field"], "kind");
    assert!(
        reply.error_message().contains("OUTAGE"),
        "{}",
        reply.error_message()
    );
    let count = server
        .must(&desk.admin, "{ ticketCounts { total } }", Value::Null)
        .await;
    assert_eq!(count["ticketCounts"]["total"], 0, "nothing was written");
    // The numbering was not consumed by the refusals either.
    let created = server
        .must(
            ada,
            CREATE,
            json!({ "input": { "kind": "INCIDENT", "title": "ok" } }),
        )
        .await;
    assert_eq!(ticket(&created)["number"], "INC0000001");
}

async fn text_search_finds_a_word_in_a_comment(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let (ada, rita) = (&desk.agents[0].token, &desk.requester.token);
    let mut ids = vec![];
    for title in [
        "Printer on floor 3",
        "Printer on floor 4",
        "Keyboard sticky",
    ] {
        let input = json!({ "kind": "INCIDENT", "title": title, "requesterId": desk.requester.id, "groupId": desk.network_group_id });
        let created = server.must(ada, CREATE, json!({ "input": input })).await;
        ids.push(ticket(&created).clone());
    }
    server.must(ada, COMMENT, json!({ "input": { "ticketId": ids[1]["id"], "body": "Shows error 0xDEADBEEF after toner swap" } })).await;
    server.must(ada, COMMENT, json!({ "input": { "ticketId": ids[0]["id"], "body": "Vendor ticket 100%_done", "internal": true } })).await;
    let search = "query($text: String!) { tickets(filter: { text: $text }) { nodes { number } } }";
    let found = server
        .must(&desk.admin, search, json!({ "text": "deadbeef" }))
        .await;
    assert_eq!(
        found["tickets"]["nodes"],
        json!([{ "number": ids[1]["number"] }])
    );
    let found = server
        .must(&desk.admin, search, json!({ "text": "printer FLOOR" }))
        .await;
    assert_eq!(found["tickets"]["nodes"].as_array().unwrap().len(), 2);
    // Wildcards in the words match themselves.
    let found = server
        .must(&desk.admin, search, json!({ "text": "100%_done" }))
        .await;
    assert_eq!(
        found["tickets"]["nodes"],
        json!([{ "number": ids[0]["number"] }])
    );
    // As a wildcard, `1%e` would match "100%_done"; as text it matches nothing.
    let found = server
        .must(&desk.admin, search, json!({ "text": "1%e" }))
        .await;
    assert_eq!(found["tickets"]["nodes"], json!([]));
    // Internal notes are not searchable by the requester.
    let found = server.must(rita, search, json!({ "text": "vendor" })).await;
    assert_eq!(found["tickets"]["nodes"], json!([]));
}

async fn dashboards_count_by_status_and_priority(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let ada = &desk.agents[0].token;
    for (impact, urgency) in [("HIGH", "HIGH"), ("HIGH", "HIGH"), ("LOW", "LOW")] {
        server
            .must(ada, CREATE, json!({ "input": { "kind": "INCIDENT", "title": "t", "impact": impact, "urgency": urgency, "groupId": desk.network_group_id } }))
            .await;
    }
    let counts = server
        .must(
            ada,
            "query($g: [ID!]) { ticketCounts(filter: { groupId: $g }) { total byStatus { status count } byPriority { priority count } } }",
            json!({ "g": [desk.network_group_id] }),
        )
        .await;
    assert_eq!(counts["ticketCounts"]["total"], 3);
    assert_eq!(
        counts["ticketCounts"]["byStatus"],
        json!([{ "status": "NEW", "count": 3 }])
    );
    assert_eq!(
        counts["ticketCounts"]["byPriority"],
        json!([{ "priority": "P1", "count": 2 }, { "priority": "P4", "count": 1 }])
    );
}

/// What recording a ticket costs the database, counted (Server-Timing) rather than
/// timed: on SQLite every statement is a round trip through the driver's thread, and the
/// one writer holds the lock through all of them. A plain incident into a given queue
/// reads the desk's settings, the requester and the group, numbers the ticket, inserts
/// it and its event and starts its clocks; nothing for links, trends or releases it
/// does not have (each of which used to cost a statement).
async fn a_new_ticket_costs_eight_statements(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let agent = &desk.agents[0].token;
    // The number back, and nothing the response would read besides.
    let create = "mutation($input: CreateTicketInput!) { createTicket(input: $input) { ticket { id number } } }";
    let mut costs = Vec::new();
    for n in 0..3 {
        let reply = server
            .gql(
                Some(agent),
                create,
                json!({ "input": { "kind": "INCIDENT", "title": format!("Printer {n}"), "groupId": desk.network_group_id, "requesterId": desk.requester.id } }),
            )
            .await;
        assert!(ticket(reply.data())["number"].is_string());
        costs.push(reply.sql_statements.expect("a Server-Timing header"));
    }
    assert!(
        costs.iter().all(|&c| c <= 8),
        "statements per createTicket: {costs:?}"
    );
}

on_both_backends!(
    a_new_ticket_costs_eight_statements,
    a_portal_ticket_is_routed_worked_and_closed_with_its_history,
    invalid_transitions_are_refused_and_reopening_has_a_window,
    resolved_tickets_close_themselves,
    two_updates_with_the_same_version_one_wins,
    requesters_see_only_their_own_tickets_and_no_internal_notes,
    agents_see_their_groups_and_escalate,
    bad_input_is_refused_naming_the_field_and_writes_nothing,
    text_search_finds_a_word_in_a_comment,
    dashboards_count_by_status_and_priority,
);
