//! Monitoring in, availability and capacity, as a service owner meets them: a real
//! Prometheus Alertmanager delivers alerts that become one incident per item and resolve
//! it; a flapping alert keeps one incident; a burst is counted, not stored 5,000 times;
//! a month of outages gives the hand-computed availability; a target's breach is
//! announced once, at the instant the budget is spent; a disk filling is forecast to the
//! day.

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, DurationRound, Utc};
use serde_json::{Value, json};
use switchboard_tests::{
    Backend, TestServer,
    desk::Desk,
    on_both_backends,
    server::sign_hs256,
    services::{Alertmanager, Smtp},
};

on_both_backends!(
    alertmanager_alerts_become_one_incident_that_resolves_itself,
    a_flapping_alert_keeps_one_incident,
    an_alert_burst_is_counted_not_stored_again,
    a_month_of_outages_gives_the_hand_computed_availability,
    a_target_breach_is_announced_once_at_the_instant_the_budget_is_spent,
    a_filling_disk_is_forecast_to_the_day,
);

const RULE: &str = "mutation($input: AutomationRuleInput!) { createAutomationRule(input: $input) { automationRule { id } } }";
const CI: &str = "mutation($input: CreateConfigurationItemInput!) { createConfigurationItem(input: $input) { configurationItem { id } } }";
const ALERTS: &str = "query($ci: ID) { alerts(configurationItemId: $ci, first: 100) { nodes { id name status flapping receivedCount ticket { id number status } } } }";

async fn class_id(server: &TestServer, admin: &str, name: &str) -> Value {
    let classes = server
        .must(admin, "{ ciClasses { id name } }", Value::Null)
        .await;
    classes["ciClasses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no class {name}"))["id"]
        .clone()
}

async fn item(
    server: &TestServer,
    admin: &str,
    class: &str,
    name: &str,
    service: Option<&Value>,
) -> Value {
    let class = class_id(server, admin, class).await;
    let mut input = json!({ "classId": class, "name": name });
    if let Some(service) = service {
        input["serviceId"] = service.clone();
    }
    server.must(admin, CI, json!({ "input": input })).await["createConfigurationItem"]["configurationItem"]["id"].clone()
}

async fn relate(server: &TestServer, admin: &str, source: &Value, target: &Value, kind: &str) {
    server
        .must(admin, "mutation($s: ID!, $t: ID!, $k: String!) { relateConfigurationItems(input: { sourceId: $s, targetId: $t, type: $k }) { relationship { id } } }",
            json!({ "s": source, "t": target, "k": kind }))
        .await;
}

