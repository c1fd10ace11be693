//! Ticket lists: keyset pages that stay whole while tickets arrive, and a page's cost in
//! SQL statements that does not grow with its size.

use std::collections::HashSet;

use futures::{StreamExt, stream};
use serde_json::{Value, json};
use switchboard_tests::{Backend, TestServer, desk::CREATE, on_both_backends};

/// Asks for a relation too, so that every order and cursor runs through the statement
/// that joins the page's neighbours.
const PAGE: &str = "query($first: Int, $after: String, $order: TicketOrder) {
    tickets(first: $first, after: $after, orderBy: $order) {
        pageInfo { hasNextPage endCursor }
        nodes { number priority updatedAt group { name } }
    } }";

/// Creates `count` tickets, eight requests at a time, with priorities P1 to P4 in turn.
async fn create_tickets(
    server: &TestServer,
    token: &str,
    group: &Value,
    count: usize,
    title: &str,
) {
    let levels = [
        ("HIGH", "HIGH"),
        ("HIGH", "MEDIUM"),
        ("MEDIUM", "MEDIUM"),
        ("LOW", "LOW"),
    ];
    stream::iter(0..count)
        .for_each_concurrent(8, |n| async move {
            let (impact, urgency) = levels[n % 4];
            let input = json!({ "kind": "INCIDENT", "title": format!("{title} {n}"), "impact": impact, "urgency": urgency, "groupId": group });
            server.must(token, CREATE, json!({ "input": input })).await;
        })
        .await;
}

fn number_of(ticket: &Value) -> u64 {
    ticket["number"].as_str().unwrap()[3..].parse().unwrap()
}

/// Walks every page, creating `arrivals_per_page` new tickets between pages.
async fn walk(
    server: &TestServer,
    token: &str,
    group: &Value,
    order: Value,
    arrivals_per_page: usize,
) -> Vec<Value> {
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let page = server
            .must(
                token,
                PAGE,
                json!({ "first": 100, "after": after, "order": order }),
            )
            .await;
        let nodes = page["tickets"]["nodes"].as_array().unwrap();
        assert!(nodes.iter().all(|n| n["group"]["name"] == "Network"));
        seen.extend(nodes.iter().cloned());
        let info = &page["tickets"]["pageInfo"];
        if info["hasNextPage"] == false {
            return seen;
        }
        after = info["endCursor"].clone();
        create_tickets(server, token, group, arrivals_per_page, "arrival").await;
    }
}

async fn paging_returns_each_ticket_once_in_order_while_new_ones_arrive(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let ada = desk.agents[0].token.clone();
    create_tickets(&server, &ada, &desk.network_group_id, 1000, "original").await;
    let originals: HashSet<u64> = (1..=1000).collect();

    // Newest first: the arrivals land before the cursor and never shift the pages.
    let seen = walk(
        &server,
        &ada,
        &desk.network_group_id,
        json!({ "field": "CREATED", "direction": "DESC" }),
        5,
    )
    .await;
    let numbers: Vec<u64> = seen.iter().map(number_of).collect();
    assert_eq!(
        numbers.len(),
        1000,
        "each ticket exactly once, none of the arrivals"
    );
    assert!(numbers.windows(2).all(|w| w[0] > w[1]), "newest first");
    assert_eq!(numbers.iter().copied().collect::<HashSet<_>>(), originals);

    // Oldest first: every original once and in order; arrivals come at the end.
    let seen = walk(
        &server,
        &ada,
        &desk.network_group_id,
        json!({ "field": "CREATED", "direction": "ASC" }),
        5,
    )
    .await;
    let numbers: Vec<u64> = seen.iter().map(number_of).collect();
    assert!(
        numbers.windows(2).all(|w| w[0] < w[1]),
        "oldest first, no repeats"
    );
    assert_eq!(
        numbers[..1000].iter().copied().collect::<HashSet<_>>(),
        originals
    );

    let total = server
        .must(&ada, "{ ticketCounts { total } }", Value::Null)
        .await["ticketCounts"]["total"]
        .as_u64()
        .unwrap();
    assert!(total > 1050, "tickets arrived while paging: {total}");

    // By priority, P1 first; within a priority, oldest first.
    let seen = walk(
        &server,
        &ada,
        &desk.network_group_id,
        json!({ "field": "PRIORITY", "direction": "ASC" }),
        0,
    )
    .await;
    let keys: Vec<(String, u64)> = seen
        .iter()
        .map(|t| (t["priority"].as_str().unwrap().to_string(), number_of(t)))
        .collect();
    assert!(
        keys.windows(2).all(|w| w[0] < w[1]),
        "sorted by priority then number, each once"
    );
    assert_eq!(keys.len() as u64, total);

    // By last update, newest first, each once.
    let seen = walk(
        &server,
        &ada,
        &desk.network_group_id,
        json!({ "field": "UPDATED", "direction": "DESC" }),
        0,
    )
    .await;
    let numbers: HashSet<u64> = seen.iter().map(number_of).collect();
    assert_eq!((seen.len() as u64, numbers.len() as u64), (total, total));
    let stamps: Vec<&str> = seen
        .iter()
        .map(|t| t["updatedAt"].as_str().unwrap())
        .collect();
    let parsed: Vec<chrono::DateTime<chrono::Utc>> =
        stamps.iter().map(|s| s.parse().unwrap()).collect();
    assert!(
        parsed.windows(2).all(|w| w[0] >= w[1]),
        "most recently updated first"
    );
}

