//! The monthly service report as a service owner sends it: a month with tickets met and
//! missed against an SLA and an OLA, a fixed cost and a continuity plan, read through
//! GraphQL, as CSV by its signed link (parsed with a CSV reader, every figure equal to
//! GraphQL's), as its page in Chromium with the attainment chart drawn, and mailed to
//! the owner group's manager when the month ends.

use std::time::Duration as StdDuration;

use chrono::{Datelike, Duration, NaiveDate, Utc};
use serde_json::{Value, json};
use switchboard_tests::{
    Backend, TestServer,
    browser::Browser,
    desk::{COMMENT, CREATE, TRANSITION},
    on_both_backends,
    server::sign_hs256,
    services::Smtp,
};

on_both_backends!(
    a_month_reported_three_ways,
    the_report_is_mailed_to_the_owner_each_month
);

const SERVICE: &str = "mutation($n: String!, $g: ID) { saveService(input: { name: $n, lifecycle: LIVE, ownerGroupId: $g }) { service { id } } }";
const POLICY: &str =
    "mutation($input: SaveSlaPolicyInput!) { saveSlaPolicy(input: $input) { slaPolicy { id } } }";
const REPORT: &str = "query($s: ID, $o: ID, $m: String!) { serviceReport(serviceId: $s, organizationId: $o, month: $m) {
    month name services { name }
    attainment { agreement policyName metric priority measured met attainment }
    times { metric measured medianSeconds p90Seconds }
    availability { service { name } }
    satisfaction { offered answered averageRating }
    volume { kind category tickets }
    recurringProblems { number incidents }
    changes { closed successful failed backedOut incidentsCaused successRate }
    continuity { plan { name } overdue dueAt lastOutcome lastExercisedAt }
    costs { serviceName labourCents configurationItemCents fixedCents totalCents }
    charges { cents } costCents chargeCents csvUrl pageUrl } }";

/// The month the server is in now, `YYYY-MM`.
fn this_month() -> String {
    Utc::now().format("%Y-%m").to_string()
}

/// A row of the report's CSV, by its section, name, metric, priority and measure.
fn cell<'a>(
    rows: &'a [csv::StringRecord],
    section: &str,
    name: &str,
    metric: &str,
    priority: &str,
    measure: &str,
) -> &'a str {
    rows.iter()
        .find(|r| {
            &r[0] == section
                && &r[2] == name
                && &r[3] == metric
                && &r[4] == priority
                && &r[5] == measure
        })
        .map(|r| r.get(6).unwrap())
        .unwrap_or_else(|| {
            panic!("no CSV row {section}/{name}/{metric}/{priority}/{measure} in {rows:?}")
        })
}

/// A CSV figure read as the GraphQL response's numbers are: by serde_json, whose float
/// parser may differ from `str::parse` in the last place, so that the same number
/// written the same way compares equal.
fn real(text: &str) -> f64 {
    serde_json::from_str(text).unwrap_or_else(|_| panic!("{text} is not a number"))
}

fn number(value: &Value, key: &str) -> f64 {
    assert!(value.get(key).is_some(), "{key} is missing from {value}");
    value[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} is not a number in {value}"))
}