async fn monitoring_token(server: &TestServer, desk: &Desk) -> String {
    server
        .must(&desk.admin, "mutation { createApiToken(input: { name: \"Prometheus\", scopes: [\"alerts:ingest\"] }) { secret } }", Value::Null)
        .await["createApiToken"]["secret"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The rule that makes firing alerts incidents, in the network group's queue.
async fn raise_incidents(server: &TestServer, desk: &Desk) {
    server
        .must(
            &desk.admin,
            RULE,
            json!({ "input": {
        "name": "Alerts become incidents", "trigger": "ALERT_FIRING",
        "actions": [{ "type": "RAISE_INCIDENT", "groupId": desk.network_group_id }],
    } }),
        )
        .await;
}

async fn alerts_of(server: &TestServer, token: &str, ci: &Value) -> Vec<Value> {
    server.must(token, ALERTS, json!({ "ci": ci })).await["alerts"]["nodes"]
        .as_array()
        .unwrap()
        .clone()
}

/// Polls the item's alerts until `done` holds for them, for at most 30 seconds.
async fn wait_for_alerts(
    server: &TestServer,
    token: &str,
    ci: &Value,
    what: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let start = std::time::Instant::now();
    loop {
        let alerts = alerts_of(server, token, ci).await;
        if done(&alerts) {
            return alerts;
        }
        assert!(
            start.elapsed() < StdDuration::from_secs(30),
            "{what}: still {alerts:#?}"
        );
        tokio::time::sleep(StdDuration::from_millis(200)).await;
    }
}

async fn ticket_status(server: &TestServer, token: &str, id: &Value) -> Value {
    server
        .must(
            token,
            "query($id: ID!) { node(id: $id) { ... on Ticket { status } } }",
            json!({ "id": id }),
        )
        .await["node"]["status"]
        .clone()
}

async fn post_generic(server: &TestServer, token: &str, body: Value) -> reqwest::Response {
    server
        .http()
        .post(server.url("/monitoring/alerts"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn alertmanager_alerts_become_one_incident_that_resolves_itself(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let agent = &desk.agents[0].token;
    let web = item(&server, &desk.admin, "Server", "web-1", None).await;
    raise_incidents(&server, &desk).await;
    let token = monitoring_token(&server, &desk).await;

    // Without the token, or with a person's who may not send alerts, the intake refuses.
    let refused = server
        .http()
        .post(server.url("/monitoring/alertmanager"))
        .json(&json!({ "alerts": [] }))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{body}"
    );
    let refused = server
        .http()
        .post(server.url("/monitoring/alertmanager"))
        .bearer_auth(agent)
        .json(&json!({ "alerts": [] }))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    // Requesters do not read the desk's alerts.
    let reply = server
        .gql(Some(&desk.requester.token), ALERTS, json!({ "ci": web }))
        .await;
    assert_eq!(reply.error_code(), "FORBIDDEN");

    let alertmanager = Alertmanager::start(&server.url("/monitoring/alertmanager"), &token);
    let send = |alerts: Value| {
        let url = format!("{}/api/v2/alerts", alertmanager.url());
        let http = server.http().clone();
        async move {
            let reply = http.post(url).json(&alerts).send().await.unwrap();
            assert!(
                reply.status().is_success(),
                "Alertmanager refused the alerts: {}",
                reply.text().await.unwrap()
            );
        }
    };
    let cpu = json!({ "labels": { "alertname": "HighCPU", "ci": "web-1", "severity": "critical" }, "annotations": { "summary": "CPU at 98% for 5 minutes" } });
    send(json!([cpu])).await;
    let first = wait_for_alerts(&server, agent, &web, "the first alert's incident", |a| {
        a.len() == 1 && a[0]["ticket"].is_object()
    })
    .await;
    let incident = first[0]["ticket"].clone();
    assert!(incident.get("number").is_some(), "{incident}");
    assert_eq!(first[0]["status"], "FIRING");
    // The incident is about the item, in the rule's queue, at the severity's priority.
    let details = server
        .must(agent, "query($id: ID!) { node(id: $id) { ... on Ticket { title priority channel group { id } configurationItems { name } } } }", json!({ "id": incident["id"] }))
        .await["node"]
        .clone();
    assert_eq!(details["title"], "HighCPU on web-1");
    assert_eq!(details["priority"], "P1");
    assert_eq!(details["channel"], "MONITORING");
    assert_eq!(details["group"]["id"], desk.network_group_id);
    assert_eq!(details["configurationItems"][0]["name"], "web-1");

    // The incident is flagged an outage while it lasts: it started when the alert did.
    let outage = server
        .must(agent, "mutation($t: ID!) { recordOutage(input: { ticketId: $t }) { id kind severity endedAt } }", json!({ "t": incident["id"] }))
        .await["recordOutage"][0]
        .clone();
    assert_eq!(outage["kind"], "UNPLANNED");
    assert!(
        outage.get("endedAt").is_some_and(Value::is_null),
        "{outage}"
    );

    // A second alert on the same item joins the open incident.
    let disk = json!({ "labels": { "alertname": "DiskFull", "ci": "web-1", "severity": "warning" }, "annotations": { "summary": "/var at 97%" } });
    send(json!([cpu, disk])).await;
    let both = wait_for_alerts(&server, agent, &web, "the second alert attached", |a| {
        a.len() == 2 && a.iter().all(|x| x["ticket"].is_object())
    })
    .await;
    assert!(
        both.iter()
            .all(|a| a["ticket"]["number"] == incident["number"]),
        "{both:#?}"
    );

    // Alertmanager sends `resolved`: the incident resolves itself, its timeline its comment.
    let now = Utc::now().to_rfc3339();
    let resolved: Vec<Value> = [cpu, disk]
        .into_iter()
        .map(|mut a| {
            a["endsAt"] = json!(now);
            a
        })
        .collect();
    send(json!(resolved)).await;
    wait_for_alerts(&server, agent, &web, "both alerts resolved", |a| {
        a.iter().all(|x| x["status"] == "RESOLVED")
    })
    .await;
    let start = std::time::Instant::now();
    while ticket_status(&server, agent, &incident["id"]).await != "RESOLVED" {
        assert!(
            start.elapsed() < StdDuration::from_secs(20),
            "the incident did not resolve itself"
        );
        tokio::time::sleep(StdDuration::from_millis(200)).await;
    }
    let comments = server
        .must(agent, "query($id: ID!) { node(id: $id) { ... on Ticket { resolutionCode comments(first: 20) { nodes { body } } } } }", json!({ "id": incident["id"] }))
        .await["node"]
        .clone();
    assert_eq!(comments["resolutionCode"], "RESOLVED_BY_MONITORING");
    let bodies = comments["comments"]["nodes"].to_string();
    assert!(
        bodies.contains("Timeline") && bodies.contains("HighCPU") && bodies.contains("DiskFull"),
        "{bodies}"
    );
    // The outage ended when the last alert did.
    let ended = server
        .must(
            agent,
            "query($t: ID!) { outages(ticketId: $t) { nodes { endedAt } } }",
            json!({ "t": incident["id"] }),
        )
        .await["outages"]["nodes"][0]
        .clone();
    assert!(
        ended.get("endedAt").is_some_and(Value::is_string),
        "{ended}"
    );
}

async fn a_flapping_alert_keeps_one_incident(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let agent = &desk.agents[0].token;
    let db = item(&server, &desk.admin, "Database", "orders-db", None).await;
    raise_incidents(&server, &desk).await;
    let token = monitoring_token(&server, &desk).await;
    let alert = |status: &str| json!({ "name": "ReplicationLag", "status": status, "severity": "warning", "labels": { "ci": "orders-db" } });

    let mut incidents = std::collections::BTreeSet::new();
    for round in 0..3 {
        let reply = post_generic(&server, &token, alert("firing")).await;
        assert_eq!(reply.status(), 200, "{}", reply.text().await.unwrap());
        let firing = wait_for_alerts(&server, agent, &db, "the alert's incident open", |a| {
            a.len() == 1
                && a[0]["status"] == "FIRING"
                && a[0]["ticket"]["status"]
                    .as_str()
                    .is_some_and(|s| s != "RESOLVED")
        })
        .await;
        incidents.insert(firing[0]["ticket"]["number"].as_str().unwrap().to_string());
        post_generic(&server, &token, alert("resolved")).await;
        let resolved = wait_for_alerts(&server, agent, &db, "the alert resolved", |a| {
            a[0]["status"] == "RESOLVED"
        })
        .await;
        if round == 0 {
            // Once is not flapping: the incident resolves itself.
            assert_eq!(resolved[0]["flapping"], false);
            let start = std::time::Instant::now();
            while ticket_status(&server, agent, &resolved[0]["ticket"]["id"]).await != "RESOLVED" {
                assert!(
                    start.elapsed() < StdDuration::from_secs(20),
                    "the incident did not resolve itself"
                );
                tokio::time::sleep(StdDuration::from_millis(200)).await;
            }
        } else {
            // Firing and resolving again within the window is flapping: the incident stays open.
            assert_eq!(resolved[0]["flapping"], true, "{resolved:#?}");
            tokio::time::sleep(StdDuration::from_millis(500)).await;
            assert_ne!(
                ticket_status(&server, agent, &resolved[0]["ticket"]["id"]).await,
                "RESOLVED"
            );
        }
    }
    assert_eq!(
        incidents.len(),
        1,
        "one incident, reopened, not one a time: {incidents:?}"
    );
    let alerts = alerts_of(&server, agent, &db).await;
    assert_eq!(alerts[0]["receivedCount"], 6);
}

async fn an_alert_burst_is_counted_not_stored_again(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let token = monitoring_token(&server, &desk).await;
    // 5,000 deliveries of 50 alerts, in 50 requests at once.
    let requests = (0..50).map(|r| {
        let alerts: Vec<Value> = (0..100)
            .map(|i| json!({ "name": "Probe", "severity": "info", "labels": { "target": format!("host-{}", (r + i) % 50) } }))
            .collect();
        post_generic(&server, &token, json!({ "alerts": alerts }))
    });
    for reply in futures::future::join_all(requests).await {
        assert_eq!(reply.status(), 200);
    }
    let mut count = 0;
    let mut received = 0;
    let mut after: Option<String> = None;
    loop {
        let page = server
            .must(&desk.agents[0].token, "query($after: String) { alerts(first: 20, after: $after) { nodes { receivedCount } pageInfo { hasNextPage endCursor } } }", json!({ "after": after }))
            .await["alerts"]
            .clone();
        for alert in page["nodes"].as_array().unwrap() {
            count += 1;
            received += alert["receivedCount"].as_i64().unwrap();
        }
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["pageInfo"]["endCursor"].as_str().map(str::to_string);
    }
    assert_eq!(count, 50);
    assert_eq!(received, 5000);
    assert!(
        server
            .metric("switchboard_alerts_received_total")
            .await
            .is_some_and(|n| n >= 5000.0)
    );
}

/// Office hours, 09:00-17:00 UTC on weekdays, with 26 November 2026 a holiday.
async fn office_service(server: &TestServer, admin: &str) -> Value {
    let day = json!(["09:00-17:00"]);
    let calendar = server
        .must(admin, "mutation($week: [[String!]!]!) { saveCalendar(input: { name: \"Office\", timeZone: \"UTC\", week: $week, holidays: [\"2026-11-26\"] }) { calendar { id } } }",
            json!({ "week": [day, day, day, day, day, [], []] }))
        .await["saveCalendar"]["calendar"]["id"]
        .clone();
    server
        .must(admin, "mutation($c: ID!) { saveService(input: { name: \"Shop\", lifecycle: LIVE, calendarId: $c }) { service { id } } }", json!({ "c": calendar }))
        .await["saveService"]["service"]["id"]
        .clone()
}

async fn outage(server: &TestServer, token: &str, item: &Value, kind: &str, from: &str, to: &str) {
    server
        .must(token, "mutation($i: ID!, $k: OutageKind!, $f: DateTime!, $t: DateTime!) { recordOutage(input: { configurationItemIds: [$i], kind: $k, startedAt: $f, endedAt: $t }) { id } }",
            json!({ "i": item, "k": kind, "f": from, "t": to }))
        .await;
}

async fn a_month_of_outages_gives_the_hand_computed_availability(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let (admin, agent) = (&desk.admin, &desk.agents[0].token);
    let service = office_service(&server, admin).await;
    // The shop is balanced across two web servers and needs its database.
    let shop = item(&server, admin, "Business service", "Shop", Some(&service)).await;
    let (web_a, web_b) = (
        item(&server, admin, "Server", "web-a", None).await,
        item(&server, admin, "Server", "web-b", None).await,
    );
    let db = item(&server, admin, "Database", "shop-db", None).await;
    relate(&server, admin, &shop, &web_a, "BALANCED_ACROSS").await;
    relate(&server, admin, &shop, &web_b, "BALANCED_ACROSS").await;
    relate(&server, admin, &shop, &db, "DEPENDS_ON").await;
    server
        .must(&desk.manager.token, "mutation($s: ID!) { setAvailabilityTarget(serviceId: $s, targetPercent: 99.0) { id } }", json!({ "s": service }))
        .await;

    // November 2026: 20 working days (the 26th a holiday) x 8 h = 160 h of service time.
    // Tue 3rd, the database down 16:00-18:30: 1 h of it in service time.
    outage(
        &server,
        agent,
        &db,
        "UNPLANNED",
        "2026-11-03T16:00:00Z",
        "2026-11-03T18:30:00Z",
    )
    .await;
    // Wed 4th, one web server down: the other carries the shop.
    outage(
        &server,
        agent,
        &web_a,
        "UNPLANNED",
        "2026-11-04T10:00:00Z",
        "2026-11-04T11:00:00Z",
    )
    .await;
    // Thu 5th, both: web-a 10:00-10:45, web-b 10:15-10:30: the shop is down 15 min.
    outage(
        &server,
        agent,
        &web_a,
        "UNPLANNED",
        "2026-11-05T10:00:00Z",
        "2026-11-05T10:45:00Z",
    )
    .await;
    outage(
        &server,
        agent,
        &web_b,
        "UNPLANNED",
        "2026-11-05T10:15:00Z",
        "2026-11-05T10:30:00Z",
    )
    .await;
    // Sat 7th, outside service time: no outage of the service.
    outage(
        &server,
        agent,
        &db,
        "UNPLANNED",
        "2026-11-07T10:00:00Z",
        "2026-11-07T12:00:00Z",
    )
    .await;
    // Wed 11th, a planned window 10:00-12:00 that overran by 30 unplanned minutes.
    outage(
        &server,
        agent,
        &db,
        "PLANNED",
        "2026-11-11T10:00:00Z",
        "2026-11-11T12:00:00Z",
    )
    .await;
    outage(
        &server,
        agent,
        &db,
        "UNPLANNED",
        "2026-11-11T12:00:00Z",
        "2026-11-11T12:30:00Z",
    )
    .await;

    let report = server
        .must(agent, "query($s: ID!) { serviceAvailability(serviceId: $s, month: \"2026-11\") { from to calendarSeconds agreedServiceSeconds plannedDowntimeSeconds downtimeSeconds availabilityPercent outages plannedWindows mtrsSeconds mtbfSeconds mtbsiSeconds targetPercent targetMet budgetSeconds budgetLeftSeconds budgetSpentAt stretches { from to state } } }", json!({ "s": service }))
        .await["serviceAvailability"]
        .clone();
    let number = |key: &str| {
        assert!(report.get(key).is_some(), "{key} missing from {report}");
        report[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key}: {}", report[key]))
    };
    let from: DateTime<Utc> = report["from"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        from,
        "2026-11-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap()
    );
    assert_eq!(number("calendarSeconds"), 160.0 * 3600.0);
    assert_eq!(number("plannedDowntimeSeconds"), 2.0 * 3600.0);
    assert_eq!(number("agreedServiceSeconds"), 158.0 * 3600.0);
    // 60 + 15 + 30 minutes.
    assert_eq!(number("downtimeSeconds"), 105.0 * 60.0);
    assert_eq!(number("outages"), 3.0);
    assert_eq!(number("plannedWindows"), 1.0);
    assert_eq!(number("mtrsSeconds"), 2100.0);
    assert_eq!(number("mtbfSeconds"), (568_800.0 - 6_300.0) / 3.0);
    assert_eq!(number("mtbsiSeconds"), 568_800.0 / 3.0);
    let expected = (568_800.0 - 6_300.0) / 568_800.0 * 100.0;
    assert!(
        (number("availabilityPercent") - expected).abs() < 1e-9,
        "{report}"
    );
    // 99% of 158 h leaves 5,688 s; 6,300 s were spent. The 3rd took 3,600 s and the 5th
    // 900, so the last 1,188 s ran out 19 min 48 s into the 11th's overrun: 12:19:48.
    assert_eq!(number("budgetSeconds"), 5688.0);
    assert_eq!(number("budgetLeftSeconds"), 0.0);
    assert_eq!(report["targetMet"], false);
    let spent: DateTime<Utc> = report["budgetSpentAt"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        spent,
        "2026-11-11T12:19:48Z".parse::<DateTime<Utc>>().unwrap()
    );
    let downs: Vec<&Value> = report["stretches"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["state"] == "DOWN")
        .collect();
    assert_eq!(
        downs.len(),
        4,
        "the Saturday outage is a stretch outside service time: {downs:?}"
    );
}

async fn a_target_breach_is_announced_once_at_the_instant_the_budget_is_spent(backend: Backend) {
    let smtp = Smtp::start();
    let server = TestServer::start_with(backend, |s| {
        s.smtp_url = Some(smtp.url());
        s.mail_from = Some("Acme Service Desk <desk@acme.test>".into());
    })
    .await;
    let desk = server.desk().await;
    let (admin, agent) = (&desk.admin, &desk.agents[0].token);
    // The network group's manager, with an address: the service's owners hear of it.
    let now = Utc::now().timestamp();
    let mona = sign_hs256(
        &json!({ "sub": "mona", "name": "mona", "email": "mona@acme.test",
        "roles": ["manager"], "exp": now + 3600, "nbf": now - 10 }),
    );
    server
        .must(&mona, "{ viewer { nodeId } }", Value::Null)
        .await;
    // Around the clock; 99.99% of a month leaves a few minutes.
    let service = server
        .must(admin, "mutation($g: ID!) { saveService(input: { name: \"Payments\", lifecycle: LIVE, ownerGroupId: $g }) { service { id } } }",
            json!({ "g": desk.network_group_id }))
        .await["saveService"]["service"]["id"]
        .clone();
    let gateway = item(
        &server,
        admin,
        "Application",
        "payments-gateway",
        Some(&service),
    )
    .await;
    server
        .must(&desk.manager.token, "mutation($s: ID!) { setAvailabilityTarget(serviceId: $s, targetPercent: 99.99) { id } }", json!({ "s": service }))
        .await;
    server
        .must(
            admin,
            RULE,
            json!({ "input": {
        "name": "Budget gone: an incident", "trigger": "AVAILABILITY_TARGET_BREACHED",
        "actions": [{ "type": "RAISE_INCIDENT", "priority": "P2" }],
    } }),
        )
        .await;

    // Microseconds: what PostgreSQL keeps.
    let started = (Utc::now() - Duration::minutes(2))
        .duration_trunc(Duration::microseconds(1))
        .unwrap();
    server
        .must(agent, "mutation($i: ID!, $f: DateTime!) { recordOutage(input: { configurationItemIds: [$i], kind: UNPLANNED, startedAt: $f }) { id } }",
            json!({ "i": gateway, "f": started }))
        .await;
    let live = server
        .must(agent, "query($s: ID!) { serviceAvailability(serviceId: $s) { from to budgetSeconds budgetLeftSeconds budgetRunsOutAt budgetSpentAt } }", json!({ "s": service }))
        .await["serviceAvailability"]
        .clone();
    let from: DateTime<Utc> = live["from"].as_str().unwrap().parse().unwrap();
    let to: DateTime<Utc> = live["to"].as_str().unwrap().parse().unwrap();
    let budget_ms = ((to - from).num_milliseconds() as f64 * 0.0001).round() as i64;
    assert_eq!(
        live["budgetSeconds"].as_f64().unwrap(),
        budget_ms as f64 / 1000.0
    );
    assert!(
        live.get("budgetSpentAt").is_some_and(Value::is_null),
        "{live}"
    );
    let spent_at = started + Duration::milliseconds(budget_ms);
    let runs_out: DateTime<Utc> = live["budgetRunsOutAt"].as_str().unwrap().parse().unwrap();
    assert_eq!(runs_out, spent_at);
    assert!(live["budgetLeftSeconds"].as_f64().unwrap() > 0.0);

    // Time passes beyond the instant: the breach is announced, once.
    server.advance(Duration::minutes(10));
    let breached = format!("at {}", spent_at.format("%Y-%m-%d %H:%M:%S UTC"));
    let incidents = || async {
        server
            .must(
                admin,
                "{ tickets(first: 50) { nodes { title } } }",
                Value::Null,
            )
            .await["tickets"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| {
                t["title"]
                    .as_str()
                    .unwrap()
                    .contains("spent its downtime budget")
            })
            .map(|t| t["title"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let start = std::time::Instant::now();
    loop {
        let found = incidents().await;
        if !found.is_empty() {
            assert!(
                found[0].contains(&breached),
                "{found:?} should say {breached}"
            );
            break;
        }
        assert!(
            start.elapsed() < StdDuration::from_secs(20),
            "no breach announced"
        );
        tokio::time::sleep(StdDuration::from_millis(200)).await;
    }
    server.advance(Duration::minutes(10));
    tokio::time::sleep(StdDuration::from_secs(3)).await;
    assert_eq!(incidents().await.len(), 1, "announced once");
    let after = server
        .must(agent, "query($s: ID!) { serviceAvailability(serviceId: $s) { budgetLeftSeconds budgetSpentAt targetMet } }", json!({ "s": service }))
        .await["serviceAvailability"]
        .clone();
    assert_eq!(after["budgetLeftSeconds"], 0.0);
    assert_eq!(after["targetMet"], false);
    let at: DateTime<Utc> = after["budgetSpentAt"].as_str().unwrap().parse().unwrap();
    assert_eq!(at, spent_at);
    // The owning group's manager is told by mail.
    let mail = smtp.wait_for(
        "mona@acme.test",
        "spent its downtime budget",
        StdDuration::from_secs(15),
    );
    assert!(mail.contains("Payments"), "{mail}");
}

async fn a_filling_disk_is_forecast_to_the_day(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let (admin, agent) = (&desk.admin, &desk.agents[0].token);
    let class = server
        .must(admin, "mutation { saveCiClass(input: { name: \"Storage array\", attributes: [{ name: \"disk\", kind: MEASURE, unit: \"%\", threshold: 90 }, { name: \"model\", kind: STRING }] }) { ciClass { id } } }", Value::Null)
        .await["saveCiClass"]["ciClass"]["id"]
        .clone();
    let array = server
        .must(
            admin,
            CI,
            json!({ "input": { "classId": class, "name": "san-1" } }),
        )
        .await["createConfigurationItem"]["configurationItem"]["id"]
        .clone();
    server
        .must(
            admin,
            RULE,
            json!({ "input": {
        "name": "Capacity: an incident", "trigger": "CAPACITY_WARNING",
        "actions": [{ "type": "RAISE_INCIDENT" }],
    } }),
        )
        .await;

    // A measure the class does not have is refused, naming it.
    let reply = server
        .gql(
            Some(agent),
            "mutation($v: [MeasurementInput!]!) { recordMeasurements(values: $v) }",
            json!({ "v": [{ "configurationItemId": array, "measure": "cpu", "value": 1.0 }] }),
        )
        .await;
    assert_eq!(reply.error_code(), "BAD_USER_INPUT");
    assert!(
        reply.error_message().contains("disk"),
        "{}",
        reply.error_message()
    );

    // 50% on 1 November 2026, two points a day more: 90% on the 21st.
    let start: DateTime<Utc> = "2026-11-01T00:00:00Z".parse().unwrap();
    let values: Vec<Value> = (0..10)
        .map(|d| json!({ "configurationItemId": array, "measure": "disk", "value": 50.0 + 2.0 * d as f64, "at": start + Duration::days(d) }))
        .collect();
    let kept = server
        .must(
            agent,
            "mutation($v: [MeasurementInput!]!) { recordMeasurements(values: $v) }",
            json!({ "v": values }),
        )
        .await["recordMeasurements"]
        .clone();
    assert_eq!(kept, 10);
    let report = server
        .must(agent, "query($c: ID!) { capacityReport(classId: $c) { configurationItem { name } measure unit threshold current usedPercent perDay crossesThresholdAt points } }", json!({ "c": class }))
        .await["capacityReport"]
        .clone();
    let line = &report[0];
    assert_eq!(line["configurationItem"]["name"], "san-1");
    assert_eq!(line["measure"], "disk");
    assert_eq!(line["current"], 68.0);
    assert_eq!(line["points"], 10);
    assert!(
        (line["perDay"].as_f64().unwrap() - 2.0).abs() < 1e-9,
        "{line}"
    );
    let crosses: DateTime<Utc> = line["crossesThresholdAt"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        crosses,
        "2026-11-21T00:00:00Z".parse::<DateTime<Utc>>().unwrap()
    );
    // The forecast within the horizon is an event the rule acted on: one incident.
    let start = std::time::Instant::now();
    loop {
        let titles = server
            .must(
                admin,
                "{ tickets(first: 50) { nodes { title } } }",
                Value::Null,
            )
            .await["tickets"]["nodes"]
            .to_string();
        if titles.contains("forecast to reach its threshold of 90 % on 2026-11-21") {
            break;
        }
        assert!(
            start.elapsed() < StdDuration::from_secs(20),
            "no capacity incident: {titles}"
        );
        tokio::time::sleep(StdDuration::from_millis(200)).await;
    }
}
