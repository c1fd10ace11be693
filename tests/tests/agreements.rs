//! Agreements on the clock engine, as a service level manager meets them: a ticket moved
//! from the desk to tier 2 runs tier 2's OLA while the customer's SLA keeps running, and
//! the OLA's breach reaches tier 2's manager; a ticket with a supplier runs the
//! contract's clock and pauses it when handed back; waiting on the requester pauses
//! every agreement; a changed agreement leaves running clocks on their old terms.

use std::time::Duration as StdDuration;

use chrono::{Duration, Utc};
use serde_json::{Value, json};
use switchboard_tests::{
    Backend, TestServer,
    desk::{CREATE, TRANSITION},
    on_both_backends,
    server::sign_hs256,
    services::Smtp,
};

on_both_backends!(
    an_ola_runs_while_the_ticket_sits_with_its_group,
    a_contract_runs_while_the_supplier_holds_the_ticket,
    a_suppliers_people_see_what_is_handed_to_it,
);

const POLICY: &str = "mutation($input: SaveSlaPolicyInput!) { saveSlaPolicy(input: $input) { slaPolicy { id agreement } } }";
const ASSIGN: &str =
    "mutation($input: AssignTicketInput!) { assignTicket(input: $input) { ticket { version } } }";
const CLOCKS: &str = "query($id: ID!) { node(id: $id) { ... on Ticket { version slaClocks { agreement metric state groupId supplierId elapsedSeconds targetSeconds breachedAt } } } }";

async fn clocks(server: &TestServer, token: &str, id: &Value) -> Value {
    server.must(token, CLOCKS, json!({ "id": id })).await["node"].clone()
}

/// The clock of an agreement kind (and party) for a metric.
fn clock<'a>(ticket: &'a Value, agreement: &str, party: Option<&Value>, metric: &str) -> &'a Value {
    ticket["slaClocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| {
            c["agreement"] == agreement
                && c["metric"] == metric
                && party.is_none_or(|p| c["groupId"] == *p || c["supplierId"] == *p)
        })
        .unwrap_or_else(|| panic!("no {agreement} {metric} clock in {ticket}"))
}

/// The clock says when it breached, and that is never.
fn unbreached(clock: &Value) -> bool {
    clock.get("breachedAt").is_some_and(Value::is_null)
}

