//! IT service continuity as a continuity manager meets it: a plan exercised 13 months
//! ago with a 12-month interval is overdue (a failed exercise since does not help, a
//! successful one does), and during a major incident the service's plan shows its RTO
//! against the outage's running time.

use chrono::{Duration, DurationRound, Months, Utc};
use serde_json::{Value, json};
use switchboard_tests::{Backend, TestServer, on_both_backends, receiver::Receiver};

on_both_backends!(a_plan_not_exercised_within_its_interval_is_overdue);

const PLAN: &str = "query($s: ID) { continuityPlans(serviceId: $s) { id name overdue exerciseDueAt exercises { outcome withinRto } steps { position action owner { name } } configurationItems { name } } }";
const EXERCISE: &str = "mutation($i: RecordContinuityExerciseInput!) { recordContinuityExercise(input: $i) { overdue exerciseDueAt } }";

async fn a_plan_not_exercised_within_its_interval_is_overdue(backend: Backend) {
    // The jobs look every second; a webhook hears what they announce.
    let server = TestServer::start_with(backend, |s| {
        s.job_interval_seconds = Some("1".into());
        s.webhook_allow = Some("127.0.0.0/8".into());
    })
    .await;
    let desk = server.desk().await;
    let (admin, manager) = (&desk.admin, &desk.manager.token);
    let receiver = Receiver::start().await;
    server
        .must(admin, "mutation($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) { secret } }",
            json!({ "i": { "url": receiver.url, "description": "Continuity desk", "topics": ["continuity.exercise_overdue", "agreement.review_due"] } }))
        .await;
    let service = server
        .must(admin, "mutation { saveService(input: { name: \"Orders\", lifecycle: LIVE }) { service { id } } }", Value::Null)
        .await["saveService"]["service"]["id"]
        .clone();
    let class = server
        .must(admin, "{ ciClasses { id name } }", Value::Null)
        .await["ciClasses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "Database")
        .unwrap()["id"]
        .clone();
    let db = server
        .must(admin, "mutation($i: CreateConfigurationItemInput!) { createConfigurationItem(input: $i) { configurationItem { id } } }",
            json!({ "i": { "classId": class, "name": "orders-db", "serviceId": service } }))
        .await["createConfigurationItem"]["configurationItem"]["id"]
        .clone();
    let plan = server
        .must(manager, "mutation($i: SaveContinuityPlanInput!) { saveContinuityPlan(input: $i) { id rtoMinutes } }", json!({ "i": {
            "serviceId": service, "name": "Orders to the standby site", "rtoMinutes": 60, "rpoMinutes": 15,
            "strategy": "Warm standby in the second data centre", "exerciseIntervalMonths": 12,
            "steps": [{ "action": "Promote the standby database", "ownerId": desk.agents[0].id }, { "action": "Point the application at it" }],
            "configurationItemIds": [db], "contacts": [{ "name": "DC operations", "phone": "+33 1 00 00 00 00" }] } }))
        .await["saveContinuityPlan"]
        .clone();
    // Agents read plans; requesters do not.
    assert_eq!(
        server
            .gql(Some(&desk.requester.token), PLAN, json!({ "s": service }))
            .await
            .error_code(),
        "FORBIDDEN"
    );

    // Exercised successfully 13 months ago, every 12 months: overdue for a month.
    // Microseconds: what PostgreSQL keeps.
    let thirteen = Utc::now()
        .checked_sub_months(Months::new(13))
        .unwrap()
        .duration_trunc(Duration::microseconds(1))
        .unwrap();
    let after = server
        .must(manager, EXERCISE, json!({ "i": { "planId": plan["id"], "exercisedAt": thirteen, "scope": "Full failover",
            "outcome": "SUCCESS", "recoveryMinutes": 45, "findings": "The DNS change took 20 minutes." } }))
        .await["recordContinuityExercise"]
        .clone();
    assert_eq!(after["overdue"], true, "{after}");
    // The job announces it, once.
    let announced = receiver.wait_for(1).await.remove(0).json();
    assert_eq!(
        announced["type"], "continuity.exercise_overdue",
        "{announced}"
    );
    assert!(
        announced.to_string().contains("Orders to the standby site"),
        "{announced}"
    );
    let due: chrono::DateTime<Utc> = after["exerciseDueAt"].as_str().unwrap().parse().unwrap();
    assert_eq!(due, thirteen.checked_add_months(Months::new(12)).unwrap());
    // A failed exercise since does not make it tested.
    let failed = server
        .must(manager, EXERCISE, json!({ "i": { "planId": plan["id"], "exercisedAt": Utc::now() - Duration::days(30), "scope": "Database only",
            "outcome": "FAILED", "recoveryMinutes": 90 } }))
        .await["recordContinuityExercise"]
        .clone();
    assert_eq!(failed["overdue"], true);
    let overdue = server
        .must(
            &desk.agents[0].token,
            "{ continuityPlans(overdue: true) { name } }",
            Value::Null,
        )
        .await["continuityPlans"]
        .clone();
    assert_eq!(
        overdue,
        json!([{ "name": "Orders to the standby site" }]),
        "the report line"
    );
    let listed = server
        .must(&desk.agents[0].token, PLAN, json!({ "s": service }))
        .await["continuityPlans"][0]
        .clone();
    assert_eq!(listed["exercises"][0]["outcome"], "FAILED");
    assert_eq!(
        listed["exercises"][0]["withinRto"], false,
        "90 minutes against an RTO of 60"
    );
    assert_eq!(listed["exercises"][1]["withinRto"], true);
    assert_eq!(listed["steps"][0]["owner"]["name"], "ada");
    assert_eq!(listed["steps"][1]["position"], 2);
    assert_eq!(listed["configurationItems"][0]["name"], "orders-db");

    // During a major incident on the database, the plan's RTO is held against the outage.
    let major = server
        .must(manager, "mutation($i: DeclareMajorIncidentInput!) { declareMajorIncident(input: $i) { majorIncident { id ticket { id } } } }",
            json!({ "i": { "coordinatorId": desk.agents[0].id, "newIncident": { "kind": "INCIDENT", "title": "Orders down", "impact": "HIGH", "urgency": "HIGH", "configurationItemIds": [db] } } }))
        .await["declareMajorIncident"]["majorIncident"]
        .clone();
    server
        .must(
            manager,
            "mutation($t: ID!) { recordOutage(input: { ticketId: $t }) { id } }",
            json!({ "t": major["ticket"]["id"] }),
        )
        .await;
    server.advance(Duration::minutes(61));
    let incidents = server
        .must(manager, "{ majorIncidents { id continuityPlans { name recoveryClock { runningSeconds rtoSeconds rtoExceeded } } } }", Value::Null)
        .await["majorIncidents"]
        .clone();
    let linked = &incidents
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == major["id"])
        .unwrap()["continuityPlans"][0];
    assert_eq!(linked["name"], "Orders to the standby site");
    assert_eq!(linked["recoveryClock"]["rtoSeconds"], 3600);
    assert!(
        linked["recoveryClock"]["runningSeconds"].as_i64().unwrap() >= 61 * 60,
        "{linked}"
    );
    assert_eq!(linked["recoveryClock"]["rtoExceeded"], true);

    // An agreement coming up for review within 30 days is announced too, once.
    server
        .must(admin, "mutation($i: SaveSlaPolicyInput!) { saveSlaPolicy(input: $i) { slaPolicy { id } } }",
            json!({ "i": { "name": "Orders SLA", "position": 1, "resolutionMinutes": 480, "reviewAt": Utc::now() + Duration::days(10) } }))
        .await;
    let review = receiver.wait_for(2).await.remove(1).json();
    assert_eq!(review["type"], "agreement.review_due", "{review}");
    assert!(review.to_string().contains("Orders SLA"), "{review}");
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert_eq!(receiver.received().len(), 2, "each announced once");

    // Exercised successfully now: no longer overdue.
    let fresh = server
        .must(manager, EXERCISE, json!({ "i": { "planId": plan["id"], "exercisedAt": Utc::now(), "scope": "Full failover", "outcome": "SUCCESS" } }))
        .await["recordContinuityExercise"]
        .clone();
    assert_eq!(fresh["overdue"], false);
}
