//! Time worked, as a desk records it and a manager reads it: entries on a ticket (alone,
//! with a comment, by a timer), hidden from requesters, the monthly totals by group and
//! organization, and the desk's rule that time is recorded before resolving.

use chrono::{Datelike, Duration, Utc};
use serde_json::{Value, json};
use switchboard_tests::{
    Backend, TestServer,
    desk::{CREATE, Desk, TRANSITION},
    on_both_backends,
};

on_both_backends!(
    the_desk_records_time_and_requesters_never_see_it,
    a_timer_records_the_minutes_since_it_started,
    monthly_totals_add_up_by_group_and_organization,
    the_desk_can_require_time_before_resolving,
);

const RECORD: &str = "mutation($t: ID!, $time: TimeWorkedInput!) { recordTime(input: { ticketId: $t, time: $time }) { timeEntry { id minutes workedOn activity billable note workedByName withComment ticket { number } } } }";
const ENTRIES: &str = "query($n: String!) { ticket(number: $n) { timeSpentMinutes timeEntries { minutes activity billable withComment } } }";

/// A VPN incident raised by the desk's requester: routed to the Network group.
async fn incident(server: &TestServer, desk: &Desk) -> Value {
    server
        .must(
            &desk.requester.token,
            CREATE,
            json!({ "input": { "kind": "INCIDENT", "title": "VPN drops every hour", "impact": "MEDIUM", "urgency": "MEDIUM" } }),
        )
        .await["createTicket"]["ticket"]
        .clone()
}

