//! Cost and charging as a finance team meets it: a November with hand-computed time,
//! rates (one changing mid-month), item costs shared by the services that depend on
//! them, a fixed service cost and a per-hour charging policy gives the expected cost
//! per service and ticket and charge per organization, to the cent.

use chrono::{Datelike, Utc};
use serde_json::{Value, json};
use switchboard_tests::{Backend, TestServer, on_both_backends, receiver::Receiver};

on_both_backends!(a_month_costs_and_charges_to_the_cent);

async fn id(
    server: &TestServer,
    token: &str,
    query: &str,
    variables: Value,
    path: &[&str],
) -> Value {
    let mut data = server.must(token, query, variables).await;
    for key in path {
        data = data[*key].take();
    }
    data
}

async fn a_month_costs_and_charges_to_the_cent(backend: Backend) {
    // The jobs look every second; a webhook hears what they announce.
    let server = TestServer::start_with(backend, |s| {
        s.job_interval_seconds = Some("1".into());
        s.webhook_allow = Some("127.0.0.0/8".into());
    })
    .await;
    let desk = server.desk().await;
    let (admin, manager) = (&desk.admin, &desk.manager.token);
    let service = "mutation($n: String!) { saveService(input: { name: $n, lifecycle: LIVE }) { service { id } } }";
    let email = id(
        &server,
        admin,
        service,
        json!({ "n": "Email" }),
        &["saveService", "service", "id"],
    )
    .await;
    let calendar = id(
        &server,
        admin,
        service,
        json!({ "n": "Calendar" }),
        &["saveService", "service", "id"],
    )
    .await;
    let org =
        "mutation($n: String!) { createOrganization(input: { name: $n }) { organization { id } } }";
    let acme = id(
        &server,
        admin,
        org,
        json!({ "n": "Acme Finance" }),
        &["createOrganization", "organization", "id"],
    )
    .await;
    let globex = id(
        &server,
        admin,
        org,
        json!({ "n": "Globex Finance" }),
        &["createOrganization", "organization", "id"],
    )
    .await;
    let classes = server
        .must(admin, "{ ciClasses { id name } }", Value::Null)
        .await["ciClasses"]
        .clone();
    let class = |name: &str| {
        classes
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap()["id"]
            .clone()
    };
    let ci = "mutation($i: CreateConfigurationItemInput!) { createConfigurationItem(input: $i) { configurationItem { id } } }";
    let mail_server = id(
        &server,
        admin,
        ci,
        json!({ "i": { "classId": class("Server"), "name": "mail-1" } }),
        &["createConfigurationItem", "configurationItem", "id"],
    )
    .await;
    let email_app = id(&server, admin, ci, json!({ "i": { "classId": class("Application"), "name": "email-app", "serviceId": email } }), &["createConfigurationItem", "configurationItem", "id"]).await;
    let calendar_app = id(&server, admin, ci, json!({ "i": { "classId": class("Application"), "name": "calendar-app", "serviceId": calendar } }), &["createConfigurationItem", "configurationItem", "id"]).await;
    for app in [&email_app, &calendar_app] {
        server.must(admin, "mutation($s: ID!, $t: ID!) { relateConfigurationItems(input: { sourceId: $s, targetId: $t, type: \"RUNS_ON\" }) { relationship { id } } }",
            json!({ "s": app, "t": mail_server })).await;
    }

    // The cost model.
    let rate = "mutation($i: AddCostRateInput!) { addCostRate(input: $i) }";
    server.must(admin, rate, json!({ "i": { "groupId": desk.network_group_id, "hourlyCents": 6000, "validFrom": "2026-01-01" } })).await;
    server.must(admin, rate, json!({ "i": { "groupId": desk.tier2_group_id, "hourlyCents": 8000, "validFrom": "2026-01-01" } })).await;
    server.must(admin, rate, json!({ "i": { "groupId": desk.tier2_group_id, "hourlyCents": 9000, "validFrom": "2026-11-15" } })).await;
    let cost = "mutation($i: AddCostInput!) { addCost(input: $i) }";
    server.must(admin, cost, json!({ "i": { "configurationItemId": mail_server, "kind": "MONTHLY", "amountCents": 30000, "startsOn": "2026-01-01", "description": "hosting" } })).await;
    server.must(admin, cost, json!({ "i": { "configurationItemId": email_app, "kind": "ONE_OFF", "amountCents": 12000, "startsOn": "2026-11-05", "description": "licence" } })).await;
    server.must(admin, cost, json!({ "i": { "serviceId": email, "kind": "MONTHLY", "amountCents": 50000, "startsOn": "2026-01-01", "description": "support contract" } })).await;
    // A cost is of an item or of a service, not both.
    let reply = server.gql(Some(admin), cost, json!({ "i": { "configurationItemId": mail_server, "serviceId": email, "kind": "ONE_OFF", "amountCents": 1, "startsOn": "2026-11-01" } })).await;
    assert_eq!(reply.error_code(), "BAD_USER_INPUT");
    server.must(admin, "mutation($s: ID!) { setChargingPolicy(input: { serviceId: $s, method: PER_HOUR, hourlyCents: 12000 }) }", json!({ "s": email })).await;

    // Two tickets on Email: Acme's with the desk, Globex's with tier 2.
    let create = "mutation($i: CreateTicketInput!) { createTicket(input: $i) { ticket { id } } }";
    let a = id(&server, manager, create, json!({ "i": { "kind": "INCIDENT", "title": "Mail bounces", "serviceId": email, "organizationId": acme, "groupId": desk.network_group_id } }), &["createTicket", "ticket", "id"]).await;
    let b = id(&server, manager, create, json!({ "i": { "kind": "INCIDENT", "title": "Mailbox full", "serviceId": email, "organizationId": globex, "groupId": desk.tier2_group_id } }), &["createTicket", "ticket", "id"]).await;
    let time = "mutation($t: ID!, $m: Int!, $d: String!, $b: Boolean!) { recordTime(input: { ticketId: $t, time: { minutes: $m, workedOn: $d, billable: $b } }) { timeEntry { id } } }";
    for (ticket, minutes, day, billable) in [
        (&a, 90, "2026-11-03", true),  // 90 min x 60.00 = 90.00
        (&a, 30, "2026-11-04", false), // 30 min x 60.00 = 30.00, not billable
        (&a, 60, "2026-10-31", true),  // October: not this month
        (&b, 60, "2026-11-10", true),  // 60 min x 80.00 = 80.00
        (&b, 45, "2026-11-20", true),  // 45 min x 90.00 (from the 15th) = 67.50
    ] {
        server
            .must(
                manager,
                time,
                json!({ "t": ticket, "m": minutes, "d": day, "b": billable }),
            )
            .await;
    }

    // Requesters and agents see no costs.
    let report_query = "{ costReport(from: \"2026-11-01\", to: \"2026-12-01\") { services { serviceId serviceName labourCents configurationItemCents fixedCents totalCents }
        tickets { ticketId minutes billableMinutes cents } charges { organizationId serviceId method billableMinutes cents } } }";
    assert_eq!(
        server
            .gql(Some(&desk.agents[0].token), report_query, Value::Null)
            .await
            .error_code(),
        "FORBIDDEN"
    );
    let report = server.must(manager, report_query, Value::Null).await["costReport"].clone();
    let service_line = |service: &Value| {
        report["services"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["serviceId"] == *service)
            .unwrap_or_else(|| panic!("no line for {service} in {report}"))
            .clone()
    };
    let email_line = service_line(&email);
    // Labour 90.00 + 30.00 + 80.00 + 67.50; mail-1's 300.00 shared by Email and Calendar,
    // email-app's one-off 120.00; Email's own 500.00.
    assert_eq!(email_line["labourCents"], 26_750, "{report}");
    assert_eq!(email_line["configurationItemCents"], 15_000 + 12_000);
    assert_eq!(email_line["fixedCents"], 50_000);
    assert_eq!(email_line["totalCents"], 103_750);
    let calendar_line = service_line(&calendar);
    assert_eq!(calendar_line["totalCents"], 15_000);
    assert_eq!(calendar_line["labourCents"], 0);
    let ticket_line = |ticket: &Value| {
        report["tickets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["ticketId"] == *ticket)
            .unwrap()
            .clone()
    };
    assert_eq!(ticket_line(&a)["cents"], 12_000);
    assert_eq!(ticket_line(&a)["minutes"], 120);
    assert_eq!(ticket_line(&b)["cents"], 14_750);
    // Per hour at 120.00: Acme's 90 billable minutes, Globex's 105.
    let charge = |org: &Value| {
        report["charges"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["organizationId"] == *org)
            .unwrap_or_else(|| panic!("no charge for {org}: {report}"))
            .clone()
    };
    assert_eq!(charge(&acme)["cents"], 18_000);
    assert_eq!(charge(&acme)["method"], "PER_HOUR");
    assert_eq!(charge(&globex)["cents"], 21_000);
    assert_eq!(charge(&globex)["billableMinutes"], 105);

    // A budget's actuals are computed from the records when read: October's hour counts
    // in the year, and the variance follows.
    server.must(admin, "mutation($s: ID!) { setBudget(serviceId: $s, year: 2026, amountCents: 2000000, alertPercent: 90) }", json!({ "s": email })).await;
    let budget = server
        .must(
            manager,
            "{ budgets(year: 2026) { serviceId budgetCents actualCents varianceCents } }",
            Value::Null,
        )
        .await["budgets"][0]
        .clone();
    let actual = budget["actualCents"].as_i64().unwrap();
    assert!(
        actual >= 103_750 + 6_000,
        "the year holds November and October's hour: {budget}"
    );
    assert_eq!(
        budget["varianceCents"].as_i64().unwrap(),
        2_000_000 - actual
    );

    // This year's budget of one euro is spent: the desk says so, once.
    let receiver = Receiver::start().await;
    server
        .must(admin, "mutation($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) { secret } }",
            json!({ "i": { "url": receiver.url, "description": "Finance", "topics": ["budget.threshold_passed"] } }))
        .await;
    server
        .must(admin, "mutation($s: ID!, $y: Int!) { setBudget(serviceId: $s, year: $y, amountCents: 100, alertPercent: 80) }",
            json!({ "s": email, "y": Utc::now().year() }))
        .await;
    let passed = receiver.wait_for(1).await.remove(0).json();
    assert_eq!(passed["type"], "budget.threshold_passed", "{passed}");
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert_eq!(receiver.received().len(), 1, "announced once");
}