async fn an_ola_runs_while_the_ticket_sits_with_its_group(backend: Backend) {
    let smtp = Smtp::start();
    let server = TestServer::start_with(backend, |s| {
        s.smtp_url = Some(smtp.url());
        s.mail_from = Some("Acme Service Desk <desk@acme.test>".into());
    })
    .await;
    let desk = server.desk().await;
    let (admin, ada) = (&desk.admin, &desk.agents[0].token);
    // Mona manages both tiers; with an address, she can be told.
    let now = Utc::now().timestamp();
    let mona = sign_hs256(
        &json!({ "sub": "mona", "name": "mona", "email": "mona@acme.test",
        "roles": ["manager"], "exp": now + 3600, "nbf": now - 10 }),
    );
    server
        .must(&mona, "{ viewer { nodeId } }", Value::Null)
        .await;

    server
        .must(
            admin,
            POLICY,
            json!({ "input": { "name": "Customer", "position": 1, "resolutionMinutes": 480 } }),
        )
        .await;
    server.must(admin, POLICY, json!({ "input": { "name": "Desk OLA", "position": 2, "agreement": "OLA", "groupId": desk.network_group_id,
        "resolutionMinutes": 60, "documentUrl": "https://intranet.example.com/ola/desk.pdf" } })).await;
    let tier2_ola = server.must(admin, POLICY, json!({ "input": { "name": "Tier 2 OLA", "position": 3, "agreement": "OLA", "groupId": desk.tier2_group_id,
        "resolutionMinutes": 120 } })).await["saveSlaPolicy"]["slaPolicy"]["id"].clone();
    // An OLA needs its group.
    let reply = server.gql(Some(admin), POLICY, json!({ "input": { "name": "No group", "position": 4, "agreement": "OLA", "resolutionMinutes": 10 } })).await;
    assert_eq!(reply.error_code(), "BAD_USER_INPUT");

    let ticket = server.must(ada, CREATE, json!({ "input": { "kind": "INCIDENT", "title": "Switch in room 4 down", "impact": "MEDIUM", "urgency": "MEDIUM",
        "groupId": desk.network_group_id } })).await["createTicket"]["ticket"].clone();
    let id = ticket["id"].clone();
    let first = clocks(&server, ada, &id).await;
    assert_eq!(clock(&first, "SLA", None, "RESOLUTION")["state"], "RUNNING");
    assert_eq!(
        clock(&first, "OLA", Some(&desk.network_group_id), "RESOLUTION")["state"],
        "RUNNING"
    );

    // Twenty minutes at the desk, then to tier 2.
    server.advance(Duration::minutes(20));
    server.must(ada, ASSIGN, json!({ "input": { "id": id, "version": first["version"], "groupId": desk.tier2_group_id } })).await;
    let moved = clocks(&server, &mona, &id).await;
    let desk_ola = clock(&moved, "OLA", Some(&desk.network_group_id), "RESOLUTION");
    assert_eq!(
        desk_ola["state"], "PAUSED",
        "the desk's OLA stops counting when the ticket leaves: {moved}"
    );
    assert_eq!(desk_ola["elapsedSeconds"], 1200);
    assert_eq!(
        clock(&moved, "OLA", Some(&desk.tier2_group_id), "RESOLUTION")["state"],
        "RUNNING"
    );
    assert_eq!(clock(&moved, "SLA", None, "RESOLUTION")["state"], "RUNNING");

    // A changed OLA leaves the running clock on its old terms.
    server.must(admin, POLICY, json!({ "input": { "id": tier2_ola, "name": "Tier 2 OLA", "position": 3, "agreement": "OLA",
        "groupId": desk.tier2_group_id, "resolutionMinutes": 30 } })).await;
    let kept = clocks(&server, &mona, &id).await;
    assert_eq!(
        clock(&kept, "OLA", Some(&desk.tier2_group_id), "RESOLUTION")["targetSeconds"],
        7200
    );

    // Two hours later tier 2's OLA is breached, the customer's SLA is not; tier 2's
    // manager hears of it.
    server.advance(Duration::minutes(125));
    let start = std::time::Instant::now();
    loop {
        let now = clocks(&server, &mona, &id).await;
        if clock(&now, "OLA", Some(&desk.tier2_group_id), "RESOLUTION")
            .get("breachedAt")
            .is_some_and(Value::is_string)
        {
            assert!(unbreached(clock(&now, "SLA", None, "RESOLUTION")), "{now}");
            assert!(
                unbreached(clock(
                    &now,
                    "OLA",
                    Some(&desk.network_group_id),
                    "RESOLUTION"
                )),
                "{now}"
            );
            break;
        }
        assert!(
            start.elapsed() < StdDuration::from_secs(15),
            "tier 2's OLA did not breach: {now}"
        );
        tokio::time::sleep(StdDuration::from_millis(200)).await;
    }
    let mail = smtp.wait_for(
        "mona@acme.test",
        "breached its OLA",
        StdDuration::from_secs(15),
    );
    assert!(mail.contains("Switch in room 4 down"), "{mail}");
}