async fn a_page_costs_the_same_statements_whatever_its_size(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let ada = desk.agents[0].token.clone();
    let rita = desk.requester.id.clone();
    // SLA clocks on a business calendar, so that a page also shows clocks, policies and calendars.
    let office = json!([
        ["09:00-17:00"],
        ["09:00-17:00"],
        ["09:00-17:00"],
        ["09:00-17:00"],
        ["09:00-17:00"],
        [],
        []
    ]);
    let calendar = server
        .must(&desk.admin, "mutation($w: [[String!]!]!) { saveCalendar(input: { name: \"Office\", timeZone: \"Europe/Paris\", week: $w }) { calendar { id } } }", json!({ "w": office }))
        .await["saveCalendar"]["calendar"]["id"]
        .clone();
    server
        .must(&desk.admin, "mutation($c: ID!) { saveSlaPolicy(input: { name: \"Office hours\", position: 1, calendarId: $c, responseMinutes: 60, resolutionMinutes: 480 }) { slaPolicy { id } } }", json!({ "c": calendar }))
        .await;
    // Tickets for a requester of an organization, in a group, assigned: every relation set.
    stream::iter(0..60)
        .for_each_concurrent(8, |n| {
            let (server, ada, rita, desk) = (&server, &ada, &rita, &desk);
            async move {
                let input = json!({ "kind": "INCIDENT", "title": format!("t{n}"), "requesterId": rita,
                    "groupId": desk.network_group_id, "assigneeId": desk.agents[n % 2].id });
                server.must(ada, CREATE, json!({ "input": input })).await;
            }
        })
        .await;
    let query = "query($first: Int) { tickets(first: $first) { nodes {
        number requester { name } assignee { name } group { name } organization { name } category { name }
        slaClocks { state policy { name } } } } }";
    // Each reply says what it cost (Server-Timing), apart from the relay and the SLA
    // engine working meanwhile.
    let mut costs = Vec::new();
    for first in [5, 20, 50] {
        let reply = server
            .gql(Some(&ada), query, json!({ "first": first }))
            .await;
        costs.push(reply.sql_statements.expect("a Server-Timing header"));
        let nodes = reply.data()["tickets"]["nodes"].as_array().unwrap();
        assert_eq!(nodes.len(), first as usize);
        assert!(
            nodes
                .iter()
                .all(|n| n["organization"]["name"] == "Acme" && n["group"]["name"] == "Network")
        );
        assert!(
            nodes
                .iter()
                .all(|n| n["slaClocks"][0]["policy"]["name"] == "Office hours")
        );
    }
    assert!(
        costs.windows(2).all(|w| w[0] == w[1]),
        "statements per page by size 5, 20, 50: {costs:?}"
    );
    // The caller's scope, the page with its people and places joined, then one query
    // each for the clocks, their calendars and their policies.
    assert!(
        costs[0] <= 5,
        "a page of tickets with its relations costs {} statements",
        costs[0]
    );
}

