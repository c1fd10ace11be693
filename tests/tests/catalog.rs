//! The service catalog: browsing, ordering with a validated form, approval.

use serde_json::{Value, json};
use switchboard_tests::{Backend, TestServer, on_both_backends};

const SERVICE: &str =
    "mutation($input: SaveServiceInput!) { saveService(input: $input) { service { id } } }";
const ITEM: &str = "mutation($input: SaveCatalogItemInput!) { saveCatalogItem(input: $input) { catalogItem { id } } }";
const ORDER: &str =
    "mutation($input: OrderCatalogItemInput!) { orderCatalogItem(input: $input) { ticket {
    id number kind status pendingReason group { name }
    catalogRequest { approvalState answers item { name } }
    slaClocks { metric state } } } }";
const DECIDE: &str = "mutation($input: DecideCatalogOrderInput!) { decideCatalogOrder(input: $input) { ticket { number status pendingReason group { name } slaClocks { state } catalogRequest { approvalState decisionComment } } } }";

async fn ordering_checks_the_form_and_approval_releases_the_request(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let admin = &desk.admin;
    server
        .must(admin, "mutation { saveSlaPolicy(input: { name: \"Requests\", position: 1, kind: SERVICE_REQUEST, resolutionMinutes: 2880 }) { slaPolicy { id } } }", Value::Null)
        .await;
    let laptops = server
        .must(admin, SERVICE, json!({ "input": { "name": "End-user computing", "description": "Laptops and phones", "category": "Hardware", "lifecycle": "LIVE", "supportGroupId": desk.network_group_id } }))
        .await["saveService"]["service"]["id"]
        .clone();
    let pipeline = server
        .must(
            admin,
            SERVICE,
            json!({ "input": { "name": "Quantum desk", "lifecycle": "PIPELINE" } }),
        )
        .await["saveService"]["service"]["id"]
        .clone();
    let variables = json!([
        { "name": "model", "label": "Model", "kind": "CHOICE", "required": true, "choices": ["13 inch", "15 inch"] },
        { "name": "memory_gb", "label": "Memory (GB)", "kind": "NUMBER", "min": 8, "max": 64 },
        { "name": "cost_center", "label": "Cost center", "kind": "TEXT", "required": true, "pattern": "CC-[0-9]{4}" }
    ]);
    let item = server
        .must(admin, ITEM, json!({ "input": { "serviceId": laptops, "name": "New laptop", "fulfillmentGroupId": desk.network_group_id, "approval": "MANAGER", "variables": variables } }))
        .await["saveCatalogItem"]["catalogItem"]["id"]
        .clone();
    server
        .must(admin, "mutation($u: ID!, $m: ID) { setUserManager(input: { userId: $u, managerId: $m }) { user { id } } }", json!({ "u": desk.requester.id, "m": desk.manager.id }))
        .await;

    // Rita browses: only the live service, found by a word of its description.
    let rita = &desk.requester.token;
    let browse = server.must(rita, "query($s: String) { services(search: $s) { name items { name variables { name kind required } } } }", json!({ "s": "LAPTOPS" })).await;
    assert_eq!(browse["services"].as_array().unwrap().len(), 1);
    assert_eq!(
        browse["services"][0]["items"][0]["variables"][0],
        json!({ "name": "model", "kind": "CHOICE", "required": true })
    );
    // By id, likewise: the live service is there, the one in the pipeline is not.
    let node = "query($id: ID!) { node(id: $id) { ... on Service { name } } }";
    assert_eq!(
        server.must(rita, node, json!({ "id": laptops })).await["node"]["name"],
        "End-user computing"
    );
    let hidden = server
        .gql(Some(rita), node, json!({ "id": pipeline }))
        .await;
    assert_eq!(hidden.error_code(), "NOT_FOUND");
    let all = server
        .must(rita, "{ services { name } }", Value::Null)
        .await;
    assert_eq!(
        all["services"],
        json!([{ "name": "End-user computing" }]),
        "requesters see live services only"
    );

    // A missing required answer, and a value out of range: refused, naming the question.
    for (answers, field) in [
        (json!({ "cost_center": "CC-1234" }), "answers.model"),
        (
            json!({ "model": "13 inch", "cost_center": "CC-1234", "memory_gb": 128 }),
            "answers.memory_gb",
        ),
        (
            json!({ "model": "13 inch", "cost_center": "42" }),
            "answers.cost_center",
        ),
    ] {
        let reply = server
            .gql(
                Some(rita),
                ORDER,
                json!({ "input": { "itemId": item, "answers": answers } }),
            )
            .await;
        assert_eq!(
            reply.error_code(),
            "BAD_USER_INPUT",
            "{field}: {:#}",
            reply.body
        );
        assert_eq!(reply.body["errors"][0]["extensions"]["field"], field);
    }
    let count = server
        .must(admin, "{ ticketCounts { total } }", Value::Null)
        .await;
    assert_eq!(
        count["ticketCounts"]["total"], 0,
        "refused orders write nothing"
    );

    // A good order: a service request held for the manager, its clock paused.
    let answers = json!({ "model": "13 inch", "memory_gb": 32, "cost_center": "CC-1234" });
    let ordered = server
        .must(
            rita,
            ORDER,
            json!({ "input": { "itemId": item, "answers": answers, "note": "For the new hire" } }),
        )
        .await;
    let ticket = ordered["orderCatalogItem"]["ticket"].clone();
    assert_eq!(ticket["number"], "REQ0000001");
    assert_eq!(ticket["kind"], "SERVICE_REQUEST");
    assert_eq!(
        (ticket["status"].as_str(), ticket["pendingReason"].as_str()),
        (Some("PENDING"), Some("AWAITING_APPROVAL"))
    );
    assert_eq!(ticket["catalogRequest"]["approvalState"], "PENDING");
    assert_eq!(ticket["catalogRequest"]["answers"], answers);
    assert_eq!(
        ticket["slaClocks"],
        json!([{ "metric": "RESOLUTION", "state": "PAUSED" }])
    );

    // Only the approver decides.
    let ada = &desk.agents[0].token;
    let refused = server
        .gql(
            Some(ada),
            DECIDE,
            json!({ "input": { "ticketId": ticket["id"], "approve": true } }),
        )
        .await;
    assert_eq!(refused.error_code(), "FORBIDDEN");
    let mona = &desk.manager.token;
    let waiting = server
        .must(
            mona,
            "{ approvalsAwaitingMe { item { name } ticket { number } } }",
            Value::Null,
        )
        .await;
    assert_eq!(
        waiting["approvalsAwaitingMe"],
        json!([{ "item": { "name": "New laptop" }, "ticket": { "number": "REQ0000001" } }])
    );
    let approved = server
        .must(
            mona,
            DECIDE,
            json!({ "input": { "ticketId": ticket["id"], "approve": true, "comment": "ok" } }),
        )
        .await;
    let approved = &approved["decideCatalogOrder"]["ticket"];
    assert_eq!(
        (
            approved["status"].as_str(),
            approved["group"]["name"].as_str()
        ),
        (Some("NEW"), Some("Network"))
    );
    assert_eq!(approved["pendingReason"], Value::Null);
    assert_eq!(approved["slaClocks"], json!([{ "state": "RUNNING" }]));
    assert_eq!(approved["catalogRequest"]["approvalState"], "APPROVED");
    let again = server.gql(Some(mona), DECIDE, json!({ "input": { "ticketId": ticket["id"], "approve": false, "comment": "changed my mind" } })).await;
    assert_eq!(again.error_code(), "CONFLICT");
    let history = server
        .must(
            ada,
            "query($n: String!) { ticket(number: $n) { history { nodes { action } } } }",
            json!({ "n": "REQ0000001" }),
        )
        .await;
    let actions: Vec<&str> = history["ticket"]["history"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"catalog.ordered") && actions.contains(&"catalog.order_approved"),
        "{actions:?}"
    );

    // A rejection needs a reason and cancels the request.
    let second = server
        .must(
            rita,
            ORDER,
            json!({ "input": { "itemId": item, "answers": answers } }),
        )
        .await["orderCatalogItem"]["ticket"]["id"]
        .clone();
    let no_reason = server
        .gql(
            Some(mona),
            DECIDE,
            json!({ "input": { "ticketId": second, "approve": false } }),
        )
        .await;
    assert_eq!(
        no_reason.body["errors"][0]["extensions"]["field"],
        "comment"
    );
    let rejected = server.must(mona, DECIDE, json!({ "input": { "ticketId": second, "approve": false, "comment": "One laptop is enough" } })).await;
    assert_eq!(
        rejected["decideCatalogOrder"]["ticket"]["status"],
        "CANCELLED"
    );
    assert_eq!(
        rejected["decideCatalogOrder"]["ticket"]["catalogRequest"]["decisionComment"],
        "One laptop is enough"
    );
}