async fn a_contract_runs_while_the_supplier_holds_the_ticket(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let (admin, ada) = (&desk.admin, &desk.agents[0].token);
    let supplier = server
        .must(admin, "mutation($m: ID!) { saveSupplier(input: { name: \"Fibre Co\", managerId: $m, contacts: [{ name: \"NOC\", phone: \"+33 1 23 45 67 89\", role: \"24x7 hotline\" }] }) { id name contacts { name role } manager { name } } }",
            json!({ "m": desk.manager.id }))
        .await["saveSupplier"]
        .clone();
    assert_eq!(supplier["contacts"][0]["role"], "24x7 hotline");
    assert_eq!(supplier["manager"]["name"], "mona");
    // Requesters do not read the desk's suppliers.
    assert_eq!(
        server
            .gql(
                Some(&desk.requester.token),
                "{ suppliers { name } }",
                Value::Null
            )
            .await
            .error_code(),
        "FORBIDDEN"
    );
    server.must(admin, POLICY, json!({ "input": { "name": "Fibre Co contract", "position": 1, "agreement": "UNDERPINNING_CONTRACT",
        "supplierId": supplier["id"], "resolutionMinutes": 240, "reviewAt": Utc::now() + Duration::days(400) } })).await;

    let ticket = server.must(ada, CREATE, json!({ "input": { "kind": "INCIDENT", "title": "Leased line to Lyon down", "impact": "HIGH", "urgency": "HIGH",
        "groupId": desk.network_group_id } })).await["createTicket"]["ticket"].clone();
    let id = ticket["id"].clone();
    let version = clocks(&server, ada, &id).await["version"].clone();
    let handed = server
        .must(ada, "mutation($i: HandTicketToSupplierInput!) { handTicketToSupplier(input: $i) { version supplier { name } } }",
            json!({ "i": { "ticketId": id, "version": version, "supplierId": supplier["id"] } }))
        .await["handTicketToSupplier"]
        .clone();
    assert_eq!(handed["supplier"]["name"], "Fibre Co");
    let running = clocks(&server, ada, &id).await;
    assert_eq!(
        clock(
            &running,
            "UNDERPINNING_CONTRACT",
            Some(&supplier["id"]),
            "RESOLUTION"
        )["state"],
        "RUNNING"
    );

    // An hour with the supplier; then waiting on the requester pauses it too.
    server.advance(Duration::hours(1));
    let working = server
        .must(
            ada,
            TRANSITION,
            json!({ "input": { "id": id, "version": handed["version"], "status": "IN_PROGRESS" } }),
        )
        .await["transitionTicket"]["ticket"]["version"]
        .clone();
    let waiting = server
        .must(ada, TRANSITION, json!({ "input": { "id": id, "version": working, "status": "PENDING", "pendingReason": "AWAITING_CUSTOMER" } }))
        .await["transitionTicket"]["ticket"]["version"]
        .clone();
    let paused = clocks(&server, ada, &id).await;
    let contract = clock(
        &paused,
        "UNDERPINNING_CONTRACT",
        Some(&supplier["id"]),
        "RESOLUTION",
    );
    assert_eq!(
        contract["state"], "PAUSED",
        "waiting on the requester breaches no agreement: {paused}"
    );
    assert_eq!(contract["elapsedSeconds"], 3600);
    server.advance(Duration::hours(1));
    let back = server
        .must(
            ada,
            TRANSITION,
            json!({ "input": { "id": id, "version": waiting, "status": "IN_PROGRESS" } }),
        )
        .await["transitionTicket"]["ticket"]["version"]
        .clone();
    assert_eq!(
        clock(
            &clocks(&server, ada, &id).await,
            "UNDERPINNING_CONTRACT",
            Some(&supplier["id"]),
            "RESOLUTION"
        )["state"],
        "RUNNING"
    );

    // Thirty minutes more, then the supplier hands it back: the contract's clock pauses
    // with 90 minutes counted, and stays paused while the desk works it.
    server.advance(Duration::minutes(30));
    server
        .must(ada, "mutation($i: HandTicketToSupplierInput!) { handTicketToSupplier(input: $i) { version } }",
            json!({ "i": { "ticketId": id, "version": back, "supplierId": null } }))
        .await;
    server.advance(Duration::hours(3));
    let after = clocks(&server, ada, &id).await;
    let contract = clock(
        &after,
        "UNDERPINNING_CONTRACT",
        Some(&supplier["id"]),
        "RESOLUTION",
    );
    assert_eq!(contract["state"], "PAUSED", "{after}");
    assert_eq!(contract["elapsedSeconds"], 5400);
    assert!(unbreached(contract), "{contract}");
}