/// Every column of a ticket and of the rows a page can bring along with it, asked of a
/// page and of a single ticket.
const AROUND: &str = "id number kind status title description impact urgency priority channel
    pendingReason resolutionCode resolutionNotes escalationLevel managerFlaggedAt createdAt
    updatedAt firstResponseAt resolvedAt closedAt version
    requester { id name email subject roles groups available createdAt updatedAt organization { id } }
    assignee { id name roles available }
    group { id name description tier manager { id } escalationGroup { id } }
    organization { id name requestersSeeAllTickets createdAt }
    category { id name path parent { id } }";

async fn a_page_shows_each_tickets_own_people_and_places_and_none_it_lacks(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let ada = desk.agents[0].token.clone();
    // Everything around it: Rita's (of Acme), in Network, assigned, classified.
    let full = json!({ "kind": "INCIDENT", "title": "Laptop fan loud", "requesterId": desk.requester.id,
        "groupId": desk.network_group_id, "assigneeId": desk.agents[1].id,
        "categoryId": desk.laptop_category_id });
    server.must(&ada, CREATE, json!({ "input": full })).await;
    // Nothing but its requester: an agent of no organization, in no queue, unclassified.
    let bare = json!({ "kind": "INCIDENT", "title": "Fan noise in room 4" });
    server
        .must(&desk.tier2_agent.token, CREATE, json!({ "input": bare }))
        .await;

    let page = format!(
        "query($after: String) {{ tickets(first: 1, after: $after, filter: {{ text: \"fan\" }},
            orderBy: {{ field: UPDATED, direction: DESC }}) {{
            pageInfo {{ endCursor }} nodes {{ {AROUND} }} }} }}"
    );
    let one = format!("query($n: String!) {{ ticket(number: $n) {{ {AROUND} }} }}");
    // The manager sees every ticket, in a queue or not.
    let manager = &desk.manager.token;
    let mut listed = Vec::new();
    let mut after = Value::Null;
    for _ in 0..2 {
        let reply = server.must(manager, &page, json!({ "after": after })).await;
        after = reply["tickets"]["pageInfo"]["endCursor"].clone();
        listed.extend(
            reply["tickets"]["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .cloned(),
        );
    }
    assert_eq!(listed.len(), 2);
    // A page shows of each ticket exactly what the ticket itself shows.
    for ticket in &listed {
        let alone = server
            .must(manager, &one, json!({ "n": ticket["number"] }))
            .await;
        assert_eq!(ticket, &alone["ticket"]);
    }
    let (bare, full) = (&listed[0], &listed[1]);
    assert_eq!(bare["title"], "Fan noise in room 4", "newest change first");
    assert_eq!(full["organization"]["name"], "Acme");
    assert_eq!(full["category"]["name"], "Laptop");
    assert_eq!(full["group"]["name"], "Network");
    assert!(full["assignee"]["name"].is_string());
    assert!(bare["requester"]["name"].is_string());
    for empty in ["assignee", "group", "organization", "category"] {
        assert_eq!(
            bare[empty],
            Value::Null,
            "{empty} of a ticket that has none"
        );
    }

    // Rita's page, with the same relations, holds her ticket and not the agent's.
    let hers = server
        .must(&desk.requester.token, &page, json!({ "after": null }))
        .await;
    let nodes = hers["tickets"]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 1);
    assert_eq!(nodes[0]["title"], "Laptop fan loud");
}

on_both_backends!(
    paging_returns_each_ticket_once_in_order_while_new_ones_arrive,
    a_page_costs_the_same_statements_whatever_its_size,
    a_page_shows_each_tickets_own_people_and_places_and_none_it_lacks,
);
