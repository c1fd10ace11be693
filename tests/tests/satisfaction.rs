//! Customer satisfaction, as a requester meets it: a resolved ticket's survey arrives by
//! mail through a real SMTP server, its link works without signing in, once, and
//! expires; a rating of 1 sets off the desk's rule; the report counts it; the desk's
//! settings decide who is asked.

use std::time::Duration as StdDuration;

use chrono::{Duration, Utc};
use serde_json::{Value, json};
use switchboard_tests::{
    Backend, TestServer,
    desk::{CREATE, Desk, TRANSITION},
    on_both_backends,
    server::sign_hs256,
    services::Smtp,
};

on_both_backends!(
    a_survey_link_answers_once_and_a_low_rating_sets_off_a_rule,
    surveys_expire_and_ask_only_whom_the_desk_says,
);

const WAIT: StdDuration = StdDuration::from_secs(15);
const SURVEY: &str = "query($n: String!) { ticket(number: $n) { status survey { rating comment answeredAt expiresAt } } }";
const RATE: &str = "mutation($t: ID!, $r: Int!, $reopen: Boolean!) { rateTicket(input: { ticketId: $t, rating: $r, reopen: $reopen }) { rating answeredAt } }";

/// Rita, with an address the desk can write to.
async fn rita(server: &TestServer) -> String {
    let now = Utc::now().timestamp();
    let token = sign_hs256(&json!({
        "sub": "rita", "name": "rita", "email": "rita@acme.test",
        "roles": ["requester"], "exp": now + 3600, "nbf": now - 10,
    }));
    server
        .must(&token, "{ viewer { nodeId } }", Value::Null)
        .await;
    token
}

async fn survey_share(server: &TestServer, desk: &Desk, percent: i64, excluded_orgs: Value) {
    let settings = server
        .must(
            &desk.admin,
            "{ deskSettings { priorityMatrix reopenWindowDays autoCloseDays } }",
            Value::Null,
        )
        .await;
    let mut input = settings["deskSettings"].clone();
    input["surveySharePercent"] = json!(percent);
    input["surveyExcludedOrganizationIds"] = excluded_orgs;
    server
        .must(
            &desk.admin,
            "mutation($i: DeskSettingsInput!) { updateDeskSettings(input: $i) { surveySharePercent } }",
            json!({ "i": input }),
        )
        .await;
}

/// A VPN incident raised by `requester` and resolved by the network agent.
async fn resolved(server: &TestServer, desk: &Desk, requester: &str, title: &str) -> Value {
    let ticket = server
        .must(
            requester,
            CREATE,
            json!({ "input": { "kind": "INCIDENT", "title": title } }),
        )
        .await["createTicket"]["ticket"]
        .clone();
    let agent = if ticket["assignee"]["id"] == desk.agents[1].id {
        &desk.agents[1].token
    } else {
        &desk.agents[0].token
    };
    server
        .must(
            agent,
            TRANSITION,
            json!({ "input": { "id": ticket["id"], "version": ticket["version"], "status": "RESOLVED", "resolutionCode": "FIXED" } }),
        )
        .await;
    ticket
}

