//! Automation rules: the desk's common asks run by rule (functional escalation at 90% of
//! the resolution target, the manager flagged for a P1, an organization's dedicated
//! group), once per event even on two replicas, never in a loop, and with the rights of
//! the person the rule runs as, refusals recorded.

use std::time::{Duration as StdDuration, Instant};

use chrono::Duration;
use serde_json::{Value, json};
use switchboard_tests::{Backend, TestServer, desk::CREATE, on_both_backends, services::Postgres};

const RULE: &str = "mutation($input: AutomationRuleInput!) { createAutomationRule(input: $input) { automationRule { id name trigger actions { type } } } }";
const TICKET: &str = "query($n: String!) { ticket(number: $n) { id version escalationLevel priority group { id } history(first: 100) { nodes { action actor { name } details } } } }";
const POLICY: &str =
    "mutation($input: SaveSlaPolicyInput!) { saveSlaPolicy(input: $input) { slaPolicy { id } } }";
const UPDATE: &str = "mutation($input: UpdateTicketInput!) { updateTicket(input: $input) { ticket { version priority } } }";

async fn ticket(server: &TestServer, token: &str, number: &str) -> Value {
    server.must(token, TICKET, json!({ "n": number })).await["ticket"].clone()
}

/// The ticket's history entries with this action.
fn entries(ticket: &Value, action: &str) -> Vec<Value> {
    ticket["history"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == action)
        .cloned()
        .collect()
}

