//! Tickets linked as the desk works them: children that resolve with their parent,
//! parents that never go round, and links shown only where both tickets may be seen.

use serde_json::{Value, json};
use switchboard_tests::{
    Backend, TestServer,
    desk::{CREATE, Desk, TRANSITION},
    on_both_backends,
};

on_both_backends!(
    a_child_resolves_with_its_parent,
    links_are_checked_and_shown_only_where_both_tickets_are,
    a_page_of_tickets_reads_its_links_in_batches,
);

const LINK: &str = "mutation($t: ID!, $o: ID!, $k: TicketLinkKind!) { linkTickets(input: { ticketId: $t, otherTicketId: $o, kind: $k }) { link { id kind role ticket { number } } } }";
const LINKS: &str =
    "query($n: String!) { ticket(number: $n) { links { id role ticket { number } } } }";

async fn incident(server: &TestServer, desk: &Desk, title: &str) -> Value {
    server
        .must(
            &desk.requester.token,
            CREATE,
            json!({ "input": { "kind": "INCIDENT", "title": title } }),
        )
        .await["createTicket"]["ticket"]
        .clone()
}

async fn a_child_resolves_with_its_parent(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let parent = incident(&server, &desk, "VPN concentrator down").await;
    let child = incident(&server, &desk, "VPN fails in Oslo").await;
    let grandchild = incident(&server, &desk, "VPN fails for Rita").await;
    let agent = &desk.agents[0].token;
    let linked = server
        .must(
            agent,
            LINK,
            json!({ "t": child["id"], "o": parent["id"], "k": "CHILD_OF" }),
        )
        .await;
    assert_eq!(linked["linkTickets"]["link"]["role"], "PARENT");
    assert_eq!(
        linked["linkTickets"]["link"]["ticket"]["number"],
        parent["number"]
    );
    server
        .must(
            agent,
            LINK,
            json!({ "t": grandchild["id"], "o": child["id"], "k": "CHILD_OF" }),
        )
        .await;
    let read = server
        .must(agent, LINKS, json!({ "n": parent["number"] }))
        .await;
    assert_eq!(read["ticket"]["links"][0]["role"], "CHILD");
    assert_eq!(
        read["ticket"]["links"][0]["ticket"]["number"],
        child["number"]
    );

    server
        .must(
            agent,
            TRANSITION,
            json!({ "input": { "id": parent["id"], "version": parent["version"], "status": "RESOLVED", "resolutionCode": "FIXED", "resolutionNotes": "Replaced the concentrator's power supply." } }),
        )
        .await;
    for ticket in [&child, &grandchild] {
        let seen = server
            .must(
                &desk.requester.token,
                "query($n: String!) { ticket(number: $n) { status resolutionCode comments(first: 10) { nodes { body } } } }",
                json!({ "n": ticket["number"] }),
            )
            .await;
        assert_eq!(seen["ticket"]["status"], "RESOLVED", "{seen}");
        assert_eq!(seen["ticket"]["resolutionCode"], "FIXED");
        let bodies: Vec<&str> = seen["ticket"]["comments"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| c["body"].as_str())
            .collect();
        assert!(
            bodies
                .iter()
                .any(|b| b.contains("Replaced the concentrator's power supply.")),
            "the parent's resolution is the child's comment, where its requester reads it: {bodies:?}"
        );
    }
}