/// The token at the end of the survey link in a message.
fn token_in(message: &str) -> String {
    let at = message.find("/survey/").expect("a survey link") + "/survey/".len();
    message[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

async fn a_survey_link_answers_once_and_a_low_rating_sets_off_a_rule(backend: Backend) {
    let smtp = Smtp::start();
    let server = TestServer::start_with(backend, |s| {
        s.smtp_url = Some(smtp.url());
        s.mail_from = Some("Acme Service Desk <desk@acme.test>".into());
        s.public_url = Some("https://desk.acme.test/".into());
    })
    .await;
    let desk = server.desk().await;
    let rita = rita(&server).await;
    survey_share(&server, &desk, 100, json!([])).await;
    server
        .must(
            &desk.admin,
            "mutation($input: AutomationRuleInput!) { createAutomationRule(input: $input) { automationRule { id } } }",
            json!({ "input": {
                "name": "Unhappy requester", "trigger": "SURVEY_ANSWERED",
                "conditions": { "ratingAtMost": 2 },
                "actions": [{ "type": "ADD_NOTE", "template": "{{ rule.name }}: call them back about {{ ticket.number }}" }],
            } }),
        )
        .await;
    let ticket = resolved(&server, &desk, &rita, "VPN drops after lunch").await;

    let mail = smtp.wait_for("rita@acme.test", "/survey/", WAIT);
    assert!(
        mail.contains("https://desk.acme.test/survey/"),
        "the link starts at the public URL: {mail}"
    );
    let token = token_in(&mail);
    assert!(token.len() >= 30, "{token}");

    // The page: no sign-in, the ticket named, no script, no referrer, nothing kept.
    let link = server.url(&format!("/survey/{token}"));
    let page = server.http().get(&link).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let headers = page.headers().clone();
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert_eq!(headers["cache-control"], "no-store");
    let html = page.text().await.unwrap();
    assert!(html.contains(ticket["number"].as_str().unwrap()), "{html}");
    assert!(html.contains("name=\"rating\""), "{html}");

    // Answered once: a 1, with why.
    let sent = server
        .http()
        .post(&link)
        .form(&[("rating", "1"), ("comment", "It took three days")])
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 200);
    assert!(sent.text().await.unwrap().contains("Thank you"));
    let again = server
        .http()
        .post(&link)
        .form(&[("rating", "5")])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 409, "a survey answers once");
    assert_eq!(server.http().get(&link).send().await.unwrap().status(), 409);
    let unknown = server
        .http()
        .get(server.url("/survey/not-a-token"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    // Through GraphQL too, without signing in: the token is the credential.
    let by_token = server
        .gql(
            None,
            "mutation($t: String!) { answerSurvey(input: { token: $t, rating: 5 }) { rating } }",
            json!({ "t": token }),
        )
        .await;
    assert_eq!(by_token.error_code(), "CONFLICT", "{:#}", by_token.body);
    let bogus = server
        .gql(
            None,
            "mutation { answerSurvey(input: { token: \"nope\", rating: 5 }) { rating } }",
            Value::Null,
        )
        .await;
    assert_eq!(bogus.error_code(), "NOT_FOUND", "{:#}", bogus.body);

    let seen = server
        .must(&rita, SURVEY, json!({ "n": ticket["number"] }))
        .await;
    assert_eq!(seen["ticket"]["survey"]["rating"], 1);
    assert_eq!(seen["ticket"]["survey"]["comment"], "It took three days");

    // The rule for unhappy requesters wrote its note.
    let start = std::time::Instant::now();
    loop {
        let notes = server
            .must(
                &desk.manager.token,
                "query($n: String!) { ticket(number: $n) { comments(first: 20) { nodes { body internal } } } }",
                json!({ "n": ticket["number"] }),
            )
            .await;
        let found = notes["ticket"]["comments"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| {
                c["internal"] == true
                    && c["body"]
                        .as_str()
                        .unwrap_or_default()
                        .starts_with("Unhappy requester: call them back")
            });
        if found {
            break;
        }
        assert!(start.elapsed() < WAIT, "no note from the rule: {notes:#}");
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }

    // The report counts it, by the group that resolved it.
    let report = server
        .must(
            &desk.manager.token,
            "query($from: DateTime!, $to: DateTime!) { satisfactionReport(from: $from, to: $to, by: GROUP) { key offered answered responseRate averageRating ratings comments { rating comment } } }",
            json!({
                "from": (Utc::now() - Duration::hours(1)).to_rfc3339(),
                "to": (Utc::now() + Duration::hours(1)).to_rfc3339(),
            }),
        )
        .await;
    assert_eq!(
        report["satisfactionReport"],
        json!([{
            "key": desk.network_group_id, "offered": 1, "answered": 1, "responseRate": 1.0,
            "averageRating": 1.0, "ratings": [1, 0, 0, 0, 0],
            "comments": [{ "rating": 1, "comment": "It took three days" }],
        }])
    );
    let agents = server
        .gql(
            Some(&desk.agents[0].token),
            "query($from: DateTime!, $to: DateTime!) { satisfactionReport(from: $from, to: $to, by: AGENT) { offered } }",
            json!({ "from": "2026-01-01T00:00:00Z", "to": "2030-01-01T00:00:00Z" }),
        )
        .await;
    assert_eq!(agents.error_code(), "FORBIDDEN");
}

async fn surveys_expire_and_ask_only_whom_the_desk_says(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let requester = &desk.requester.token;

    // Off by default: nobody is asked.
    let quiet = resolved(&server, &desk, requester, "VPN slow in the morning").await;
    let seen = server
        .must(requester, SURVEY, json!({ "n": quiet["number"] }))
        .await;
    assert!(seen["ticket"].get("survey").is_some());
    assert_eq!(seen["ticket"]["survey"], Value::Null);

    // Every resolution, but never Acme's requesters.
    survey_share(&server, &desk, 100, json!([desk.organization_id])).await;
    let excluded = resolved(&server, &desk, requester, "VPN slow at noon").await;
    let seen = server
        .must(requester, SURVEY, json!({ "n": excluded["number"] }))
        .await;
    assert_eq!(seen["ticket"].get("survey"), Some(&Value::Null));

    survey_share(&server, &desk, 100, json!([])).await;
    let asked = resolved(&server, &desk, requester, "VPN slow at night").await;
    let seen = server
        .must(requester, SURVEY, json!({ "n": asked["number"] }))
        .await;
    assert!(seen["ticket"]["survey"]["expiresAt"].is_string(), "{seen}");
    assert_eq!(
        seen["ticket"]["survey"].get("answeredAt"),
        Some(&Value::Null)
    );
    // A colleague who shares the ticket through the organization does not read it.
    server
        .must(
            &desk.admin,
            "mutation($id: ID!) { updateOrganization(input: { id: $id, requestersSeeAllTickets: true }) { organization { id } } }",
            json!({ "id": desk.organization_id }),
        )
        .await;
    let colleague = server
        .must(
            &desk.other_requester.token,
            SURVEY,
            json!({ "n": asked["number"] }),
        )
        .await;
    let shared = colleague["ticket"]
        .as_object()
        .expect("the colleague sees the ticket");
    assert_eq!(shared.get("survey"), Some(&Value::Null));
    // Another requester has no survey of it to answer.
    let other = server
        .gql(
            Some(&desk.other_requester.token),
            RATE,
            json!({ "t": asked["id"], "r": 5, "reopen": false }),
        )
        .await;
    assert_eq!(other.error_code(), "NOT_FOUND");
    let out_of_range = server
        .gql(
            Some(requester),
            RATE,
            json!({ "t": asked["id"], "r": 6, "reopen": false }),
        )
        .await;
    assert_eq!(out_of_range.error_code(), "BAD_USER_INPUT");

    // Answered signed in, reopening the ticket from the same place.
    let reopened = resolved(&server, &desk, requester, "VPN slow on Fridays").await;
    server
        .must(
            requester,
            RATE,
            json!({ "t": reopened["id"], "r": 2, "reopen": true }),
        )
        .await;
    let seen = server
        .must(requester, SURVEY, json!({ "n": reopened["number"] }))
        .await;
    assert_eq!(seen["ticket"]["status"], "IN_PROGRESS");
    assert_eq!(seen["ticket"]["survey"]["rating"], 2);

    // Two weeks on, the survey has expired.
    server.advance(Duration::days(15));
    let late = server
        .gql(
            Some(requester),
            RATE,
            json!({ "t": asked["id"], "r": 4, "reopen": false }),
        )
        .await;
    assert_eq!(late.error_code(), "FORBIDDEN", "{:#}", late.body);
    assert!(
        late.error_message().contains("expired"),
        "{}",
        late.error_message()
    );
}
