//! Release management as a change manager runs it: a release of two changes is approved
//! only once both are, deploys only inside their window and outside a freeze, deploys a
//! database before the application that depends on it, moves the CMDB's versions step
//! by step (the item's history naming the release), rolls back in reverse when a step
//! fails, and counts an incident on its service in its early life.

use chrono::{Duration, Utc};
use serde_json::{Value, json};
use switchboard_tests::{Backend, TestServer, on_both_backends, ws::WsClient};

on_both_backends!(
    a_release_deploys_in_order_into_the_cmdb_and_rolls_back,
    a_release_reaches_a_webhook_receiver_once,
);

const CI: &str = "mutation($input: CreateConfigurationItemInput!) { createConfigurationItem(input: $input) { configurationItem { id } } }";
const CHANGE: &str = "mutation($input: CreateChangeInput!) { createChange(input: $input) { change { id number version } } }";
const TRANSITION_CHANGE: &str = "mutation($input: TransitionChangeInput!) { transitionChange(input: $input) { change { status version } } }";
const RELEASE: &str = "id number status version steps { id position state fromVersion toVersion configurationItem { name } } earlyLifeIncidents { number }";

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

async fn version_of(server: &TestServer, token: &str, id: &Value) -> Value {
    server
        .must(
            token,
            "query($id: ID!) { node(id: $id) { ... on ConfigurationItem { attributes } } }",
            json!({ "id": id }),
        )
        .await["node"]["attributes"]["version"]
        .clone()
}