async fn links_are_checked_and_shown_only_where_both_tickets_are(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let first = incident(&server, &desk, "VPN slow").await;
    let second = incident(&server, &desk, "VPN slow again").await;
    let agent = &desk.agents[0].token;

    // Requesters do not link; nothing links to itself; a pair is linked once by a kind.
    let refused = server
        .gql(
            Some(&desk.requester.token),
            LINK,
            json!({ "t": first["id"], "o": second["id"], "k": "RELATED_TO" }),
        )
        .await;
    assert_eq!(refused.error_code(), "FORBIDDEN");
    let itself = server
        .gql(
            Some(agent),
            LINK,
            json!({ "t": first["id"], "o": first["id"], "k": "RELATED_TO" }),
        )
        .await;
    assert_eq!(itself.error_code(), "BAD_USER_INPUT");
    server
        .must(
            agent,
            LINK,
            json!({ "t": first["id"], "o": second["id"], "k": "RELATED_TO" }),
        )
        .await;
    let again = server
        .gql(
            Some(agent),
            LINK,
            json!({ "t": second["id"], "o": first["id"], "k": "RELATED_TO" }),
        )
        .await;
    assert_eq!(again.error_code(), "CONFLICT", "{:#}", again.body);

    // One parent, and parents never go round: the refusal shows the way round.
    server
        .must(
            agent,
            LINK,
            json!({ "t": second["id"], "o": first["id"], "k": "CHILD_OF" }),
        )
        .await;
    let round = server
        .gql(
            Some(agent),
            LINK,
            json!({ "t": first["id"], "o": second["id"], "k": "CHILD_OF" }),
        )
        .await;
    assert_eq!(round.error_code(), "BAD_USER_INPUT", "{:#}", round.body);
    let message = round.error_message();
    assert!(
        message.contains(first["number"].as_str().unwrap())
            && message.contains(second["number"].as_str().unwrap())
            && message.contains('→'),
        "{message}"
    );
    let third = incident(&server, &desk, "VPN down").await;
    let two_parents = server
        .gql(
            Some(agent),
            LINK,
            json!({ "t": second["id"], "o": third["id"], "k": "CHILD_OF" }),
        )
        .await;
    assert_eq!(two_parents.error_code(), "CONFLICT");

    // A ticket in tier 2's queue: the network agents may not see it.
    let hidden = server
        .must(
            &desk.manager.token,
            CREATE,
            json!({ "input": { "kind": "INCIDENT", "title": "Core switch flapping", "groupId": desk.tier2_group_id } }),
        )
        .await["createTicket"]["ticket"]
        .clone();
    let not_theirs = server
        .gql(
            Some(agent),
            LINK,
            json!({ "t": first["id"], "o": hidden["id"], "k": "CAUSED_BY" }),
        )
        .await;
    assert_eq!(not_theirs.error_code(), "NOT_FOUND");
    server
        .must(
            &desk.manager.token,
            LINK,
            json!({ "t": first["id"], "o": hidden["id"], "k": "CAUSED_BY" }),
        )
        .await;
    let manager_sees = server
        .must(&desk.manager.token, LINKS, json!({ "n": first["number"] }))
        .await;
    let roles: Vec<&str> = manager_sees["ticket"]["links"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["role"].as_str())
        .collect();
    assert_eq!(roles, ["RELATED", "CHILD", "CAUSED_BY"]);
    let agent_sees = server
        .must(agent, LINKS, json!({ "n": first["number"] }))
        .await;
    let numbers: Vec<&str> = agent_sees["ticket"]["links"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["ticket"]["number"].as_str())
        .collect();
    assert!(
        !numbers.contains(&hidden["number"].as_str().unwrap()),
        "a link is shown only where both tickets may be seen: {numbers:?}"
    );
    assert_eq!(numbers.len(), 2);
    // Nor does the history of the end the agent sees name the other.
    let history = server
        .must(
            agent,
            "query($n: String!) { ticket(number: $n) { history(first: 50) { nodes { action details } } } }",
            json!({ "n": first["number"] }),
        )
        .await;
    let entries = history["ticket"]["history"]["nodes"].as_array().unwrap();
    assert!(
        entries.iter().any(|e| e["action"] == "ticket.linked"),
        "the link is in the history: {history}"
    );
    let hidden_number = hidden["number"].as_str().unwrap();
    assert!(
        !history.to_string().contains(hidden_number),
        "the history names a ticket the agent may not see: {history}"
    );

    // Unlinking: the agent cannot reach the hidden link; the manager can.
    let link_id = manager_sees["ticket"]["links"][2]["id"].clone();
    let unlink = "mutation($id: ID!) { unlinkTickets(input: { id: $id }) { removedId } }";
    let reply = server
        .gql(Some(agent), unlink, json!({ "id": link_id }))
        .await;
    assert_eq!(reply.error_code(), "NOT_FOUND");
    server
        .must(&desk.manager.token, unlink, json!({ "id": link_id }))
        .await;
    let after = server
        .must(&desk.manager.token, LINKS, json!({ "n": first["number"] }))
        .await;
    assert_eq!(after["ticket"]["links"].as_array().unwrap().len(), 2);
}

async fn a_page_of_tickets_reads_its_links_in_batches(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let agent = &desk.agents[0].token;
    let parent = incident(&server, &desk, "VPN down everywhere").await;
    let mut children = Vec::new();
    for n in 0..12 {
        let child = incident(&server, &desk, &format!("VPN down in office {n}")).await;
        server
            .must(
                agent,
                LINK,
                json!({ "t": child["id"], "o": parent["id"], "k": "CHILD_OF" }),
            )
            .await;
        children.push(child);
    }
    let page = "query($first: Int) { tickets(first: $first) { nodes { number links { role ticket { number } } } } }";
    let mut costs = Vec::new();
    for first in [2, 5, 13] {
        let reply = server
            .gql(Some(agent), page, json!({ "first": first }))
            .await;
        costs.push(reply.sql_statements.expect("a Server-Timing header"));
        let nodes = reply.data()["tickets"]["nodes"].as_array().unwrap();
        assert_eq!(nodes.len(), first as usize);
        assert!(
            nodes
                .iter()
                .all(|n| !n["links"].as_array().unwrap().is_empty())
        );
    }
    assert!(
        costs.windows(2).all(|w| w[0] == w[1]),
        "a page's links cost the same whatever its size: {costs:?}"
    );
}
