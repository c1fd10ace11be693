//! Change management: the lifecycle through the CAB, quorum and rejection, freezes and
//! change windows, conflicts in the change calendar, and the change report.

use serde_json::{Value, json};
use switchboard_tests::{Backend, TestServer, desk::Desk, on_both_backends};

const CREATE: &str = "mutation($input: CreateChangeInput!) { createChange(input: $input) { change { id number status version } } }";
const UPDATE: &str = "mutation($input: UpdateChangeInput!) { updateChange(input: $input) { change { id status version } } }";
const TRANSITION: &str = "mutation($input: TransitionChangeInput!) { transitionChange(input: $input) { change { id status version outcome review freezeOverride } } }";
const ASSESS: &str = "mutation($input: AssessChangeInput!) { assessChange(input: $input) { change { status version risk riskReasons approvers { quorum group { name } role } servicesAtRisk { name } } } }";
const VOTE: &str = "mutation($input: VoteOnChangeInput!) { voteOnChange(input: $input) { change { status version votes { approve comment voter { name } } } } }";
const CI: &str = "mutation($input: CreateConfigurationItemInput!) { createConfigurationItem(input: $input) { configurationItem { id } } }";

struct Flow<'a> {
    server: &'a TestServer,
    token: &'a str,
}

impl Flow<'_> {
    async fn create(&self, input: Value) -> (Value, i64) {
        let change = self
            .server
            .must(self.token, CREATE, json!({ "input": input }))
            .await["createChange"]["change"]
            .clone();
        let version = change["version"].as_i64().unwrap();
        (change["id"].clone(), version)
    }

    async fn to(&self, id: &Value, version: i64, status: &str, extra: Value) -> Value {
        let mut input = json!({ "id": id, "version": version, "to": status });
        input
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().cloned().unwrap_or_default());
        self.server
            .gql(Some(self.token), TRANSITION, json!({ "input": input }))
            .await
            .body
    }

    async fn must_to(&self, id: &Value, version: i64, status: &str, extra: Value) -> i64 {
        let body = self.to(id, version, status, extra).await;
        assert!(body["errors"].is_null(), "{status}: {body}");
        let change = &body["data"]["transitionChange"]["change"];
        assert_eq!(change["status"], status);
        change["version"].as_i64().unwrap()
    }

    async fn assess(&self, id: &Value, version: i64, grades: [&str; 3]) -> Value {
        self.server
            .must(
                self.token,
                ASSESS,
                json!({ "input": { "id": id, "version": version,
                "impact": grades[0], "complexity": grades[1], "rollbackDifficulty": grades[2] } }),
            )
            .await["assessChange"]["change"]
            .clone()
    }
}

fn plans() -> Value {
    json!({ "reason": "Security fix", "implementationPlan": "Patch and restart", "rollbackPlan": "Reinstall the previous package", "testPlan": "Log in through the VPN" })
}

fn with(mut base: Value, extra: Value) -> Value {
    base.as_object_mut()
        .unwrap()
        .extend(extra.as_object().cloned().unwrap());
    base
}

async fn item(
    server: &TestServer,
    desk: &Desk,
    name: &str,
    class: &str,
    service: Option<&Value>,
) -> Value {
    let classes = server
        .must(&desk.admin, "{ ciClasses { id name } }", Value::Null)
        .await;
    let class_id = classes["ciClasses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == class)
        .unwrap()["id"]
        .clone();
    server
        .must(
            &desk.admin,
            CI,
            json!({ "input": { "classId": class_id, "name": name, "serviceId": service } }),
        )
        .await["createConfigurationItem"]["configurationItem"]["id"]
        .clone()
}

fn error_code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("")
}

