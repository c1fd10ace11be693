//! The planned path (`graphql::planned`) gives, byte for byte, the response the ordinary
//! resolvers give: generated selections of the ticket list, as an admin, agents,
//! requesters and narrow tokens, through a server with plans and one without on the
//! same database.

use serde_json::{Value, json};
use switchboard_tests::{
    Backend, TestServer,
    desk::{CREATE, Desk, TRANSITION},
    on_both_backends,
    rng::Rng,
};

on_both_backends!(
    generated_selections_read_the_same_through_both_paths,
    a_plan_goes_the_ordinary_way_for_what_it_does_not_know,
);

/// A response's bytes, and whether the planned path wrote it.
struct Raw {
    status: u16,
    body: Vec<u8>,
    planned: bool,
}

async fn post(server: &TestServer, token: &str, query: &str, variables: &Value) -> Raw {
    let response = server
        .http()
        .post(server.url("/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .expect("the server answers");
    let planned = response
        .headers()
        .get("server-timing")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|timing| timing.contains("planned"));
    Raw {
        status: response.status().as_u16(),
        planned,
        body: response.bytes().await.unwrap().to_vec(),
    }
}

/// Two servers on one database: the first with plans (the default), the second with
/// every request on the ordinary path. A low complexity limit, so that some pages are
/// over it.
async fn pair(backend: Backend) -> (TestServer, TestServer) {
    let planned = TestServer::start_with(backend, |s| {
        s.max_complexity = Some("400".into());
    })
    .await;
    let url = planned.database_url();
    let ordinary = TestServer::start_with(backend, |s| {
        s.database_url = Some(url);
        s.max_complexity = Some("400".into());
        s.planned_reads = Some("off".into());
    })
    .await;
    (planned, ordinary)
}

/// Tickets of every shape a page shows: with and without an assignee, group, category
/// and organization, pending, resolved, and text that needs escaping.
async fn tickets(server: &TestServer, desk: &Desk) {
    let agent = &desk.agents[0];
    let make = |input: Value| async move {
        server
            .must(&agent.token, CREATE, json!({ "input": input }))
            .await["createTicket"]["ticket"]
            .clone()
    };
    let with_all = make(json!({ "kind": "INCIDENT", "title": "Laptop will not boot", "impact": "HIGH",
        "urgency": "HIGH", "requesterId": desk.requester.id, "groupId": desk.network_group_id,
        "assigneeId": desk.agents[1].id, "categoryId": desk.laptop_category_id, "channel": "PHONE" }))
    .await;
    make(json!({ "kind": "SERVICE_REQUEST", "title": "Quote \" backslash \\ tab\t newline\n émoji 🚀 <b>&</b> \u{1}",
        "description": "Line one\r\nline two — \u{7f} \u{2028}", "impact": "LOW", "urgency": "MEDIUM",
        "requesterId": desk.other_requester.id }))
    .await;
    make(json!({ "kind": "INCIDENT", "title": "VPN drops every hour", "impact": "MEDIUM", "urgency": "LOW",
        "requesterId": desk.requester.id }))
    .await;
    let pending = make(
        json!({ "kind": "INCIDENT", "title": "Printer jams", "impact": "LOW", "urgency": "LOW",
        "requesterId": desk.other_requester.id, "groupId": desk.tier2_group_id,
        "assigneeId": desk.tier2_agent.id, "categoryId": desk.hardware_category_id }),
    )
    .await;
    make(json!({ "kind": "INCIDENT", "title": "Agent's own", "impact": "LOW", "urgency": "HIGH" }))
        .await;
    for n in 0..6 {
        make(
            json!({ "kind": if n % 2 == 0 { "INCIDENT" } else { "SERVICE_REQUEST" },
            "title": format!("Ticket {n}"), "impact": "MEDIUM", "urgency": "MEDIUM",
            "requesterId": desk.requester.id, "groupId": desk.network_group_id }),
        )
        .await;
    }
    let step = |ticket: Value, input: Value| async move {
        let mut input = input;
        input["id"] = ticket["id"].clone();
        input["version"] = ticket["version"].clone();
        let reply = server
            .gql(Some(&desk.admin), TRANSITION, json!({ "input": input }))
            .await;
        assert_eq!(reply.body.get("errors"), None, "{}", reply.body);
        reply.data()["transitionTicket"]["ticket"].clone()
    };
    let pending = step(pending.clone(), json!({ "status": "IN_PROGRESS" })).await;
    step(
        pending,
        json!({ "status": "PENDING", "pendingReason": "AWAITING_VENDOR" }),
    )
    .await;
    let resolved = step(with_all, json!({ "status": "IN_PROGRESS" })).await;
    step(
        resolved,
        json!({ "status": "RESOLVED", "resolutionCode": "FIXED", "resolutionNotes": "Replaced the disk" }),
    )
    .await;
}

/// Who asks: an admin, agents, requesters (one of them sees only their own), a token
/// with `tickets:read` alone (no person's details), and one with `users:read` too.
async fn callers(server: &TestServer, desk: &Desk) -> Vec<(&'static str, String)> {
    let token = |scopes: Value| async move {
        server
            .must(
                &desk.admin,
                "mutation($s: [String!]!) { createApiToken(input: { name: \"Dashboard\", scopes: $s }) { secret } }",
                json!({ "s": scopes }),
            )
            .await["createApiToken"]["secret"]
            .as_str()
            .expect("a secret")
            .to_string()
    };
    vec![
        ("admin", desk.admin.clone()),
        ("agent", desk.agents[0].token.clone()),
        ("tier-2 agent", desk.tier2_agent.token.clone()),
        ("requester", desk.requester.token.clone()),
        ("other requester", desk.other_requester.token.clone()),
        ("tickets:read token", token(json!(["tickets:read"])).await),
        (
            "tickets:read users:read token",
            token(json!(["tickets:read", "users:read"])).await,
        ),
    ]
}

const TICKET_SCALARS: &[&str] = &[
    "id",
    "number",
    "kind",
    "status",
    "title",
    "description",
    "impact",
    "urgency",
    "priority",
    "channel",
    "pendingReason",
    "resolutionCode",
    "resolutionNotes",
    "escalationLevel",
    "managerFlaggedAt",
    "createdAt",
    "updatedAt",
    "firstResponseAt",
    "resolvedAt",
    "closedAt",
    "version",
    "__typename",
];

/// The ticket's neighbours a plan writes, with their fields.
const NEIGHBOURS: &[(&str, &[&str])] = &[
    (
        "requester",
        &[
            "id",
            "name",
            "subject",
            "email",
            "available",
            "createdAt",
            "updatedAt",
            "__typename",
        ],
    ),
    (
        "assignee",
        &["id", "name", "email", "subject", "available", "__typename"],
    ),
    (
        "group",
        &["id", "name", "description", "tier", "__typename"],
    ),
    (
        "organization",
        &[
            "id",
            "name",
            "requestersSeeAllTickets",
            "createdAt",
            "__typename",
        ],
    ),
    ("category", &["id", "name", "path", "__typename"]),
];

/// The named fragments of a document being generated.
struct Document {
    fragments: Vec<String>,
}

impl Document {
    /// A selection of a ticket: scalars and neighbours, some aliased, some repeated, some
    /// inside inline or named fragments.
    fn ticket(&mut self, rng: &mut Rng, depth: usize) -> String {
        let mut items: Vec<String> = Vec::new();
        for _ in 0..1 + rng.below(8) {
            let roll = rng.below(100);
            let item = if roll < 55 {
                let field = rng.pick(TICKET_SCALARS);
                if rng.chance(20) && *field != "__typename" {
                    // An alias per field: one key never names two different fields.
                    format!("{field}{}: {field}", rng.below(3))
                } else {
                    field.to_string()
                }
            } else if roll < 82 {
                let (name, fields) = rng.pick(NEIGHBOURS);
                let leaves: Vec<&str> = (0..1 + rng.below(4)).map(|_| *rng.pick(fields)).collect();
                let alias = if rng.chance(15) {
                    format!("n{}: ", rng.below(2))
                } else {
                    String::new()
                };
                // An alias for a neighbour could name two fields at once: kept distinct.
                let alias = if alias.is_empty() {
                    alias
                } else {
                    format!("{name}{alias}")
                };
                format!("{alias}{name} {{ {} }}", leaves.join(" "))
            } else if roll < 88 && depth < 2 {
                let inner = self.ticket(rng, depth + 1);
                let on = if rng.chance(30) { "Node" } else { "Ticket" };
                if on == "Node" {
                    format!("... on Node {{ id ... on Ticket {{ {inner} }} }}")
                } else {
                    format!("... on Ticket {{ {inner} }}")
                }
            } else if roll < 94 && depth < 2 {
                let inner = self.ticket(rng, depth + 1);
                let name = format!("F{}", self.fragments.len());
                self.fragments
                    .push(format!("fragment {name} on Ticket {{ {inner} }}"));
                format!("...{name}")
            } else if let Some(previous) = items.last() {
                previous.clone()
            } else {
                "number".to_string()
            };
            items.push(item);
        }
        items.join(" ")
    }

    fn connection(&mut self, rng: &mut Rng) -> String {
        let mut parts = Vec::new();
        let shape = rng.below(4);
        if shape != 1 {
            parts.push(format!("nodes {{ {} }}", self.ticket(rng, 0)));
        }
        if shape >= 1 {
            let mut edge = vec![format!("node {{ {} }}", self.ticket(rng, 0))];
            if rng.chance(70) {
                edge.insert(rng.below(2), "cursor".to_string());
            }
            if rng.chance(15) {
                edge.push("__typename".to_string());
            }
            parts.push(format!("edges {{ {} }}", edge.join(" ")));
        }
        if rng.chance(70) {
            let info = [
                "hasNextPage",
                "hasPreviousPage",
                "startCursor",
                "endCursor",
                "__typename",
            ];
            let picked: Vec<&str> = (0..1 + rng.below(4)).map(|_| *rng.pick(&info)).collect();
            parts.insert(
                rng.below(parts.len() + 1),
                format!("pageInfo {{ {} }}", picked.join(" ")),
            );
        }
        if rng.chance(10) {
            parts.push("__typename".to_string());
        }
        parts.join(" ")
    }
}

/// The arguments of a list, written in the document or passed as variables; and the
/// variables for a second request, which may ask for a bigger page (over the complexity
/// limit) or a value that does not coerce.
fn arguments(rng: &mut Rng, cursors: &[String]) -> (String, String, Value, Value) {
    let sizes = [0, 1, 2, 3, 5, 20, 50, 100];
    let first = *rng.pick(&sizes[..6]);
    let backward = rng.chance(20);
    let order = [
        "{ field: CREATED, direction: DESC }",
        "{ field: CREATED, direction: ASC }",
        "{ field: UPDATED, direction: DESC }",
        "{ field: PRIORITY, direction: ASC }",
    ];
    let order_index = rng.below(order.len());
    let filters = [
        "{}",
        "{ status: [NEW, ASSIGNED] }",
        "{ kind: [INCIDENT] }",
        "{ priority: [P1, P2, P3] }",
        "{ unassigned: true }",
        "{ text: \"ticket\" }",
    ];
    let filter = *rng.pick(&filters);
    let size_name = if backward { "last" } else { "first" };
    let cursor = (order_index == 0 && rng.chance(40))
        .then(|| rng.pick(cursors).clone())
        .map(|cursor| (if backward { "before" } else { "after" }, cursor));
    if rng.chance(50) {
        // Written in the document.
        let mut written = vec![
            format!("{size_name}: {first}"),
            format!("orderBy: {}", order[order_index]),
        ];
        if filter != "{}" || rng.chance(20) {
            written.push(format!("filter: {filter}"));
        }
        if let Some((name, cursor)) = &cursor {
            written.push(format!("{name}: \"{cursor}\""));
        }
        (String::new(), written.join(", "), json!({}), json!({}))
    } else {
        let mut definitions = vec![format!("$size: Int")];
        let mut written = vec![format!("{size_name}: $size")];
        let mut variables = json!({ "size": first });
        written.push(format!("orderBy: {}", order[order_index]));
        if rng.chance(50) {
            definitions.push("$filter: TicketFilterInput".into());
            written.push("filter: $filter".into());
            variables["filter"] = json!(null);
        }
        if let Some((name, cursor)) = &cursor {
            definitions.push("$cursor: String".into());
            written.push(format!("{name}: $cursor"));
            variables["cursor"] = json!(cursor);
        }
        let mut second = variables.clone();
        match rng.below(6) {
            0 => second["size"] = json!(100),
            1 => second["size"] = json!("many"),
            2 => second["size"] = json!(-1),
            _ => second["size"] = json!(*rng.pick(&sizes)),
        }
        if variables.get("filter").is_some() && rng.chance(50) {
            second["filter"] = json!({ "status": ["NEW", "PENDING"], "unassigned": false });
        }
        (
            format!("({})", definitions.join(", ")),
            written.join(", "),
            variables,
            second,
        )
    }
}

/// A request's JSON with each error's request id taken out: they differ by request.
fn without_request_ids(body: &[u8]) -> Value {
    let mut value: Value = serde_json::from_slice(body).expect("JSON");
    if let Some(errors) = value.get_mut("errors").and_then(Value::as_array_mut) {
        for error in errors {
            if let Some(extensions) = error.get_mut("extensions").and_then(Value::as_object_mut) {
                extensions.remove("requestId");
            }
        }
    }
    value
}

async fn generated_selections_read_the_same_through_both_paths(backend: Backend) {
    let (planned, ordinary) = pair(backend).await;
    let desk = planned.desk().await;
    tickets(&planned, &desk).await;
    let callers = callers(&planned, &desk).await;
    let mut cursors = Vec::new();
    let page = planned
        .must(
            &desk.admin,
            "{ tickets(first: 100) { edges { cursor } } }",
            Value::Null,
        )
        .await;
    for edge in page["tickets"]["edges"].as_array().expect("edges") {
        cursors.push(edge["cursor"].as_str().expect("a cursor").to_string());
    }
    assert!(cursors.len() >= 10, "the tickets were made");

    let mut rng = Rng(0x5EED_0F_9A7E);
    let mut answered_by_plan = std::collections::BTreeMap::<&str, usize>::new();
    let cases = 60;
    for case in 0..cases {
        let mut document = Document {
            fragments: Vec::new(),
        };
        let (definitions, written, first_variables, second_variables) =
            arguments(&mut rng, &cursors);
        let mut root = vec![format!(
            "tickets({written}) {{ {} }}",
            document.connection(&mut rng)
        )];
        if rng.chance(15) {
            root.push(format!(
                "second: tickets(first: 2) {{ nodes {{ {} }} }}",
                document.ticket(&mut rng, 0)
            ));
        }
        if rng.chance(10) {
            root.insert(0, "__typename".into());
        }
        if rng.chance(10) {
            root.push("mine: myTickets(first: 3) { nodes { number title } }".into());
        }
        let text = format!(
            "query Page{definitions} {{ {} }}\n{}",
            root.join(" "),
            document.fragments.join("\n")
        );
        for (who, token) in &callers {
            // A fresh document for each caller: its first request runs the ordinary way
            // on the planned server too, and proves the plan for the second.
            let text = format!("{text}\n# case {case} as {who}");
            let proving = post(&planned, token, &text, &first_variables).await;
            assert!(
                !proving.planned,
                "a document's first run is the ordinary one"
            );
            let answered = post(&planned, token, &text, &second_variables).await;
            let expected = post(&ordinary, token, &text, &second_variables).await;
            assert!(!expected.planned, "the second server has no plans");
            assert_eq!(answered.status, expected.status, "{text}");
            if answered.planned {
                *answered_by_plan.entry(who).or_default() += 1;
                assert_eq!(
                    String::from_utf8_lossy(&answered.body),
                    String::from_utf8_lossy(&expected.body),
                    "case {case} as {who}, the same bytes through both paths:\n{text}\n{second_variables}"
                );
                let body: Value = serde_json::from_slice(&answered.body).unwrap();
                assert!(body.get("data").is_some() && body.get("errors").is_none());
            } else {
                assert_eq!(
                    without_request_ids(&answered.body),
                    without_request_ids(&expected.body),
                    "case {case} as {who}, the ordinary way on both:\n{text}\n{second_variables}"
                );
            }
        }
    }
    // Not a test of nothing: most of it went through the plans, for every caller.
    for (who, _) in &callers {
        let planned = answered_by_plan.get(who).copied().unwrap_or(0);
        assert!(
            planned >= cases / 2,
            "{who}: {planned} of {cases} planned ({answered_by_plan:?})"
        );
    }
}

/// What a plan does not know goes the ordinary way, and still answers: a field it does
/// not write, a directive, a cursor that is not one, a caller without a person for
/// `myTickets`, a variable left out.
async fn a_plan_goes_the_ordinary_way_for_what_it_does_not_know(backend: Backend) {
    let (planned, ordinary) = pair(backend).await;
    let desk = planned.desk().await;
    tickets(&planned, &desk).await;
    let token = &desk.agents[0].token;
    let cases: &[(&str, Value, Value)] = &[
        (
            "{ tickets(first: 3) { nodes { number slaClocks { kind } } } }",
            json!({}),
            json!({}),
        ),
        (
            "query($b: Boolean!) { tickets(first: 3) { nodes { number title @include(if: $b) } } }",
            json!({ "b": true }),
            json!({ "b": false }),
        ),
        (
            "query($a: String) { tickets(first: 3, after: $a) { nodes { number } } }",
            json!({}),
            json!({ "a": "not a cursor" }),
        ),
        (
            "query($n: Int!) { tickets(first: $n) { nodes { number } } }",
            json!({ "n": 2 }),
            json!({}),
        ),
    ];
    for (query, first, second) in cases {
        let proving = post(&planned, token, query, first).await;
        assert_eq!(proving.status, 200);
        let answered = post(&planned, token, query, second).await;
        let expected = post(&ordinary, token, query, second).await;
        assert!(
            !answered.planned,
            "{query} with {second} goes the ordinary way"
        );
        assert_eq!(
            without_request_ids(&answered.body),
            without_request_ids(&expected.body),
            "{query}"
        );
    }
    // A proven plan, and a caller it cannot serve: a token has no requests of its own.
    let mine = "{ myTickets(first: 2) { nodes { number } } }";
    post(&planned, token, mine, &json!({})).await;
    assert!(post(&planned, token, mine, &json!({})).await.planned);
    let narrow = planned
        .must(
            &desk.admin,
            "mutation { createApiToken(input: { name: \"Reader\", scopes: [\"tickets:read\"] }) { secret } }",
            Value::Null,
        )
        .await["createApiToken"]["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let answered = post(&planned, &narrow, mine, &json!({})).await;
    assert!(!answered.planned);
    let body = without_request_ids(&answered.body);
    assert!(body.get("errors").is_some(), "{body}");
    assert_eq!(
        body,
        without_request_ids(&post(&ordinary, &narrow, mine, &json!({})).await.body)
    );

    // An operator sees both outcomes: the cursor, the variable left out and the token
    // went the ordinary way with a plan in hand; `myTickets` was answered by its plan.
    let ordinary_ways = planned
        .metric("switchboard_planned_reads_total{outcome=\"ordinary\"}")
        .await
        .expect("the ordinary outcome is counted");
    assert_eq!(ordinary_ways, 3.0);
    let answered = planned
        .metric("switchboard_planned_reads_total{outcome=\"answered\"}")
        .await
        .expect("the answered outcome is counted");
    assert_eq!(answered, 1.0);
}