async fn items_without_approval_are_routed_at_once(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let admin = &desk.admin;
    let service = server
        .must(
            admin,
            SERVICE,
            json!({ "input": { "name": "Remote access", "lifecycle": "LIVE" } }),
        )
        .await["saveService"]["service"]["id"]
        .clone();
    let item = server
        .must(admin, ITEM, json!({ "input": { "serviceId": service, "name": "VPN access", "fulfillmentGroupId": desk.network_group_id,
            "variables": [{ "name": "reason", "label": "Why", "kind": "TEXT", "required": true, "min": 5 }] } }))
        .await["saveCatalogItem"]["catalogItem"]["id"]
        .clone();
    let short = server
        .gql(
            Some(&desk.requester.token),
            ORDER,
            json!({ "input": { "itemId": item, "answers": { "reason": "wfh" } } }),
        )
        .await;
    assert_eq!(
        short.body["errors"][0]["extensions"]["field"],
        "answers.reason"
    );
    let ordered = server
        .must(
            &desk.requester.token,
            ORDER,
            json!({ "input": { "itemId": item, "answers": { "reason": "Working from home" } } }),
        )
        .await;
    let ticket = &ordered["orderCatalogItem"]["ticket"];
    assert_eq!(
        (ticket["status"].as_str(), ticket["group"]["name"].as_str()),
        (Some("NEW"), Some("Network"))
    );
    assert_eq!(ticket["catalogRequest"]["approvalState"], "NOT_REQUIRED");
    // A form with a broken pattern is refused when saved.
    let broken = server
        .gql(Some(admin), ITEM, json!({ "input": { "serviceId": service, "name": "Broken", "fulfillmentGroupId": desk.network_group_id,
            "variables": [{ "name": "x", "label": "X", "kind": "TEXT", "pattern": "(" }] } }))
        .await;
    assert_eq!(broken.body["errors"][0]["extensions"]["field"], "variables");
}

on_both_backends!(
    ordering_checks_the_form_and_approval_releases_the_request,
    items_without_approval_are_routed_at_once
);