/// Waits (up to 10 s) until the ticket's history has `count` entries of `action`.
async fn until(
    server: &TestServer,
    token: &str,
    number: &str,
    action: &str,
    count: usize,
) -> Value {
    let start = Instant::now();
    loop {
        let now = ticket(server, token, number).await;
        if entries(&now, action).len() >= count {
            return now;
        }
        assert!(
            start.elapsed() < StdDuration::from_secs(10),
            "no {count} × {action} in {now:#}"
        );
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
}

async fn raise(server: &TestServer, token: &str, input: Value) -> String {
    server.must(token, CREATE, json!({ "input": input })).await["createTicket"]["ticket"]["number"]
        .as_str()
        .unwrap()
        .to_string()
}

fn p1(group: &Value) -> Value {
    json!({ "kind": "INCIDENT", "title": "Payments down", "impact": "HIGH", "urgency": "HIGH", "groupId": group })
}

/// The rule of the issue: at 90% of the resolution target, on to the next tier.
async fn escalation_rule(server: &TestServer, admin: &str) {
    server.must(admin, POLICY, json!({ "input": { "name": "P1 24x7", "position": 1, "priority": "P1", "responseMinutes": 15, "resolutionMinutes": 120 } })).await;
    server.must(admin, RULE, json!({ "input": {
        "name": "Resolution at 90%: next tier", "trigger": "SLA_WARNING",
        "conditions": { "slaMetrics": ["RESOLUTION"], "slaPercentAtLeast": 90 },
        "actions": [{ "type": "ESCALATE", "level": "FUNCTIONAL", "reason": "90% of the resolution target is gone" }],
    } })).await;
}

async fn the_resolution_warning_at_90_percent_escalates_to_the_next_tier(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let ada = &desk.agents[0].token;
    escalation_rule(&server, &desk.admin).await;
    let number = raise(&server, ada, p1(&desk.network_group_id)).await;
    // The response clock's warnings (75%, 90% of 15 minutes) do not match the rule.
    server.advance(Duration::minutes(14));
    until(&server, ada, &number, "sla.warning", 2).await;
    // 90% of two hours is 108 minutes.
    server.advance(Duration::minutes(95));
    let now = until(&server, &desk.manager.token, &number, "ticket.escalated", 1).await;
    assert_eq!(now["group"]["id"], desk.tier2_group_id);
    assert_eq!(now["escalationLevel"], 1);
    let escalated = &entries(&now, "ticket.escalated")[0];
    assert_eq!(
        escalated["details"]["automation"]["rule"],
        "Resolution at 90%: next tier"
    );
    assert_eq!(
        escalated["details"]["reason"],
        "90% of the resolution target is gone"
    );
    assert_eq!(
        escalated["actor"]["name"], "admin",
        "acts as the rule's person"
    );
}

async fn a_p1_incident_flags_the_group_manager(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    server
        .must(
            &desk.admin,
            RULE,
            json!({ "input": {
        "name": "P1: tell the manager", "trigger": "TICKET_CREATED",
        "conditions": { "priorities": ["P1"], "kinds": ["INCIDENT"] },
        "actions": [
            { "type": "ESCALATE", "level": "HIERARCHICAL", "reason": "a P1 incident" },
            { "type": "ADD_NOTE", "template": "{{ rule.name }}: {{ ticket.number }} needs eyes" },
        ],
    } }),
        )
        .await;
    let ada = &desk.agents[0].token;
    let number = raise(&server, ada, p1(&desk.network_group_id)).await;
    let now = until(&server, ada, &number, "ticket.commented", 1).await;
    let flagged = entries(&now, "ticket.escalated");
    assert_eq!(flagged.len(), 1);
    assert_eq!(flagged[0]["details"]["level"], "HIERARCHICAL");
    assert_eq!(flagged[0]["details"]["managerId"].is_number(), true);
    let comments = server
        .must(ada, "query($n: String!) { ticket(number: $n) { comments(first: 10) { nodes { body internal } } } }", json!({ "n": number }))
        .await;
    let note = &comments["ticket"]["comments"]["nodes"][0];
    assert_eq!(
        note["body"],
        format!("P1: tell the manager: {number} needs eyes")
    );
    assert_eq!(note["internal"], true);
    // A P3 is not flagged.
    let quiet = raise(&server, ada, json!({ "kind": "INCIDENT", "title": "Slow", "impact": "LOW", "urgency": "LOW", "groupId": desk.network_group_id })).await;
    tokio::time::sleep(StdDuration::from_millis(500)).await;
    assert!(entries(&ticket(&server, ada, &quiet).await, "ticket.escalated").is_empty());
}

async fn an_organization_s_tickets_go_to_its_dedicated_group(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    server
        .must(
            &desk.admin,
            RULE,
            json!({ "input": {
        "name": "Acme goes to tier 2", "trigger": "TICKET_CREATED", "stopProcessing": true,
        "conditions": { "organizationIds": [desk.organization_id] },
        "actions": [{ "type": "SET_GROUP", "groupId": desk.tier2_group_id }],
    } }),
        )
        .await;
    let number = raise(
        &server,
        &desk.requester.token,
        json!({ "kind": "SERVICE_REQUEST", "title": "New monitor" }),
    )
    .await;
    let now = until(&server, &desk.manager.token, &number, "ticket.assigned", 1).await;
    assert_eq!(now["group"]["id"], desk.tier2_group_id);
}

async fn rules_do_not_set_themselves_off_and_chains_stop(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let ada = &desk.agents[0].token;
    // Each undoes the other: without the bound they would run for ever.
    for (name, from, to) in [("Up", "P3", "P2"), ("Down", "P2", "P3")] {
        server
            .must(
                &desk.admin,
                RULE,
                json!({ "input": {
            "name": name, "trigger": "TICKET_CHANGED",
            "conditions": { "priorities": [from], "titleWords": ["ping-pong!"] },
            "actions": [{ "type": "SET_PRIORITY", "priority": to }],
        } }),
            )
            .await;
    }
    let number = raise(&server, ada, json!({ "kind": "INCIDENT", "title": "Ping-pong", "impact": "MEDIUM", "urgency": "MEDIUM", "groupId": desk.network_group_id })).await;
    let before = ticket(&server, ada, &number).await;
    assert_eq!(before["priority"], "P3");
    server.must(ada, UPDATE, json!({ "input": { "id": before["id"], "version": before["version"], "title": "Ping-pong!" } })).await;
    let now = until(&server, ada, &number, "automation.chain_stopped", 1).await;
    tokio::time::sleep(StdDuration::from_millis(500)).await;
    let settled = ticket(&server, ada, &number).await;
    assert_eq!(
        settled["history"], now["history"],
        "nothing ran after the stop"
    );
    let by_rules: Vec<Value> = entries(&settled, "ticket.updated")
        .into_iter()
        .filter_map(|e| e["details"].get("automation").cloned())
        .collect();
    // Later rules see what earlier ones did to the ticket (Down answers Up's change in
    // the same round), so a level may hold more than one change; the depth is bounded.
    let deepest = by_rules.iter().map(|a| a["depth"].as_i64().unwrap()).max();
    assert_eq!(deepest, Some(5), "{by_rules:#?}");
    assert!(by_rules.len() <= 10, "{by_rules:#?}");
}

async fn an_action_the_rule_s_person_may_not_take_is_refused_and_recorded(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    server
        .must(
            &desk.admin,
            RULE,
            json!({ "input": {
        "name": "Rita escalates", "trigger": "TICKET_CREATED", "runAsId": desk.requester.id,
        "actions": [{ "type": "ESCALATE", "level": "FUNCTIONAL", "reason": "because" }],
    } }),
        )
        .await;
    let ada = &desk.agents[0].token;
    let number = raise(&server, ada, p1(&desk.network_group_id)).await;
    let now = until(&server, ada, &number, "automation.action_refused", 1).await;
    let refused = &entries(&now, "automation.action_refused")[0];
    assert_eq!(refused["details"]["code"], "FORBIDDEN");
    assert_eq!(refused["details"]["rule"], "Rita escalates");
    assert_eq!(now["escalationLevel"], 0);
    assert_eq!(now["group"]["id"], desk.network_group_id);
    // A requester does not see the desk's internal record of it.
    let rita = server
        .gql(Some(&desk.requester.token), TICKET, json!({ "n": number }))
        .await;
    if let Some(history) = rita.body["data"]["ticket"]["history"]["nodes"].as_array() {
        assert!(
            history
                .iter()
                .all(|e| e["action"] != "automation.action_refused")
        );
    }
}

async fn a_problem_s_progress_is_told_on_its_incidents(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let ada = &desk.agents[0].token;
    server.must(&desk.admin, RULE, json!({ "input": {
        "name": "Tell the affected", "trigger": "PROBLEM_STATUS_CHANGED",
        "actions": [{ "type": "ADD_COMMENT", "template": "{{ ticket.number }}: we are investigating the cause ({{ event.topic }})." }],
    } })).await;
    let mut incidents = Vec::new();
    for title in ["VPN drops", "VPN drops again"] {
        let input = json!({ "kind": "INCIDENT", "title": title, "impact": "LOW", "urgency": "LOW", "groupId": desk.network_group_id });
        incidents.push(
            server.must(ada, CREATE, json!({ "input": input })).await["createTicket"]["ticket"]
                .clone(),
        );
    }
    let problem = server
        .must(ada, "mutation($i: [ID!]!) { createProblem(input: { title: \"VPN sessions expire\", description: \"Hourly\", incidentIds: $i }) { problem { id version } } }", json!({ "i": [incidents[0]["id"], incidents[1]["id"]] }))
        .await["createProblem"]["problem"]
        .clone();
    server
        .must(ada, "mutation($input: TransitionProblemInput!) { transitionProblem(input: $input) { problem { status } } }", json!({ "input": { "id": problem["id"], "version": problem["version"], "to": "UNDER_INVESTIGATION" } }))
        .await;
    for incident in &incidents {
        let number = incident["number"].as_str().unwrap();
        let now = until(&server, ada, number, "ticket.commented", 1).await;
        let commented = &entries(&now, "ticket.commented")[0];
        assert_eq!(
            commented["details"]["automation"]["rule"],
            "Tell the affected"
        );
        let comments = server
            .must(ada, "query($n: String!) { ticket(number: $n) { comments(first: 10) { nodes { body internal } } } }", json!({ "n": number }))
            .await;
        assert_eq!(
            comments["ticket"]["comments"]["nodes"][0],
            json!({ "body": format!("{number}: we are investigating the cause (problem.status_changed)."), "internal": false })
        );
    }
}

async fn a_rule_sends_an_event_to_a_webhook(backend: Backend) {
    let server =
        TestServer::start_with(backend, |s| s.webhook_allow = Some("127.0.0.0/8".into())).await;
    let desk = server.desk().await;
    let receiver = switchboard_tests::receiver::Receiver::start().await;
    // The endpoint asks only for breaches: the rule sends it outages as they are raised.
    let endpoint = server
        .must(&desk.admin, "mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { webhookEndpoint { id } } }", json!({ "input": { "url": receiver.url, "topics": ["sla.breached"] } }))
        .await["createWebhookEndpoint"]["webhookEndpoint"]["id"]
        .clone();
    server
        .must(
            &desk.admin,
            RULE,
            json!({ "input": {
        "name": "Outages to the status page", "trigger": "TICKET_CREATED",
        "conditions": { "titleWords": ["outage"] },
        "actions": [{ "type": "NOTIFY_WEBHOOK", "endpointId": endpoint }],
    } }),
        )
        .await;
    let ada = &desk.agents[0].token;
    raise(&server, ada, json!({ "kind": "INCIDENT", "title": "Printer low on toner", "impact": "LOW", "urgency": "LOW", "groupId": desk.network_group_id })).await;
    let number = raise(&server, ada, json!({ "kind": "INCIDENT", "title": "Mail OUTAGE", "impact": "HIGH", "urgency": "LOW", "groupId": desk.network_group_id })).await;
    let got = receiver.wait_for(1).await;
    tokio::time::sleep(StdDuration::from_millis(300)).await;
    assert_eq!(receiver.received().len(), 1);
    assert_eq!(got[0].json()["type"], "ticket.created");
    assert_eq!(got[0].json()["data"]["ticket"]["number"], number.as_str());
}

on_both_backends!(
    a_problem_s_progress_is_told_on_its_incidents,
    a_rule_sends_an_event_to_a_webhook,
    the_resolution_warning_at_90_percent_escalates_to_the_next_tier,
    a_p1_incident_flags_the_group_manager,
    an_organization_s_tickets_go_to_its_dedicated_group,
    rules_do_not_set_themselves_off_and_chains_stop,
    an_action_the_rule_s_person_may_not_take_is_refused_and_recorded,
);

/// Two replicas on one PostgreSQL, both seeing the warning: one escalation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_escalate_once() {
    let (_, url) = Postgres::shared().create_database();
    let a = TestServer::start_with(Backend::Postgres, |s| s.database_url = Some(url.clone())).await;
    let b = TestServer::start_with(Backend::Postgres, |s| s.database_url = Some(url.clone())).await;
    let desk = a.desk().await;
    escalation_rule(&a, &desk.admin).await;
    let mut numbers = Vec::new();
    for _ in 0..5 {
        numbers.push(raise(&a, &desk.agents[0].token, p1(&desk.network_group_id)).await);
    }
    a.advance(Duration::minutes(110));
    b.advance(Duration::minutes(110));
    for number in &numbers {
        until(&b, &desk.manager.token, number, "ticket.escalated", 1).await;
    }
    tokio::time::sleep(StdDuration::from_millis(800)).await;
    for number in &numbers {
        let now = ticket(&a, &desk.manager.token, number).await;
        assert_eq!(entries(&now, "ticket.escalated").len(), 1, "{number}");
        assert_eq!(now["escalationLevel"], 1);
    }
}
