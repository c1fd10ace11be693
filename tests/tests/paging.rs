//! Relay connections page both ways: `last`/`before` walks a list from its end and
//! meets exactly the items `first`/`after` met from its start, in the same order, with
//! `pageInfo` saying truthfully where more lie; on the ticket list in each sort order,
//! on lists in id order, and on the configuration items sorted by name.

use serde_json::{Value, json};
use switchboard_tests::{
    Backend, TestServer,
    desk::{COMMENT, CREATE},
    on_both_backends,
};

/// Walks a connection found at `path` in the reply to `query` (which takes `$first`,
/// `$after`, `$last` and `$before`), three items a page, forward then backward, and
/// returns the ids met each way, the backward walk put back into list order.
async fn walk_both_ways(
    server: &TestServer,
    token: &str,
    query: &str,
    path: &[&str],
) -> (Vec<Value>, Vec<Value>) {
    let connection = |reply: &Value| {
        let mut at = reply;
        for step in path {
            at = &at[*step];
        }
        at.clone()
    };
    let ids = |page: &Value| -> Vec<Value> {
        page["edges"]
            .as_array()
            .expect("edges")
            .iter()
            .map(|edge| edge["node"]["id"].clone())
            .collect()
    };

    let mut forward = Vec::new();
    let mut after = Value::Null;
    for page_number in 0.. {
        let page = connection(
            &server
                .must(token, query, json!({ "first": 3, "after": after }))
                .await,
        );
        assert_eq!(
            page["pageInfo"]["hasPreviousPage"],
            json!(page_number > 0),
            "forward page {page_number}: {page:#}"
        );
        forward.extend(ids(&page));
        if page["pageInfo"]["hasNextPage"] != json!(true) {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }

    let mut backward = Vec::new();
    let mut before = Value::Null;
    for page_number in 0.. {
        let page = connection(
            &server
                .must(token, query, json!({ "last": 3, "before": before }))
                .await,
        );
        assert_eq!(
            page["pageInfo"]["hasNextPage"],
            json!(page_number > 0),
            "backward page {page_number}: {page:#}"
        );
        let mut met = ids(&page);
        met.extend(backward);
        backward = met;
        if page["pageInfo"]["hasPreviousPage"] != json!(true) {
            break;
        }
        before = page["pageInfo"]["startCursor"].clone();
    }
    (forward, backward)
}

/// A configuration item class to create items in (the seeded ones will do).
async fn a_class(server: &TestServer, admin: &str) -> Value {
    server
        .must(admin, "{ ciClasses { id } }", Value::Null)
        .await["ciClasses"][0]["id"]
        .clone()
}

const CREATE_ITEM: &str = "mutation($class: ID!, $name: String!) { createConfigurationItem(input: { classId: $class, name: $name }) { configurationItem { id } } }";

const PAGE_INFO: &str = "pageInfo { hasPreviousPage hasNextPage startCursor endCursor }";

async fn every_list_pages_backward_through_the_same_items_as_forward(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let ada = &desk.agents[0].token;
    let mut first_ticket = Value::Null;
    for (n, impact) in [
        "HIGH", "LOW", "MEDIUM", "HIGH", "LOW", "MEDIUM", "HIGH", "LOW",
    ]
    .iter()
    .enumerate()
    {
        let input = json!({ "kind": "INCIDENT", "title": format!("Printer {n}"), "impact": impact, "groupId": desk.network_group_id });
        let ticket = server.must(ada, CREATE, json!({ "input": input })).await;
        if n == 0 {
            first_ticket = ticket["createTicket"]["ticket"].clone();
        }
    }
    for n in 0..7 {
        let input = json!({ "ticketId": first_ticket["id"], "body": format!("Note {n}") });
        server.must(ada, COMMENT, json!({ "input": input })).await;
    }

    for order in [
        "{ field: CREATED, direction: DESC }",
        "{ field: CREATED, direction: ASC }",
        "{ field: PRIORITY, direction: ASC }",
        "{ field: UPDATED, direction: DESC }",
    ] {
        let query = format!(
            "query($first: Int, $after: String, $last: Int, $before: String) {{
                tickets(orderBy: {order}, first: $first, after: $after, last: $last, before: $before) {{
                    edges {{ node {{ id }} }} {PAGE_INFO} }} }}"
        );
        let (forward, backward) = walk_both_ways(&server, ada, &query, &["tickets"]).await;
        assert_eq!(forward.len(), 8, "{order}");
        assert_eq!(forward, backward, "tickets ordered by {order}");
    }

    let comments = "query($n: String!, $first: Int, $after: String, $last: Int, $before: String) {
        ticket(number: $n) { comments(first: $first, after: $after, last: $last, before: $before) {
            edges { node { id } } pageInfo { hasPreviousPage hasNextPage startCursor endCursor } } } }";
    let comments = comments.replace("$n: String!, ", "").replace(
        "ticket(number: $n)",
        &format!("ticket(number: {})", first_ticket["number"]),
    );
    let (forward, backward) =
        walk_both_ways(&server, ada, &comments, &["ticket", "comments"]).await;
    assert_eq!(forward.len(), 7);
    assert_eq!(forward, backward, "comments");

    let users = format!(
        "query($first: Int, $after: String, $last: Int, $before: String) {{
            users(first: $first, after: $after, last: $last, before: $before) {{
                edges {{ node {{ id }} }} {PAGE_INFO} }} }}"
    );
    let (forward, backward) =
        walk_both_ways(&server, &desk.manager.token, &users, &["users"]).await;
    assert!(forward.len() >= 7, "{forward:?}");
    assert_eq!(forward, backward, "users");

    // Configuration items run by name, not by id: created out of name order.
    let class = a_class(&server, &desk.admin).await;
    for name in [
        "delta", "alpha", "echo", "charlie", "bravo", "foxtrot", "golf",
    ] {
        let vars = json!({ "class": class, "name": name });
        server.must(&desk.admin, CREATE_ITEM, vars).await;
    }
    let items = format!(
        "query($first: Int, $after: String, $last: Int, $before: String) {{
            configurationItems(first: $first, after: $after, last: $last, before: $before) {{
                edges {{ node {{ id name }} }} {PAGE_INFO} }} }}"
    );
    let (forward, backward) =
        walk_both_ways(&server, &desk.admin, &items, &["configurationItems"]).await;
    assert_eq!(forward.len(), 7);
    assert_eq!(forward, backward, "configuration items");
    let names = server.must(&desk.admin, &items, json!({ "last": 2 })).await["configurationItems"]
        ["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["name"].as_str().unwrap().to_string())
        .collect::<Vec<_>>();
    assert_eq!(names, ["foxtrot", "golf"], "the last two by name");
}