async fn the_desk_records_time_and_requesters_never_see_it(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let ticket = incident(&server, &desk).await;
    let agent = &desk.agents[0].token;

    let recorded = server
        .must(
            agent,
            RECORD,
            json!({ "t": ticket["id"], "time": { "minutes": 45, "activity": "DIAGNOSIS", "billable": true, "note": "Read the concentrator's logs" } }),
        )
        .await;
    let entry = &recorded["recordTime"]["timeEntry"];
    assert_eq!(entry["minutes"], 45);
    assert_eq!(entry["activity"], "DIAGNOSIS");
    assert_eq!(entry["billable"], true);
    assert_eq!(entry["workedOn"], Utc::now().format("%Y-%m-%d").to_string());
    assert_eq!(entry["workedByName"], "ada");
    assert_eq!(entry["withComment"], false);
    assert_eq!(entry["ticket"]["number"], ticket["number"]);

    // With a comment, in one step.
    let commented = server
        .must(
            agent,
            "mutation($t: ID!) { addComment(input: { ticketId: $t, body: \"Restarted the tunnel.\", time: { minutes: 15, activity: RESOLUTION } }) { comment { id } } }",
            json!({ "t": ticket["id"] }),
        )
        .await;
    assert!(commented["addComment"]["comment"]["id"].is_string());

    let read = server
        .must(agent, ENTRIES, json!({ "n": ticket["number"] }))
        .await;
    assert_eq!(read["ticket"]["timeSpentMinutes"], 60);
    let entries = read["ticket"]["timeEntries"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert!(
        entries
            .iter()
            .any(|e| e["withComment"] == true && e["minutes"] == 15)
    );

    // The requester sees the ticket, but not the time: null, and no way to record any.
    let theirs = server
        .gql(
            Some(&desk.requester.token),
            ENTRIES,
            json!({ "n": ticket["number"] }),
        )
        .await;
    let ticket_seen = theirs.data()["ticket"].as_object().expect("the ticket");
    assert_eq!(ticket_seen.get("timeEntries"), Some(&Value::Null));
    assert_eq!(ticket_seen.get("timeSpentMinutes"), Some(&Value::Null));
    let refused = server
        .gql(
            Some(&desk.requester.token),
            RECORD,
            json!({ "t": ticket["id"], "time": { "minutes": 5 } }),
        )
        .await;
    assert_eq!(refused.error_code(), "FORBIDDEN");
    // An agent who may not see the ticket finds nothing to record on.
    let hidden = server
        .gql(
            Some(&desk.tier2_agent.token),
            RECORD,
            json!({ "t": ticket["id"], "time": { "minutes": 5 } }),
        )
        .await;
    assert_eq!(hidden.error_code(), "NOT_FOUND");

    // What does not fit is refused, naming the field, and nothing is written.
    for (time, field) in [
        (json!({ "activity": "DIAGNOSIS" }), "minutes"),
        (json!({ "minutes": 0 }), "minutes"),
        (json!({ "minutes": 1441 }), "minutes"),
        (json!({ "minutes": 5, "workedOn": "yesterday" }), "workedOn"),
        (
            json!({ "minutes": 5, "workedOn": "2999-01-01" }),
            "workedOn",
        ),
    ] {
        let reply = server
            .gql(
                Some(agent),
                RECORD,
                json!({ "t": ticket["id"], "time": time }),
            )
            .await;
        assert_eq!(reply.error_code(), "BAD_USER_INPUT", "{:#}", reply.body);
        assert_eq!(reply.body["errors"][0]["extensions"]["field"], field);
    }

    // Another agent may not remove ada's entry; ada may.
    let id = entry["id"].clone();
    let remove =
        "mutation($id: ID!) { removeTimeEntry(input: { id: $id }) { timeEntry { minutes } } }";
    let other = server
        .gql(Some(&desk.agents[1].token), remove, json!({ "id": id }))
        .await;
    assert_eq!(other.error_code(), "FORBIDDEN");
    server.must(agent, remove, json!({ "id": id })).await;
    let read = server
        .must(agent, ENTRIES, json!({ "n": ticket["number"] }))
        .await;
    assert_eq!(read["ticket"]["timeSpentMinutes"], 15);

    // Both are in the ticket's history, as the desk's own (internal) record.
    let history = server
        .must(
            agent,
            "query($n: String!) { ticket(number: $n) { history(first: 50) { nodes { action } } } }",
            json!({ "n": ticket["number"] }),
        )
        .await;
    let actions: Vec<&str> = history["ticket"]["history"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n["action"].as_str())
        .collect();
    assert!(actions.contains(&"ticket.time_recorded"), "{actions:?}");
    assert!(actions.contains(&"ticket.time_removed"), "{actions:?}");
}

async fn a_timer_records_the_minutes_since_it_started(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let ticket = incident(&server, &desk).await;
    let agent = &desk.agents[0].token;
    let start =
        "mutation($t: ID!) { startTimer(input: { ticketId: $t }) { startedAt ticket { number } } }";
    let started = server
        .must(agent, start, json!({ "t": ticket["id"] }))
        .await;
    assert_eq!(started["startTimer"]["ticket"]["number"], ticket["number"]);
    let again = server
        .gql(Some(agent), start, json!({ "t": ticket["id"] }))
        .await;
    assert_eq!(again.error_code(), "CONFLICT");
    let mine = server
        .must(agent, "{ myTimers { ticket { number } } }", Value::Null)
        .await;
    assert_eq!(mine["myTimers"].as_array().unwrap().len(), 1);

    server.advance(Duration::seconds(25 * 60 + 10));
    let stopped = server
        .must(
            agent,
            "mutation($t: ID!) { stopTimer(input: { ticketId: $t, time: { activity: COMMUNICATION, billable: true, note: \"Call with the requester\" } }) { timeEntry { minutes activity billable note } } }",
            json!({ "t": ticket["id"] }),
        )
        .await;
    let entry = &stopped["stopTimer"]["timeEntry"];
    assert_eq!(entry["minutes"], 26, "a started minute counts: {entry}");
    assert_eq!(entry["activity"], "COMMUNICATION");
    assert_eq!(entry["note"], "Call with the requester");
    let mine = server
        .must(agent, "{ myTimers { startedAt } }", Value::Null)
        .await;
    assert_eq!(mine["myTimers"], json!([]));
    let none = server
        .gql(
            Some(agent),
            "mutation($t: ID!) { stopTimer(input: { ticketId: $t }) { timeEntry { minutes } } }",
            json!({ "t": ticket["id"] }),
        )
        .await;
    assert_eq!(none.error_code(), "NOT_FOUND");
}

async fn monthly_totals_add_up_by_group_and_organization(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let first = incident(&server, &desk).await;
    let second = incident(&server, &desk).await;
    let agent = &desk.agents[0].token;
    let today = Utc::now().date_naive();
    let this_month = today.with_day(1).unwrap();
    let last_month_end = this_month.pred_opt().unwrap();
    for (ticket, minutes, day, billable) in [
        (&first, 30, last_month_end, true),
        (&first, 45, this_month, true),
        (&second, 20, this_month, false),
        (&second, 10, today, true),
    ] {
        server
            .must(
                agent,
                RECORD,
                json!({ "t": ticket["id"], "time": { "minutes": minutes, "workedOn": day.format("%Y-%m-%d").to_string(), "billable": billable } }),
            )
            .await;
    }
    let totals = "query($from: String!, $to: String!, $by: TimeGrouping!) { timeWorkedTotals(from: $from, to: $to, by: $by) { month key minutes billableMinutes entries } }";
    let period = json!({
        "from": (this_month - Duration::days(40)).format("%Y-%m-%d").to_string(),
        "to": today.format("%Y-%m-%d").to_string(),
    });
    let mut by_group = period.clone();
    by_group["by"] = json!("GROUP");
    let rows = server.must(&desk.manager.token, totals, by_group).await["timeWorkedTotals"].clone();
    let last = last_month_end.format("%Y-%m").to_string();
    let this = this_month.format("%Y-%m").to_string();
    assert_eq!(
        rows,
        json!([
            { "month": last, "key": desk.network_group_id, "minutes": 30, "billableMinutes": 30, "entries": 1 },
            { "month": this, "key": desk.network_group_id, "minutes": 75, "billableMinutes": 55, "entries": 3 },
        ])
    );
    let mut by_organization = period.clone();
    by_organization["by"] = json!("ORGANIZATION");
    let rows = server
        .must(&desk.manager.token, totals, by_organization)
        .await["timeWorkedTotals"]
        .clone();
    assert_eq!(rows[1]["key"], desk.organization_id);
    assert_eq!(rows[1]["minutes"], 75);
    let mut by_ticket = period.clone();
    by_ticket["by"] = json!("TICKET");
    let rows =
        server.must(&desk.manager.token, totals, by_ticket).await["timeWorkedTotals"].clone();
    assert_eq!(rows.as_array().unwrap().len(), 3, "{rows}");

    // Only the month asked for.
    let mut one_month = json!({ "from": this_month.format("%Y-%m-%d").to_string(), "to": today.format("%Y-%m-%d").to_string(), "by": "MONTH" });
    let rows = server
        .must(&desk.manager.token, totals, one_month.clone())
        .await["timeWorkedTotals"]
        .clone();
    assert_eq!(
        rows,
        json!([{ "month": this, "key": null, "minutes": 75, "billableMinutes": 55, "entries": 3 }])
    );

    // Agents record time; the totals are for managers.
    let agents = server.gql(Some(agent), totals, one_month.clone()).await;
    assert_eq!(agents.error_code(), "FORBIDDEN");
    one_month["to"] = json!("2000-01-01");
    let backwards = server
        .gql(Some(&desk.manager.token), totals, one_month)
        .await;
    assert_eq!(backwards.error_code(), "BAD_USER_INPUT");
}

async fn the_desk_can_require_time_before_resolving(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let settings = server
        .must(
            &desk.admin,
            "{ deskSettings { priorityMatrix reopenWindowDays autoCloseDays } }",
            Value::Null,
        )
        .await;
    let mut input = settings["deskSettings"].clone();
    input["requireTimeToResolve"] = json!(true);
    server
        .must(
            &desk.admin,
            "mutation($i: DeskSettingsInput!) { updateDeskSettings(input: $i) { requireTimeToResolve } }",
            json!({ "i": input }),
        )
        .await;
    let ticket = incident(&server, &desk).await;
    let agent = &desk.agents[0].token;
    let resolve = |version: &Value| json!({ "input": { "id": ticket["id"], "version": version, "status": "RESOLVED", "resolutionCode": "FIXED" } });
    let refused = server
        .gql(Some(agent), TRANSITION, resolve(&ticket["version"]))
        .await;
    assert_eq!(refused.error_code(), "BAD_USER_INPUT", "{:#}", refused.body);
    assert!(
        refused.error_message().contains("time worked"),
        "{}",
        refused.error_message()
    );
    server
        .must(
            agent,
            RECORD,
            json!({ "t": ticket["id"], "time": { "minutes": 10 } }),
        )
        .await;
    let resolved = server
        .must(agent, TRANSITION, resolve(&ticket["version"]))
        .await;
    assert_eq!(resolved["transitionTicket"]["ticket"]["status"], "RESOLVED");
}