async fn a_suppliers_people_see_what_is_handed_to_it(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let (admin, ada) = (&desk.admin, &desk.agents[0].token);
    let supplier = server
        .must(
            admin,
            "mutation { saveSupplier(input: { name: \"Fibre Co\" }) { id } }",
            Value::Null,
        )
        .await["saveSupplier"]["id"]
        .clone();
    // Sam works at Fibre Co: a person with no role at the desk.
    let sam = server.person("sam", &[]).await;
    let set = "mutation($u: ID!, $s: ID) { setUserSupplier(input: { userId: $u, supplierId: $s }) { user { supplier { name } } } }";
    let reply = server
        .gql(Some(ada), set, json!({ "u": sam.id, "s": supplier }))
        .await;
    assert_eq!(
        reply.error_code(),
        "FORBIDDEN",
        "only admins say who works where"
    );
    let made = server
        .must(admin, set, json!({ "u": sam.id, "s": supplier }))
        .await;
    assert_eq!(
        made["setUserSupplier"]["user"]["supplier"]["name"],
        "Fibre Co"
    );

    let ticket = server
        .must(
            ada,
            CREATE,
            json!({ "input": { "kind": "INCIDENT", "title": "Leased line to Lyon down",
        "groupId": desk.network_group_id } }),
        )
        .await["createTicket"]["ticket"]
        .clone();
    let id = ticket["id"].clone();
    server.must(ada, "mutation($t: ID!) { addComment(input: { ticketId: $t, body: \"Their NOC is slow again\", internal: true }) { comment { id } } }",
        json!({ "t": id })).await;
    let read = "query($id: ID!) { node(id: $id) { ... on Ticket { title version comments(first: 10) { nodes { body } } } } }";
    let listed = "{ tickets(first: 10) { nodes { title } } }";

    // Before the hand-over Sam sees nothing of it: not by id, not in a list.
    let before = server
        .gql(Some(&sam.token), read, json!({ "id": id }))
        .await;
    assert!(
        before.body["data"].get("node").is_some_and(Value::is_null),
        "{:#}",
        before.body
    );
    assert_eq!(before.error_code(), "NOT_FOUND");
    let none = server.must(&sam.token, listed, Value::Null).await;
    assert_eq!(none["tickets"]["nodes"], json!([]));

    let version = server.must(ada, read, json!({ "id": id })).await["node"]["version"].clone();
    server
        .must(ada, "mutation($i: HandTicketToSupplierInput!) { handTicketToSupplier(input: $i) { version } }",
            json!({ "i": { "ticketId": id, "version": version, "supplierId": supplier } }))
        .await;
    // Handed over, it is Sam's to see and answer, without the desk's internal notes.
    let with_sam = server.must(&sam.token, read, json!({ "id": id })).await["node"].clone();
    assert_eq!(with_sam["title"], "Leased line to Lyon down");
    assert_eq!(
        with_sam["comments"]["nodes"],
        json!([]),
        "internal notes stay the desk's"
    );
    let listed_now = server.must(&sam.token, listed, Value::Null).await;
    assert_eq!(
        listed_now["tickets"]["nodes"][0]["title"],
        "Leased line to Lyon down"
    );
    server.must(&sam.token, "mutation($t: ID!) { addComment(input: { ticketId: $t, body: \"Engineer on the way\" }) { comment { id } } }",
        json!({ "t": id })).await;

    // Taken back, it is gone from Sam's view again.
    let version = server.must(ada, read, json!({ "id": id })).await["node"]["version"].clone();
    server
        .must(ada, "mutation($i: HandTicketToSupplierInput!) { handTicketToSupplier(input: $i) { version } }",
            json!({ "i": { "ticketId": id, "version": version, "supplierId": null } }))
        .await;
    let after = server
        .gql(Some(&sam.token), read, json!({ "id": id }))
        .await;
    assert_eq!(after.error_code(), "NOT_FOUND");
}