async fn first_and_last_together_are_refused_with_a_reason(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let reply = server
        .gql(
            Some(&desk.agents[0].token),
            "{ tickets(first: 2, last: 2) { edges { node { id } } } }",
            Value::Null,
        )
        .await;
    assert_eq!(reply.error_code(), "BAD_USER_INPUT");
    assert!(
        reply.error_message().contains("not both"),
        "{}",
        reply.error_message()
    );
    let reply = server
        .gql(
            Some(&desk.manager.token),
            "{ users(before: \"nonsense\", last: 2) { edges { node { id } } } }",
            Value::Null,
        )
        .await;
    assert_eq!(reply.error_code(), "BAD_USER_INPUT");
    assert!(
        reply.error_message().contains("startCursor"),
        "{}",
        reply.error_message()
    );
}

async fn group_members_and_an_items_open_tickets_are_connections(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let members = server
        .must(
            &desk.manager.token,
            "query($id: ID!) { node(id: $id) { ... on Group { members(first: 1) { edges { node { name } } pageInfo { hasNextPage } } } } }",
            json!({ "id": desk.network_group_id }),
        )
        .await;
    let members = &members["node"]["members"];
    assert_eq!(members["edges"].as_array().unwrap().len(), 1);
    assert_eq!(
        members["pageInfo"]["hasNextPage"], true,
        "ada and bob are both in Network"
    );

    let class = a_class(&server, &desk.admin).await;
    let vars = json!({ "class": class, "name": "mail-1" });
    let item = server.must(&desk.admin, CREATE_ITEM, vars).await["createConfigurationItem"]
        ["configurationItem"]["id"]
        .clone();
    let mut numbers = Vec::new();
    for n in 0..3 {
        let input = json!({ "kind": "INCIDENT", "title": format!("Mail down {n}"), "groupId": desk.network_group_id, "configurationItemIds": [item] });
        let created = server
            .must(&desk.agents[0].token, CREATE, json!({ "input": input }))
            .await;
        numbers.push(created["createTicket"]["ticket"]["number"].clone());
    }
    let query = "query($id: ID!, $first: Int, $after: String, $last: Int, $before: String) { node(id: $id) { ... on ConfigurationItem {
        openTickets(first: $first, after: $after, last: $last, before: $before) {
            nodes { number } pageInfo { hasPreviousPage hasNextPage startCursor endCursor } } } } }";
    let open = |vars: Value| {
        let mut vars = vars;
        vars["id"] = item.clone();
        let server = &server;
        let token = desk.agents[0].token.clone();
        async move { server.must(&token, query, vars).await["node"]["openTickets"].clone() }
    };
    // Newest first: the first page comes from the batched load, the next from SQL.
    let first = open(json!({ "first": 2 })).await;
    assert_eq!(
        first["nodes"],
        json!([{ "number": numbers[2] }, { "number": numbers[1] }])
    );
    assert_eq!(first["pageInfo"]["hasNextPage"], true);
    let next = open(json!({ "first": 2, "after": first["pageInfo"]["endCursor"] })).await;
    assert_eq!(next["nodes"], json!([{ "number": numbers[0] }]));
    assert_eq!(next["pageInfo"]["hasNextPage"], false);
    let last = open(json!({ "last": 1 })).await;
    assert_eq!(last["nodes"], json!([{ "number": numbers[0] }]));
    assert_eq!(last["pageInfo"]["hasPreviousPage"], true);

    // Someone who may not see the Network queue finds none of them.
    let hidden = server
        .must(
            &desk.tier2_agent.token,
            query,
            json!({ "id": item, "first": 5 }),
        )
        .await;
    assert_eq!(hidden["node"]["openTickets"]["nodes"], json!([]));
}

on_both_backends!(
    every_list_pages_backward_through_the_same_items_as_forward,
    first_and_last_together_are_refused_with_a_reason,
    group_members_and_an_items_open_tickets_are_connections,
);