async fn a_month_reported_three_ways(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let (admin, manager, ada) = (&desk.admin, &desk.manager.token, &desk.agents[0].token);
    let email = server
        .must(
            admin,
            SERVICE,
            json!({ "n": "Email", "g": desk.network_group_id }),
        )
        .await["saveService"]["service"]["id"]
        .clone();
    server
        .must(
            admin,
            POLICY,
            json!({ "input": { "name": "Email SLA", "position": 1, "serviceId": email,
        "responseMinutes": 30, "resolutionMinutes": 480 } }),
        )
        .await;
    server
        .must(
            admin,
            POLICY,
            json!({ "input": { "name": "Desk OLA", "position": 2, "agreement": "OLA",
        "groupId": desk.network_group_id, "resolutionMinutes": 60 } }),
        )
        .await;
    server.must(admin, "mutation($s: ID!) { addCost(input: { serviceId: $s, kind: MONTHLY, amountCents: 31000, startsOn: \"2026-01-01\", description: \"support contract\" }) }",
        json!({ "s": email })).await;
    let plan_id = server.must(admin, "mutation($i: SaveContinuityPlanInput!) { saveContinuityPlan(input: $i) { id } }",
        json!({ "i": { "serviceId": email, "name": "Mail failover", "rtoMinutes": 240, "rpoMinutes": 60, "strategy": "warm standby",
            "exerciseIntervalMonths": 12 } })).await["saveContinuityPlan"]["id"].clone();
    // Exercised last week with a partial recovery: the plan stands as it did before it
    // was written, due (and so overdue) from the day it was written until a success.
    let exercised = chrono::Utc::now() - Duration::days(7);
    server.must(manager, "mutation($i: RecordContinuityExerciseInput!) { recordContinuityExercise(input: $i) { id } }",
        json!({ "i": { "planId": plan_id, "exercisedAt": exercised, "scope": "fail over the mailbox store",
            "outcome": "PARTIAL", "recoveryMinutes": 300 } })).await;

    // Two of Rita's incidents: the first answered and resolved at once, the second
    // answered after 45 minutes, past its 30-minute response target.
    let open = |title: &str| {
        json!({ "input": { "kind": "INCIDENT", "title": title, "impact": "MEDIUM", "urgency": "MEDIUM",
            "serviceId": email, "groupId": desk.network_group_id, "requesterId": desk.requester.id } })
    };
    let first =
        server.must(ada, CREATE, open("Mail bounces")).await["createTicket"]["ticket"].clone();
    let second =
        server.must(ada, CREATE, open("Mailbox full")).await["createTicket"]["ticket"].clone();
    let priority = first["priority"].as_str().unwrap().to_string();
    let answered = server
        .must(
            ada,
            COMMENT,
            json!({ "input": { "ticketId": first["id"], "body": "Looking now." } }),
        )
        .await;
    server.must(ada, TRANSITION, json!({ "input": { "id": first["id"], "version": answered["addComment"]["ticket"]["version"],
        "status": "RESOLVED", "resolutionCode": "FIXED" } })).await;
    server.advance(Duration::minutes(45));
    server
        .must(
            ada,
            COMMENT,
            json!({ "input": { "ticketId": second["id"], "body": "Sorry for the wait." } }),
        )
        .await;

    // Who may read it, and what it refuses.
    let month = this_month();
    let vars = json!({ "s": email, "m": month });
    assert_eq!(
        server
            .gql(Some(ada), REPORT, vars.clone())
            .await
            .error_code(),
        "FORBIDDEN"
    );
    let both = json!({ "s": email, "o": desk.organization_id, "m": month });
    assert_eq!(
        server.gql(Some(manager), REPORT, both).await.error_code(),
        "BAD_USER_INPUT"
    );
    let bad_month = json!({ "s": email, "m": "2026-13" });
    assert_eq!(
        server
            .gql(Some(manager), REPORT, bad_month)
            .await
            .error_code(),
        "BAD_USER_INPUT"
    );

    // The SLA engine records the late answer's breach, and the answer stops its clock,
    // as each catches up with the clock.
    let deadline = std::time::Instant::now() + StdDuration::from_secs(20);
    let report = loop {
        let report = server.must(manager, REPORT, vars.clone()).await["serviceReport"].clone();
        let decided: i64 = report["attainment"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["agreement"] == "SLA" && r["metric"] == "RESPONSE")
            .map(|r| r["measured"].as_i64().unwrap())
            .sum();
        let stopped = report["times"][0]["measured"].as_i64();
        if (decided == 2 && stopped == Some(2)) || std::time::Instant::now() > deadline {
            break report;
        }
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    };
    assert_eq!(report["name"], "Email");
    assert_eq!(report["month"], month.as_str());
    let attainment = report["attainment"].as_array().unwrap();
    let row = |agreement: &str, metric: &str| {
        attainment
            .iter()
            .find(|r| r["agreement"] == agreement && r["metric"] == metric)
            .unwrap_or_else(|| panic!("no {agreement} {metric} row in {attainment:?}"))
    };
    let response = row("SLA", "RESPONSE");
    assert_eq!(response["priority"], priority);
    assert_eq!(
        (response["measured"].as_i64(), response["met"].as_i64()),
        (Some(2), Some(1))
    );
    assert_eq!(number(response, "attainment"), 0.5);
    let resolution = row("SLA", "RESOLUTION");
    assert_eq!(
        (resolution["measured"].as_i64(), resolution["met"].as_i64()),
        (Some(1), Some(1))
    );
    let ola = row("OLA", "RESOLUTION");
    assert_eq!(ola["policyName"], "Desk OLA");
    assert_eq!(
        (ola["measured"].as_i64(), ola["met"].as_i64()),
        (Some(1), Some(1))
    );
    // The customer waited about no time and 45 minutes: the median is between.
    let times = &report["times"][0];
    assert_eq!(times["metric"], "RESPONSE");
    assert_eq!(times["measured"], 2);
    let median = number(times, "medianSeconds");
    assert!((1340.0..1400.0).contains(&median), "median {median}");
    let p90 = number(times, "p90Seconds");
    assert!((2700.0..2760.0).contains(&p90), "p90 {p90}");
    assert_eq!(
        report["volume"],
        json!([{ "kind": "INCIDENT", "category": null, "tickets": 2 }])
    );
    let plan = &report["continuity"][0];
    assert_eq!(plan["plan"]["name"], "Mail failover");
    assert_eq!(plan["lastOutcome"], "PARTIAL", "{plan}");
    assert!(
        plan.get("lastExercisedAt").is_some_and(Value::is_string),
        "{plan}"
    );
    assert_eq!(
        plan["overdue"], false,
        "written today, due in a year: {plan}"
    );
    // A whole month of a monthly cost is the cost; no time was recorded.
    let cost = &report["costs"][0];
    assert_eq!(
        (cost["fixedCents"].as_i64(), cost["labourCents"].as_i64()),
        (Some(31000), Some(0))
    );
    assert_eq!(report["costCents"], 31000);
    assert!(
        report
            .get("changes")
            .is_some_and(|c| c["closed"] == 0 && c["successRate"].is_null())
    );

    // The CSV, by its signed link: every figure is GraphQL's.
    let csv_url = report["csvUrl"].as_str().unwrap();
    let answer = server.http().get(server.url(csv_url)).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    assert!(
        answer.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let body = answer.bytes().await.unwrap();
    let mut reader = csv::Reader::from_reader(body.as_ref());
    assert_eq!(
        reader.headers().unwrap(),
        vec![
            "section",
            "agreement",
            "name",
            "metric",
            "priority",
            "measure",
            "value"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    for r in attainment {
        let (name, metric, p) = (
            r["policyName"].as_str().unwrap(),
            r["metric"].as_str().unwrap(),
            r["priority"]
                .as_str()
                .unwrap()
                .trim_start_matches('P')
                .to_string(),
        );
        let found = rows
            .iter()
            .find(|row| {
                &row[0] == "attainment"
                    && &row[1] == r["agreement"].as_str().unwrap()
                    && &row[2] == name
                    && &row[3] == metric
                    && &row[4] == p.as_str()
                    && &row[5] == "attainment"
            })
            .unwrap_or_else(|| panic!("no CSV row for {r}"));
        assert_eq!(real(&found[6]), number(r, "attainment"));
        assert_eq!(
            cell(&rows, "attainment", name, metric, &p, "measured"),
            r["measured"].to_string()
        );
        assert_eq!(
            cell(&rows, "attainment", name, metric, &p, "met"),
            r["met"].to_string()
        );
    }
    assert_eq!(
        real(cell(&rows, "times", "", "RESPONSE", "", "median_seconds")),
        median
    );
    assert_eq!(
        real(cell(&rows, "times", "", "RESPONSE", "", "p90_seconds")),
        p90
    );
    assert_eq!(cell(&rows, "volume", "INCIDENT", "", "", "tickets"), "2");
    assert_eq!(
        cell(&rows, "cost", "Email", "", "", "total_cents"),
        cost["totalCents"].to_string()
    );
    assert_eq!(
        cell(&rows, "cost", "", "", "", "charge_cents"),
        report["chargeCents"].to_string()
    );
    assert_eq!(
        cell(&rows, "satisfaction", "", "", "", "offered"),
        report["satisfaction"]["offered"].to_string()
    );
    assert_eq!(
        cell(&rows, "continuity", "Mail failover", "", "", "overdue"),
        "false"
    );
    assert_eq!(
        cell(&rows, "continuity", "Mail failover", "", "", "last_outcome"),
        "PARTIAL"
    );

    // A link with another signature opens nothing; a manager's token opens it without
    // one, an agent's does not.
    let forged = csv_url.replace("signature=", "signature=00");
    let refused = server.http().get(server.url(&forged)).send().await.unwrap();
    assert_eq!(refused.status(), 403);
    let refused: Value = refused.json().await.unwrap();
    assert_eq!(refused["errors"][0]["extensions"]["code"], "FORBIDDEN");
    let path = csv_url.split('?').next().unwrap();
    let by_token = server
        .http()
        .get(server.url(path))
        .bearer_auth(manager)
        .send()
        .await
        .unwrap();
    assert_eq!(by_token.status(), 200);
    let by_agent = server
        .http()
        .get(server.url(path))
        .bearer_auth(ada)
        .send()
        .await
        .unwrap();
    assert_eq!(by_agent.status(), 403);

    // The page, in a real browser: the attainment chart is drawn, a bar per row.
    if backend == Backend::Sqlite {
        let browser = Browser::start().await;
        browser
            .goto(&server.url(report["pageUrl"].as_str().unwrap()))
            .await;
        let bars = browser
            .wait_until(
                "the attainment chart",
                StdDuration::from_secs(20),
                "document.querySelectorAll('#attainment-chart svg rect').length",
            )
            .await;
        assert!(
            bars.as_u64().unwrap() > attainment.len() as u64,
            "a background and a bar per row: {bars}"
        );
        let chart_text = browser
            .eval("document.querySelector('#attainment-chart svg').textContent")
            .await;
        assert!(
            chart_text.as_str().unwrap().contains("Email SLA"),
            "{chart_text}"
        );
        let height = browser
            .eval("document.querySelector('#attainment-chart svg').getBoundingClientRect().height")
            .await;
        assert!(
            height.as_f64().unwrap() > 100.0,
            "the chart is shown: {height}"
        );
        let heading = browser
            .eval("document.querySelector('header').innerText")
            .await;
        assert!(heading.as_str().unwrap().contains(&month), "{heading}");
        // `SWITCHBOARD_SCREENSHOTS=docs` refreshes the README's picture.
        if let Ok(dir) = std::env::var("SWITCHBOARD_SCREENSHOTS") {
            let png = browser.screenshot().await;
            std::fs::write(format!("{dir}/service-report.png"), png).unwrap();
        }
    }
}

async fn the_report_is_mailed_to_the_owner_each_month(backend: Backend) {
    let smtp = Smtp::start();
    let server = TestServer::start_with(backend, |s| {
        s.smtp_url = Some(smtp.url());
        s.mail_from = Some("Acme Service Desk <desk@acme.test>".into());
        s.job_interval_seconds = Some("1".into());
    })
    .await;
    let desk = server.desk().await;
    let (admin, manager, ada) = (&desk.admin, &desk.manager.token, &desk.agents[0].token);
    // Mona manages the network group, which owns the service; with an address she can
    // be told.
    let now = Utc::now().timestamp();
    let mona = sign_hs256(
        &json!({ "sub": "mona", "name": "mona", "email": "mona@acme.test",
        "roles": ["manager"], "exp": now + 3600, "nbf": now - 10 }),
    );
    server
        .must(&mona, "{ viewer { nodeId } }", Value::Null)
        .await;
    let email = server
        .must(
            admin,
            SERVICE,
            json!({ "n": "Email", "g": desk.network_group_id }),
        )
        .await["saveService"]["service"]["id"]
        .clone();
    let set =
        "mutation($s: ID!, $on: Boolean!) { setServiceReportMailing(serviceId: $s, monthly: $on) }";
    let reply = server
        .gql(Some(ada), set, json!({ "s": email, "on": true }))
        .await;
    assert_eq!(reply.error_code(), "FORBIDDEN");
    assert_eq!(
        server
            .must(manager, set, json!({ "s": email, "on": true }))
            .await["setServiceReportMailing"],
        true
    );
    let asked = server
        .must(
            manager,
            "query($s: ID!) { serviceReportMailing(serviceId: $s) }",
            json!({ "s": email }),
        )
        .await;
    assert_eq!(asked["serviceReportMailing"], true);
    server
        .must(
            ada,
            CREATE,
            json!({ "input": { "kind": "INCIDENT", "title": "Mail bounces", "serviceId": email } }),
        )
        .await;

    // Nothing goes out during the month; when it ends, its report goes to Mona once.
    let month = this_month();
    tokio::time::sleep(StdDuration::from_secs(2)).await;
    assert!(
        !smtp.messages().iter().any(|m| m.contains("Service report")),
        "no report before the month ends"
    );
    let today = Utc::now().date_naive();
    let next = NaiveDate::from_ymd_opt(
        today.year() + i32::from(today.month() == 12),
        today.month() % 12 + 1,
        1,
    )
    .unwrap();
    server.advance(Duration::days((next - today).num_days()) + Duration::hours(1));
    let mail = smtp.wait_for(
        "mona@acme.test",
        &format!("Service report: Email, {month}"),
        StdDuration::from_secs(30),
    );
    assert!(mail.contains("Tickets raised: 1"), "{mail}");
    assert!(
        mail.contains("text/html"),
        "the page goes as the HTML part: {mail}"
    );
    tokio::time::sleep(StdDuration::from_secs(3)).await;
    let sent = smtp
        .messages()
        .iter()
        .filter(|m| m.contains("Service report: Email"))
        .count();
    assert_eq!(sent, 1, "one report a month, however often the jobs look");
}