async fn a_normal_change_goes_through_the_cab_to_closed(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let tess = Flow {
        server: &server,
        token: &desk.tier2_agent.token,
    };
    server
        .must(&desk.admin, "mutation($g: ID!) { saveChangeApprovalPolicy(input: { changeType: NORMAL, approverGroupId: $g, quorum: 2 }) { quorum } }", json!({ "g": desk.network_group_id }))
        .await;
    let banking = server
        .must(&desk.admin, "mutation { saveService(input: { name: \"Online banking\", lifecycle: LIVE, criticality: CRITICAL }) { service { id } } }", Value::Null)
        .await["saveService"]["service"]["id"]
        .clone();
    let gateway = item(
        &server,
        &desk,
        "VPN gateway",
        "Network device",
        Some(&banking),
    )
    .await;

    let (id, v) = tess.create(json!({ "type": "NORMAL", "title": "Patch the VPN gateway", "configurationItemIds": [gateway],
        "plannedStart": "2027-03-02T10:00:00Z", "plannedEnd": "2027-03-02T11:00:00Z" })).await;
    // Plans first: submitting without them names the missing one.
    let refused = tess.to(&id, v, "SUBMITTED", json!({})).await;
    assert_eq!(
        refused["errors"][0]["extensions"]["field"], "reason",
        "{refused}"
    );
    let v = server
        .must(
            &desk.tier2_agent.token,
            UPDATE,
            json!({ "input": with(json!({ "id": id, "version": v }), plans()) }),
        )
        .await["updateChange"]["change"]["version"]
        .as_i64()
        .unwrap();
    // Off the table: DRAFT cannot jump to SCHEDULED, and the error lists the way on.
    let skipped = tess.to(&id, v, "SCHEDULED", json!({})).await;
    assert_eq!(error_code(&skipped), "INVALID_TRANSITION");
    assert_eq!(
        skipped["errors"][0]["extensions"]["allowed"],
        json!(["SUBMITTED", "CANCELLED"])
    );
    let v = tess.must_to(&id, v, "SUBMITTED", json!({})).await;
    let not_by_hand = tess.to(&id, v, "ASSESSED", json!({})).await;
    assert_eq!(not_by_hand["errors"][0]["extensions"]["field"], "to");

    let assessed = tess.assess(&id, v, ["HIGH", "MEDIUM", "LOW"]).await;
    assert_eq!(assessed["status"], "ASSESSED");
    assert_eq!(assessed["risk"], "HIGH", "{assessed}");
    assert_eq!(
        assessed["servicesAtRisk"],
        json!([{ "name": "Online banking" }])
    );
    assert!(
        assessed["riskReasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r.as_str().unwrap().contains("Online banking (CRITICAL)"))
    );
    assert_eq!(
        assessed["approvers"],
        json!({ "quorum": 2, "group": { "name": "Network" }, "role": null })
    );

    // The requester and outsiders cannot vote; a member's approval alone is not enough.
    let vote = |token: &str, approve: bool| {
        let token = token.to_string();
        let id = id.clone();
        let server = &server;
        async move {
            server
                .gql(
                    Some(&token),
                    VOTE,
                    json!({ "input": { "id": id, "approve": approve, "comment": "ok" } }),
                )
                .await
                .body
        }
    };
    assert_eq!(
        error_code(&vote(&desk.tier2_agent.token, true).await),
        "FORBIDDEN"
    );
    assert_eq!(
        error_code(&vote(&desk.requester.token, true).await),
        "FORBIDDEN"
    );
    let first = vote(&desk.agents[0].token, true).await;
    assert_eq!(
        first["data"]["voteOnChange"]["change"]["status"],
        "ASSESSED"
    );
    assert_eq!(
        error_code(&vote(&desk.agents[0].token, true).await),
        "CONFLICT",
        "one vote each"
    );
    let second = vote(&desk.agents[1].token, true).await;
    let authorized = &second["data"]["voteOnChange"]["change"];
    assert_eq!(
        authorized["status"], "AUTHORIZED",
        "the quorum of two authorizes: {second}"
    );
    assert_eq!(authorized["votes"].as_array().unwrap().len(), 2);
    let v = authorized["version"].as_i64().unwrap();

    let v = tess.must_to(&id, v, "SCHEDULED", json!({})).await;
    let v = tess.must_to(&id, v, "IMPLEMENTING", json!({})).await;
    let no_outcome = tess.to(&id, v, "REVIEW", json!({})).await;
    assert_eq!(no_outcome["errors"][0]["extensions"]["field"], "outcome");
    let v = tess
        .must_to(&id, v, "REVIEW", json!({ "outcome": "SUCCESSFUL" }))
        .await;
    let no_review = tess.to(&id, v, "CLOSED", json!({})).await;
    assert_eq!(no_review["errors"][0]["extensions"]["field"], "review");
    let v = tess
        .must_to(
            &id,
            v,
            "CLOSED",
            json!({ "review": "Went to plan; no incidents." }),
        )
        .await;
    let reopened = tess.to(&id, v, "IMPLEMENTING", json!({})).await;
    assert_eq!(error_code(&reopened), "INVALID_TRANSITION");
    assert_eq!(reopened["errors"][0]["extensions"]["allowed"], json!([]));

    // An incident caused by it shows in the report.
    let incident = server
        .must(&desk.agents[0].token, "mutation { createTicket(input: { kind: INCIDENT, title: \"VPN down after patch\" }) { ticket { id } } }", Value::Null)
        .await["createTicket"]["ticket"]["id"]
        .clone();
    let linked = server
        .must(&desk.agents[0].token, "mutation($t: ID!, $c: ID) { setIncidentCause(input: { ticketId: $t, changeId: $c }) { ticket { causedByChange { title } } } }", json!({ "t": incident, "c": id }))
        .await;
    assert_eq!(
        linked["setIncidentCause"]["ticket"]["causedByChange"]["title"],
        "Patch the VPN gateway"
    );
    let report = server
        .must(&desk.manager.token, "query($from: DateTime!, $to: DateTime!) { changeReport(from: $from, to: $to) { closed successful successRate changesCausingIncidents incidentsCaused } }",
            json!({ "from": "2020-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z" }))
        .await;
    assert_eq!(
        report["changeReport"],
        json!({ "closed": 1, "successful": 1, "successRate": 1.0, "changesCausingIncidents": 1, "incidentsCaused": 1 })
    );
    let history = server
        .must(&desk.admin, "query($id: ID!) { node(id: $id) { ... on Change { history { edges { node { action } } } } } }", json!({ "id": id }))
        .await;
    let actions: Vec<&str> = history["node"]["history"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions.iter().filter(|a| **a == "change.voted").count(),
        2,
        "{actions:?}"
    );
    assert!(actions.contains(&"change.assessed"));
}

async fn the_first_rejection_stops_a_change(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let tess = Flow {
        server: &server,
        token: &desk.tier2_agent.token,
    };
    server
        .must(&desk.admin, "mutation($g: ID!) { saveChangeApprovalPolicy(input: { changeType: NORMAL, approverGroupId: $g, quorum: 2 }) { quorum } }", json!({ "g": desk.network_group_id }))
        .await;
    let (id, v) = tess
        .create(with(
            json!({ "type": "NORMAL", "title": "Replace the core switch" }),
            plans(),
        ))
        .await;
    let v = tess.must_to(&id, v, "SUBMITTED", json!({})).await;
    let assessed = tess.assess(&id, v, ["LOW", "LOW", "LOW"]).await;
    assert_eq!(assessed["risk"], "LOW");
    let vote = "mutation($input: VoteOnChangeInput!) { voteOnChange(input: $input) { change { status votes { approve comment } } } }";
    let silent = server
        .gql(
            Some(&desk.agents[0].token),
            vote,
            json!({ "input": { "id": id, "approve": false } }),
        )
        .await;
    assert_eq!(
        silent.body["errors"][0]["extensions"]["field"], "comment",
        "a rejection says why"
    );
    let rejected = server
        .must(
            &desk.agents[0].token,
            vote,
            json!({ "input": { "id": id, "approve": false, "comment": "No rollback tested" } }),
        )
        .await["voteOnChange"]["change"]
        .clone();
    assert_eq!(rejected["status"], "REJECTED");
    assert_eq!(
        rejected["votes"],
        json!([{ "approve": false, "comment": "No rollback tested" }])
    );
    let late = server
        .gql(
            Some(&desk.agents[1].token),
            vote,
            json!({ "input": { "id": id, "approve": true } }),
        )
        .await;
    assert_eq!(
        late.error_code(),
        "INVALID_TRANSITION",
        "no votes after the decision"
    );
}

async fn freezes_and_windows_hold_back_normal_changes_but_not_emergencies(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let tess = Flow {
        server: &server,
        token: &desk.tier2_agent.token,
    };
    let saturdays = server
        .must(&desk.admin, "mutation { saveCalendar(input: { name: \"Saturday window\", timeZone: \"UTC\", week: [[], [], [], [], [], [\"00:00-24:00\"], []] }) { calendar { id } } }", Value::Null)
        .await["saveCalendar"]["calendar"]["id"]
        .clone();
    let payroll = server
        .must(&desk.admin, "mutation($c: ID) { saveService(input: { name: \"Payroll\", lifecycle: LIVE, changeCalendarId: $c }) { service { id } } }", json!({ "c": saturdays }))
        .await["saveService"]["service"]["id"]
        .clone();
    let db = item(&server, &desk, "Payroll DB", "Database", Some(&payroll)).await;
    server
        .must(&desk.admin, "mutation { saveChangeFreeze(input: { name: \"Year end\", startsAt: \"2027-12-20T00:00:00Z\", endsAt: \"2028-01-03T00:00:00Z\" }) { name } }", Value::Null)
        .await;

    // An authorized NORMAL change: one manager approves when no policy says otherwise.
    let authorized = |kind: &'static str, start: &'static str, end: &'static str| {
        let tess = &tess;
        let server = &server;
        let desk = &desk;
        let db = db.clone();
        async move {
            let (id, v) = tess.create(with(json!({ "type": kind, "title": format!("{kind} index rebuild"), "configurationItemIds": [db], "plannedStart": start, "plannedEnd": end }), plans())).await;
            let v = tess.must_to(&id, v, "SUBMITTED", json!({})).await;
            let assessed = tess.assess(&id, v, ["LOW", "LOW", "LOW"]).await;
            assert_eq!(assessed["approvers"]["role"], "MANAGER");
            let voted = server
                .must(
                    &desk.manager.token,
                    VOTE,
                    json!({ "input": { "id": id, "approve": true } }),
                )
                .await["voteOnChange"]["change"]
                .clone();
            assert_eq!(voted["status"], "AUTHORIZED");
            (id, voted["version"].as_i64().unwrap())
        }
    };
    // Inside the freeze (a Saturday, inside the window too): refused for NORMAL…
    let (normal, v) = authorized("NORMAL", "2027-12-25T10:00:00Z", "2027-12-25T12:00:00Z").await;
    let frozen = tess.to(&normal, v, "SCHEDULED", json!({})).await;
    assert_eq!(
        frozen["errors"][0]["extensions"]["field"], "plannedStart",
        "{frozen}"
    );
    let message = frozen["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("Year end"), "{message}");
    // …accepted for an EMERGENCY, which says it overrode the freeze.
    let (emergency, v) =
        authorized("EMERGENCY", "2027-12-25T10:00:00Z", "2027-12-25T12:00:00Z").await;
    let scheduled = tess.to(&emergency, v, "SCHEDULED", json!({})).await;
    assert_eq!(
        scheduled["data"]["transitionChange"]["change"]["status"], "SCHEDULED",
        "{scheduled}"
    );
    assert_eq!(
        scheduled["data"]["transitionChange"]["change"]["freezeOverride"],
        true
    );

    // Outside Payroll's change window (a Tuesday): refused, naming the service.
    let (weekday, v) = authorized("NORMAL", "2027-03-02T10:00:00Z", "2027-03-02T11:00:00Z").await;
    let outside = tess.to(&weekday, v, "SCHEDULED", json!({})).await;
    let message = outside["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("change window of 'Payroll'"), "{outside}");
    // Moved to the Saturday, it is scheduled.
    let moved = server
        .must(&desk.tier2_agent.token, UPDATE, json!({ "input": { "id": weekday, "version": v, "plannedStart": "2027-03-06T10:00:00Z", "plannedEnd": "2027-03-06T11:00:00Z" } }))
        .await["updateChange"]["change"]["version"]
        .as_i64()
        .unwrap();
    tess.must_to(&weekday, moved, "SCHEDULED", json!({})).await;

    // A standard change from its template is authorized as soon as it is submitted.
    let template = server
        .must(&desk.admin, "mutation { saveChangeTemplate(input: { name: \"Rotate TLS certificate\", implementationPlan: \"Install the new certificate\", rollbackPlan: \"Reinstall the old one\", testPlan: \"Open the site\" }) { id } }", Value::Null)
        .await["saveChangeTemplate"]["id"]
        .clone();
    let (standard, v) = tess
        .create(json!({ "type": "STANDARD", "templateId": template }))
        .await;
    let submitted = tess.to(&standard, v, "SUBMITTED", json!({})).await;
    assert_eq!(
        submitted["data"]["transitionChange"]["change"]["status"], "AUTHORIZED",
        "pre-approved: no CAB: {submitted}"
    );
}

async fn changes_on_one_item_in_one_hour_conflict(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let tess = Flow {
        server: &server,
        token: &desk.tier2_agent.token,
    };
    let db = item(&server, &desk, "Orders DB", "Database", None).await;
    let app = item(&server, &desk, "Orders app", "Application", None).await;
    server
        .must(&desk.admin, "mutation($s: ID!, $t: ID!) { relateConfigurationItems(input: { sourceId: $s, targetId: $t, type: \"DEPENDS_ON\" }) { relationship { id } } }", json!({ "s": app, "t": db }))
        .await;
    let submit = |title: &'static str, items: Value, start: &'static str, end: &'static str| {
        let tess = &tess;
        async move {
            let (id, v) = tess.create(with(json!({ "type": "NORMAL", "title": title, "configurationItemIds": items, "plannedStart": start, "plannedEnd": end }), plans())).await;
            tess.must_to(&id, v, "SUBMITTED", json!({})).await;
            id
        }
    };
    let vacuum = submit(
        "Vacuum the orders DB",
        json!([db]),
        "2027-03-02T10:00:00Z",
        "2027-03-02T11:00:00Z",
    )
    .await;
    submit(
        "Upgrade the orders DB",
        json!([db]),
        "2027-03-02T10:30:00Z",
        "2027-03-02T11:30:00Z",
    )
    .await;
    submit(
        "Deploy the orders app",
        json!([app]),
        "2027-03-02T10:45:00Z",
        "2027-03-02T11:15:00Z",
    )
    .await;
    let later = submit(
        "Vacuum again",
        json!([db]),
        "2027-03-03T10:00:00Z",
        "2027-03-03T11:00:00Z",
    )
    .await;

    let conflicts = "query($id: ID!) { node(id: $id) { ... on Change { conflicts { change { title } sharedItems { name } dependent } } } }";
    let found = server
        .must(&desk.admin, conflicts, json!({ "id": vacuum }))
        .await;
    assert_eq!(
        found["node"]["conflicts"],
        json!([
            { "change": { "title": "Upgrade the orders DB" }, "sharedItems": [{ "name": "Orders DB" }], "dependent": false },
            { "change": { "title": "Deploy the orders app" }, "sharedItems": [], "dependent": true }
        ])
    );
    let none = server
        .must(&desk.admin, conflicts, json!({ "id": later }))
        .await;
    assert_eq!(
        none["node"]["conflicts"],
        json!([]),
        "a day apart, no conflict"
    );

    let calendar = server
        .must(&desk.admin, "{ changeCalendar(from: \"2027-03-02T00:00:00Z\", to: \"2027-03-03T00:00:00Z\") { change { title } conflicts { change { title } } } }", Value::Null)
        .await;
    let entries = calendar["changeCalendar"].as_array().unwrap();
    assert_eq!(
        entries.len(),
        3,
        "the next day's change is outside the period"
    );
    assert_eq!(entries[0]["change"]["title"], "Vacuum the orders DB");
    assert_eq!(entries[0]["conflicts"].as_array().unwrap().len(), 2);
    let too_long = server
        .gql(Some(&desk.admin), "{ changeCalendar(from: \"2027-01-01T00:00:00Z\", to: \"2027-06-01T00:00:00Z\") { change { title } } }", Value::Null)
        .await;
    assert_eq!(too_long.error_code(), "BAD_USER_INPUT");
}

on_both_backends!(
    a_normal_change_goes_through_the_cab_to_closed,
    the_first_rejection_stops_a_change,
    freezes_and_windows_hold_back_normal_changes_but_not_emergencies,
    changes_on_one_item_in_one_hour_conflict,
);
