//! A major incident, run as a desk runs one: a manager declares it, it goes above P1,
//! the coordinator's update reaches the requesters of its children and the people of a
//! service it impacts through the CMDB (by mail and live), nobody else; it resolves its
//! children with it, and its review lists the timeline and opens a problem.

use std::time::Duration as StdDuration;

use serde_json::{Value, json};
use switchboard_tests::{
    Backend, TestServer, desk::CREATE, on_both_backends, server::sign_hs256, services::Smtp,
    ws::WsClient,
};

on_both_backends!(a_major_incident_is_coordinated_with_the_people_it_affects);

const WAIT: StdDuration = StdDuration::from_secs(15);
const SUBSCRIBE: &str = "subscription { majorIncidents { action ticketNumber status body } }";

/// A requester with an address the desk writes to.
async fn person(server: &TestServer, sub: &str) -> (String, Value) {
    let now = chrono::Utc::now().timestamp();
    let token = sign_hs256(&json!({
        "sub": sub, "name": sub, "email": format!("{sub}@acme.test"),
        "roles": ["requester"], "exp": now + 3600, "nbf": now - 10,
    }));
    let id = server
        .must(&token, "{ viewer { nodeId } }", Value::Null)
        .await["viewer"]["nodeId"]
        .clone();
    (token, id)
}