async fn a_release_deploys_in_order_into_the_cmdb_and_rolls_back(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let (admin, manager, agent) = (&desk.admin, &desk.manager.token, &desk.agents[0].token);

    // The orders application depends on its database; the service is what people use.
    let orders = server
        .must(admin, "mutation { saveService(input: { name: \"Orders\", lifecycle: LIVE }) { service { id } } }", Value::Null)
        .await["saveService"]["service"]["id"]
        .clone();
    let db = server.must(admin, CI, json!({ "input": { "classId": class_id(&server, admin, "Database").await, "name": "Orders DB",
        "attributes": { "engine": "PostgreSQL", "version": "14.1" } } })).await["createConfigurationItem"]["configurationItem"]["id"].clone();
    let app = server.must(admin, CI, json!({ "input": { "classId": class_id(&server, admin, "Application").await, "name": "Orders app",
        "serviceId": orders, "attributes": { "version": "2.0" } } })).await["createConfigurationItem"]["configurationItem"]["id"].clone();
    server
        .must(admin, "mutation($s: ID!, $t: ID!) { relateConfigurationItems(input: { sourceId: $s, targetId: $t, type: \"DEPENDS_ON\" }) { relationship { id } } }", json!({ "s": app, "t": db }))
        .await;

    // Two standard changes in one window, tomorrow; a freeze inside it.
    let now = Utc::now();
    let (start, end) = (
        now + Duration::days(1),
        now + Duration::days(1) + Duration::hours(2),
    );
    server
        .must(admin, "mutation($s: DateTime!, $e: DateTime!) { saveChangeFreeze(input: { name: \"Quarter close\", startsAt: $s, endsAt: $e }) { name } }",
            json!({ "s": start + Duration::minutes(20), "e": start + Duration::minutes(40) }))
        .await;
    let template = server
        .must(admin, "mutation { saveChangeTemplate(input: { name: \"Orders upgrade\", implementationPlan: \"Deploy\", rollbackPlan: \"Redeploy the old version\", testPlan: \"Place an order\" }) { id } }", Value::Null)
        .await["saveChangeTemplate"]["id"]
        .clone();
    let mut changes = Vec::new();
    for _ in 0..2 {
        let change = server
            .must(agent, CHANGE, json!({ "input": { "type": "STANDARD", "templateId": template, "configurationItemIds": [db], "plannedStart": start, "plannedEnd": end } }))
            .await["createChange"]["change"]
            .clone();
        changes.push(change);
    }

    // Watch the releases live.
    let mut ws = WsClient::connect_with_token(&server.ws_url(), agent).await;
    ws.subscribe(
        "r",
        "subscription { releaseChanged { action number status } }",
        Value::Null,
    )
    .await;
    server.subscriptions_running(1).await;

    let create = json!({ "input": { "name": "Orders 3", "versionLabel": "3.0", "releaseType": "MINOR",
        "ownerId": desk.manager.id, "serviceIds": [orders], "changeIds": [changes[0]["id"], changes[1]["id"]],
        "plannedStart": start, "plannedEnd": end, "earlyLifeDays": 7 } });
    let refused = server.gql(Some(agent), &format!("mutation($input: ReleaseFieldsInput!) {{ createRelease(input: $input) {{ release {{ {RELEASE} }} }} }}"), create.clone()).await;
    assert_eq!(
        refused.error_code(),
        "FORBIDDEN",
        "agents read releases; managers plan them"
    );
    let mut release = server
        .must(manager, &format!("mutation($input: ReleaseFieldsInput!) {{ createRelease(input: $input) {{ release {{ {RELEASE} }} }} }}"), create)
        .await["createRelease"]["release"]
        .clone();
    assert_eq!(release["status"], "PLANNING");
    let heard = ws.next_message().await;
    assert_eq!(
        heard["payload"]["data"]["releaseChanged"]["action"], "release.created",
        "{heard}"
    );

    // The plan: the application before its database is refused; arranged, the database goes first.
    let plan = format!(
        "mutation($input: PlanReleaseInput!) {{ planRelease(input: $input) {{ release {{ {RELEASE} }} }} }}"
    );
    let steps = json!([
        { "configurationItemId": app, "toVersion": "3.0", "environment": "production", "expectedMinutes": 20 },
        { "configurationItemId": db, "toVersion": "15.0", "environment": "production", "expectedMinutes": 30 },
    ]);
    let wrong = server.gql(Some(manager), &plan, json!({ "input": { "id": release["id"], "version": release["version"], "steps": steps } })).await;
    assert_eq!(wrong.error_code(), "BAD_USER_INPUT");
    assert!(
        wrong
            .error_message()
            .contains("'Orders app' (step 1) depends on 'Orders DB' (step 2)"),
        "{}",
        wrong.error_message()
    );
    release = server
        .must(manager, &plan, json!({ "input": { "id": release["id"], "version": release["version"], "steps": steps, "arrange": true } }))
        .await["planRelease"]["release"]
        .clone();
    let names: Vec<&str> = release["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["configurationItem"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Orders DB", "Orders app"], "the dependency first");
    assert_eq!(release["steps"][0]["fromVersion"], "14.1");

    let to = |release: &Value, status: &str| json!({ "input": { "id": release["id"], "version": release["version"], "to": status } });
    let move_to = format!(
        "mutation($input: TransitionReleaseInput!) {{ transitionRelease(input: $input) {{ release {{ {RELEASE} }} }} }}"
    );
    for status in ["BUILDING", "TESTING"] {
        release = server.must(manager, &move_to, to(&release, status)).await["transitionRelease"]["release"].clone();
    }
    // Approval waits for both changes.
    let not_yet = server
        .gql(Some(manager), &move_to, to(&release, "APPROVED"))
        .await;
    assert_eq!(not_yet.error_code(), "INVALID_TRANSITION");
    assert!(
        not_yet
            .error_message()
            .contains(changes[0]["number"].as_str().unwrap()),
        "{}",
        not_yet.error_message()
    );
    for change in &changes {
        server.must(agent, TRANSITION_CHANGE, json!({ "input": { "id": change["id"], "version": change["version"], "to": "SUBMITTED" } })).await;
    }
    release = server
        .must(manager, &move_to, to(&release, "APPROVED"))
        .await["transitionRelease"]["release"]
        .clone();

    // Outside the window, then inside the freeze: refused, saying which.
    let early = server
        .gql(Some(manager), &move_to, to(&release, "DEPLOYING"))
        .await;
    assert_eq!(early.error_code(), "INVALID_TRANSITION");
    assert!(
        early.error_message().contains("window of CHG"),
        "{}",
        early.error_message()
    );
    server.advance(Duration::days(1) + Duration::minutes(30));
    let frozen = server
        .gql(Some(manager), &move_to, to(&release, "DEPLOYING"))
        .await;
    assert_eq!(frozen.error_code(), "INVALID_TRANSITION");
    assert!(
        frozen.error_message().contains("Quarter close"),
        "{}",
        frozen.error_message()
    );
    server.advance(Duration::minutes(20));
    release = server
        .must(manager, &move_to, to(&release, "DEPLOYING"))
        .await["transitionRelease"]["release"]
        .clone();
    assert_eq!(release["status"], "DEPLOYING");

    // The database step succeeds: its version moves, and its history names the release.
    let record = "mutation($s: ID!, $o: DeploymentStepOutcome!) { recordDeploymentStep(input: { stepId: $s, outcome: $o }) { release { status version } step { state } } }";
    let out_of_order = server
        .gql(
            Some(manager),
            record,
            json!({ "s": release["steps"][1]["id"], "o": "SUCCEEDED" }),
        )
        .await;
    assert_eq!(
        out_of_order.error_code(),
        "INVALID_TRANSITION",
        "steps go in order"
    );
    server
        .must(
            manager,
            record,
            json!({ "s": release["steps"][0]["id"], "o": "SUCCEEDED" }),
        )
        .await;
    assert_eq!(version_of(&server, admin, &db).await, "15.0");
    let history = server
        .must(admin, "query($id: ID!) { node(id: $id) { ... on ConfigurationItem { history(last: 1) { nodes { action details changes { field newValue } } } } } }", json!({ "id": db }))
        .await;
    let last = &history["node"]["history"]["nodes"][0];
    assert_eq!(
        last["details"]["cause"]["release"], release["number"],
        "{last}"
    );

    // The application step fails: the plan stops and the database goes back.
    let failed = server
        .must(
            manager,
            record,
            json!({ "s": release["steps"][1]["id"], "o": "FAILED" }),
        )
        .await;
    assert_eq!(
        failed["recordDeploymentStep"]["release"]["status"],
        "ROLLED_BACK"
    );
    assert_eq!(version_of(&server, admin, &db).await, "14.1", "rolled back");
    assert_eq!(version_of(&server, admin, &app).await, "2.0");
    let shown = server
        .must(
            agent,
            &format!("query($id: ID!) {{ release(id: $id) {{ {RELEASE} }} }}"),
            json!({ "id": release["id"] }),
        )
        .await["release"]
        .clone();
    let states: Vec<&str> = shown["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["ROLLED_BACK", "FAILED"]);

    // Planned again and deployed whole; an incident on its service in its early life is
    // linked to it.
    release = shown;
    release = server
        .must(manager, &move_to, to(&release, "PLANNING"))
        .await["transitionRelease"]["release"]
        .clone();
    release = server
        .must(manager, &plan, json!({ "input": { "id": release["id"], "version": release["version"], "steps": steps, "arrange": true } }))
        .await["planRelease"]["release"]
        .clone();
    for status in ["BUILDING", "TESTING", "APPROVED", "DEPLOYING"] {
        release = server.must(manager, &move_to, to(&release, status)).await["transitionRelease"]["release"].clone();
    }
    for step in release["steps"].as_array().unwrap().clone() {
        server
            .must(
                manager,
                record,
                json!({ "s": step["id"], "o": "SUCCEEDED" }),
            )
            .await;
    }
    assert_eq!(version_of(&server, admin, &db).await, "15.0");
    assert_eq!(version_of(&server, admin, &app).await, "3.0");
    let incident = server
        .must(agent, "mutation($input: CreateTicketInput!) { createTicket(input: $input) { ticket { number } } }",
            json!({ "input": { "kind": "INCIDENT", "title": "Orders cannot be placed", "serviceId": orders, "groupId": desk.network_group_id } }))
        .await["createTicket"]["ticket"]["number"]
        .clone();
    let after = server
        .must(
            agent,
            &format!("query($id: ID!) {{ release(id: $id) {{ {RELEASE} }} }}"),
            json!({ "id": release["id"] }),
        )
        .await["release"]
        .clone();
    assert_eq!(after["status"], "DEPLOYED");
    assert_eq!(after["earlyLifeIncidents"], json!([{ "number": incident }]));

    // The month's report counts it, and its changes as unsuccessful: an incident fell in
    // its early life.
    let report = server
        .must(agent, "query($f: DateTime!, $t: DateTime!) { releaseReport(from: $f, to: $t) { month deployed rolledBack changes successfulChanges changeSuccessRate meanDeploymentMinutes } }",
            json!({ "f": now - Duration::days(1), "t": now + Duration::days(40) }))
        .await["releaseReport"]
        .clone();
    assert_eq!(report[0]["deployed"], 1, "{report}");
    assert_eq!(report[0]["changes"], 2);
    assert_eq!(report[0]["successfulChanges"], 0);
    assert_eq!(report[0]["changeSuccessRate"], 0.0);

    // The calendar feed, read by a parser nobody here wrote: the release in its window,
    // the freeze.
    let feed = server
        .http()
        .get(server.url(&format!("/calendar/releases.ics?token={agent}")))
        .send()
        .await
        .unwrap();
    assert_eq!(feed.status(), 200);
    assert!(
        feed.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/calendar")
    );
    let text = feed.text().await.unwrap();
    let calendar = ical::IcalParser::new(text.as_bytes())
        .next()
        .expect("one calendar")
        .expect("the feed parses");
    let property = |event: &ical::parser::ical::component::IcalEvent, name: &str| {
        event
            .properties
            .iter()
            .find(|p| p.name == name)
            .and_then(|p| p.value.clone())
            .unwrap_or_default()
    };
    let shown = calendar
        .events
        .iter()
        .find(|e| property(e, "SUMMARY").contains(release["number"].as_str().unwrap()))
        .expect("the release is in the feed");
    assert_eq!(
        property(shown, "DTSTART"),
        start.format("%Y%m%dT%H%M%SZ").to_string()
    );
    assert_eq!(
        property(shown, "DTEND"),
        end.format("%Y%m%dT%H%M%SZ").to_string()
    );
    assert!(
        calendar
            .events
            .iter()
            .any(|e| property(e, "SUMMARY") == "Change freeze: Quarter close")
    );
    let refused = server
        .http()
        .get(server.url(&format!(
            "/calendar/releases.ics?token={}",
            desk.requester.token
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);

    // Requesters see nothing of releases.
    let hidden = server
        .gql(
            Some(&desk.requester.token),
            &format!("query($id: ID!) {{ release(id: $id) {{ {RELEASE} }} }}"),
            json!({ "id": release["id"] }),
        )
        .await;
    assert_eq!(hidden.error_code(), "FORBIDDEN");
}

async fn a_release_reaches_a_webhook_receiver_once(backend: Backend) {
    let smtp = switchboard_tests::services::Smtp::start();
    let server = TestServer::start_with(backend, |s| {
        s.webhook_allow = Some("127.0.0.0/8".into());
        s.smtp_url = Some(smtp.url());
        s.mail_from = Some("Acme Service Desk <desk@acme.test>".into());
    })
    .await;
    let desk = server.desk().await;
    let receiver = switchboard_tests::receiver::Receiver::start().await;
    server
        .must(&desk.admin, "mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret } }",
            json!({ "input": { "url": receiver.url, "description": "Release board", "topics": ["release.created"] } }))
        .await;
    let created = server
        .must(&desk.manager.token, "mutation { createRelease(input: { name: \"Payroll 7\", versionLabel: \"7.0\", releaseType: MAJOR }) { release { number } } }", Value::Null)
        .await["createRelease"]["release"]["number"]
        .clone();
    let received = receiver.wait_for(1).await;
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    assert_eq!(
        receiver.received().len(),
        1,
        "once: {:?}",
        receiver.received()
    );
    let body = received[0].json();
    assert_eq!(body["type"], "release.created");
    assert_eq!(body["data"]["details"]["number"], created, "{body}");
    assert_eq!(body["data"]["entity"]["type"], "Release", "{body}");

    // Its owner is told by mail when it deploys (by another release manager: nobody is
    // told of their own act).
    let now = chrono::Utc::now().timestamp();
    let owner = switchboard_tests::server::sign_hs256(
        &json!({ "sub": "olga.owner", "name": "Olga",
        "email": "olga.owner@acme.test", "roles": ["manager"], "exp": now + 3600, "nbf": now - 10 }),
    );
    let owner_id = server
        .must(&owner, "{ viewer { nodeId } }", Value::Null)
        .await["viewer"]["nodeId"]
        .clone();
    let mut release = server
        .must(&desk.manager.token, "mutation($o: ID!) { createRelease(input: { name: \"Payroll 8\", versionLabel: \"8.0\", releaseType: MINOR, ownerId: $o }) { release { id number version } } }", json!({ "o": owner_id }))
        .await["createRelease"]["release"]
        .clone();
    for status in ["BUILDING", "TESTING", "APPROVED", "DEPLOYING", "DEPLOYED"] {
        release = server
            .must(&desk.manager.token, "mutation($input: TransitionReleaseInput!) { transitionRelease(input: $input) { release { id number version } } }",
                json!({ "input": { "id": release["id"], "version": release["version"], "to": status } }))
            .await["transitionRelease"]["release"]
            .clone();
    }
    let told = smtp.wait_for(
        "olga.owner@acme.test",
        "DEPLOYED",
        std::time::Duration::from_secs(15),
    );
    assert!(told.contains(release["number"].as_str().unwrap()), "{told}");
}