async fn class_id(server: &TestServer, admin: &str, name: &str) -> Value {
    let classes = server
        .must(admin, "{ ciClasses { id name } }", Value::Null)
        .await;
    classes["ciClasses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap()["id"]
        .clone()
}

async fn item(server: &TestServer, admin: &str, input: Value) -> Value {
    server
        .must(admin, "mutation($input: CreateConfigurationItemInput!) { createConfigurationItem(input: $input) { configurationItem { id } } }", json!({ "input": input }))
        .await["createConfigurationItem"]["configurationItem"]["id"]
        .clone()
}

async fn a_major_incident_is_coordinated_with_the_people_it_affects(backend: Backend) {
    let smtp = Smtp::start();
    let server = TestServer::start_with(backend, |s| {
        s.smtp_url = Some(smtp.url());
        s.mail_from = Some("Acme Service Desk <desk@acme.test>".into());
    })
    .await;
    let desk = server.desk().await;
    let (admin, agent, manager) = (&desk.admin, &desk.agents[0], &desk.manager.token);
    let (rita, rita_id) = person(&server, "rita.mi").await;
    let (ann, ann_id) = person(&server, "ann.mi").await;
    let (olaf, olaf_id) = person(&server, "olaf.mi").await;
    server
        .must(admin, "mutation($u: ID!, $o: ID) { setUserOrganization(input: { userId: $u, organizationId: $o }) { user { id } } }",
            json!({ "u": ann_id, "o": desk.organization_id }))
        .await;

    // The mail service depends on the storage that fails; Acme is who it serves.
    let storage = item(&server, admin, json!({ "classId": class_id(&server, admin, "Database").await, "name": "Mail store", "attributes": { "engine": "PostgreSQL" } })).await;
    let mail = item(&server, admin, json!({ "classId": class_id(&server, admin, "Application").await, "name": "Mail", "organizationId": desk.organization_id })).await;
    server
        .must(admin, "mutation($s: ID!, $t: ID!) { relateConfigurationItems(input: { sourceId: $s, targetId: $t, type: \"DEPENDS_ON\" }) { relationship { id } } }",
            json!({ "s": mail, "t": storage }))
        .await;

    // Rita reports it; Olaf reports something else.
    let create = |title: &str, requester: &Value| {
        json!({ "input": { "kind": "INCIDENT", "title": title, "impact": "MEDIUM", "urgency": "MEDIUM",
            "groupId": desk.network_group_id, "requesterId": requester } })
    };
    let child = server
        .must(
            &agent.token,
            CREATE,
            create("My mail does not load", &rita_id),
        )
        .await["createTicket"]["ticket"]
        .clone();
    let other = server
        .must(&agent.token, CREATE, create("Mouse is broken", &olaf_id))
        .await["createTicket"]["ticket"]
        .clone();
    assert!(other.get("number").is_some());

    // Declaring is a manager's.
    let declare = "mutation($input: DeclareMajorIncidentInput!) { declareMajorIncident(input: $input) { majorIncident { id version status coordinator { id } ticket { id number priority } } } }";
    let new_incident = json!({ "kind": "INCIDENT", "title": "Mail store down", "impact": "HIGH", "urgency": "HIGH",
        "groupId": desk.network_group_id, "configurationItemIds": [storage] });
    let refused = server
        .gql(
            Some(&agent.token),
            declare,
            json!({ "input": { "newIncident": new_incident } }),
        )
        .await;
    assert_eq!(refused.error_code(), "FORBIDDEN");
    let declared = server
        .must(
            manager,
            declare,
            json!({ "input": { "newIncident": new_incident, "coordinatorId": agent.id } }),
        )
        .await["declareMajorIncident"]["majorIncident"]
        .clone();
    assert_eq!(declared["status"], "ACTIVE");
    assert_eq!(declared["ticket"]["priority"], "MAJOR", "above P1");
    assert_eq!(declared["coordinator"]["id"], agent.id);
    let incident_ticket = declared["ticket"].clone();
    server
        .must(&agent.token, "mutation($t: ID!, $o: ID!) { linkTickets(input: { ticketId: $t, otherTicketId: $o, kind: CHILD_OF }) { link { id } } }",
            json!({ "t": child["id"], "o": incident_ticket["id"] }))
        .await;

    // Rita and Olaf watch the dashboard's subscription.
    let mut rita_ws = WsClient::connect_with_token(&server.ws_url(), &rita).await;
    rita_ws.subscribe("mi", SUBSCRIBE, Value::Null).await;
    let mut olaf_ws = WsClient::connect_with_token(&server.ws_url(), &olaf).await;
    olaf_ws.subscribe("mi", SUBSCRIBE, Value::Null).await;
    server.subscriptions_running(2).await;

    // The coordinator publishes an update.
    let publish = "mutation($id: ID!, $b: String!) { publishMajorIncidentUpdate(input: { id: $id, body: $b }) { update { body recipients } } }";
    let published = server
        .must(&agent.token, publish, json!({ "id": declared["id"], "b": "Mail is down for Acme; we expect it back by noon." }))
        .await["publishMajorIncidentUpdate"]["update"]
        .clone();
    assert!(
        published["recipients"].as_i64().unwrap() >= 2,
        "{published}"
    );
    let refused = server
        .gql(
            Some(&desk.agents[1].token),
            publish,
            json!({ "id": declared["id"], "b": "not mine" }),
        )
        .await;
    assert_eq!(
        refused.error_code(),
        "FORBIDDEN",
        "only the coordinator or a manager"
    );

    // By subscription: Rita (a child's requester) hears it.
    let heard = rita_ws.next_message().await;
    let event = &heard["payload"]["data"]["majorIncidents"];
    assert_eq!(
        event["action"], "major_incident.update_published",
        "{heard}"
    );
    assert_eq!(
        event["body"],
        "Mail is down for Acme; we expect it back by noon."
    );
    // By mail: Rita, and Ann, whose organization the impacted mail service serves.
    for who in ["rita.mi@acme.test", "ann.mi@acme.test"] {
        let message = smtp.wait_for(who, "expect it back by noon", WAIT);
        assert!(message.contains("Major incident update"), "{message}");
    }
    // Olaf, whom it does not affect, hears nothing, live or by mail.
    assert!(
        tokio::time::timeout(StdDuration::from_secs(1), olaf_ws.next_message())
            .await
            .is_err(),
        "Olaf is not affected"
    );
    assert!(
        !smtp
            .messages()
            .iter()
            .any(|m| m.contains("olaf.mi@acme.test") && m.contains("noon")),
        "no mail to Olaf"
    );
    let listed = server
        .must(
            &ann,
            "{ majorIncidents { id updates { body } } }",
            Value::Null,
        )
        .await;
    assert_eq!(
        listed["majorIncidents"][0]["id"], declared["id"],
        "Ann reads the one that affects her"
    );
    let none = server
        .must(&olaf, "{ majorIncidents { id } }", Value::Null)
        .await;
    assert_eq!(none["majorIncidents"], json!([]));

    // Resolving it resolves its child.
    let resolved = server
        .must(&agent.token, "mutation($id: ID!, $v: Int!) { resolveMajorIncident(input: { id: $id, version: $v, resolutionCode: \"FIXED\", resolutionNotes: \"Storage failed over to the standby.\" }) { majorIncident { version status } } }",
            json!({ "id": declared["id"], "v": declared["version"] }))
        .await["resolveMajorIncident"]["majorIncident"]
        .clone();
    assert_eq!(resolved["status"], "RESOLVED");
    let child_now = server
        .must(
            &rita,
            "query($n: String!) { ticket(number: $n) { status } }",
            json!({ "n": child["number"] }),
        )
        .await;
    assert_eq!(child_now["ticket"]["status"], "RESOLVED");

    // The review closes it, lists the timeline and opens a problem.
    let closed = server
        .must(manager, "mutation($id: ID!, $v: Int!) { closeMajorIncident(input: { id: $id, version: $v, cause: \"A disk controller failed.\", actions: \"Replace the controller; alert on its errors.\" }) {
            majorIncident { status review { cause actions problemId timeline { action } } } } }",
            json!({ "id": declared["id"], "v": resolved["version"] }))
        .await["closeMajorIncident"]["majorIncident"]
        .clone();
    assert_eq!(closed["status"], "CLOSED");
    let review = &closed["review"];
    assert_eq!(review["cause"], "A disk controller failed.");
    assert!(review["problemId"].is_string(), "{review}");
    let actions: Vec<&str> = review["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for wanted in [
        "ticket.created",
        "major_incident.declared",
        "major_incident.update_published",
        "major_incident.resolved",
        "major_incident.closed",
    ] {
        assert!(actions.contains(&wanted), "{wanted} in {actions:?}");
    }
    let problem = server
        .must(
            manager,
            "query($id: ID!) { node(id: $id) { ... on Problem { title incidents { number } } } }",
            json!({ "id": review["problemId"] }),
        )
        .await;
    assert_eq!(
        problem["node"]["incidents"][0]["number"],
        incident_ticket["number"]
    );
}
