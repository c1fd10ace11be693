//! The CMDB: items with checked attributes, relationships, impact analysis, and bulk
//! import from a discovery tool, over the API and from the command line.

use std::process::Command;

use serde_json::{Value, json};
use switchboard_tests::{Backend, TestServer, cmdb::layered_import, on_both_backends};

const CREATE: &str = "mutation($input: CreateConfigurationItemInput!) {
    createConfigurationItem(input: $input) { configurationItem { id name version attributes } } }";
const RELATE: &str = "mutation($s: ID!, $t: ID!, $type: String!) {
    relateConfigurationItems(input: { sourceId: $s, targetId: $t, type: $type }) { relationship { id } } }";
const IMPORT: &str = "mutation($input: ImportConfigurationItemsInput!) {
    importConfigurationItems(input: $input) {
        applied created updated unchanged relationshipsCreated relationshipsUnchanged
        rejected { section row externalKey field reason } } }";
const IMPACT: &str = "query($id: ID!, $depth: Int) { node(id: $id) { ... on ConfigurationItem {
    impact(maxDepth: $depth) {
        affectedCount truncated
        affected { depth via configurationItem { name } path { name } }
        businessServices { configurationItem { name } }
        services { name }
        openTickets { number }
        openChanges { title }
    } } } }";

async fn class_id(server: &TestServer, admin: &str, name: &str) -> Value {
    let classes = server
        .must(admin, "{ ciClasses { id name } }", Value::Null)
        .await;
    classes["ciClasses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("class {name}"))["id"]
        .clone()
}

async fn create(server: &TestServer, admin: &str, input: Value) -> Value {
    server.must(admin, CREATE, json!({ "input": input })).await["createConfigurationItem"]
        ["configurationItem"]["id"]
        .clone()
}

fn names(list: &Value, path: &[&str]) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            path.iter()
                .fold(entry, |value, key| &value[*key])
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

async fn impact_counts_a_diamond_once_by_its_shortest_path_and_ends_on_a_cycle(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let admin = &desk.admin;
    let banking = server
        .must(admin, "mutation { saveService(input: { name: \"Online banking\", lifecycle: LIVE }) { service { id } } }", Value::Null)
        .await["saveService"]["service"]["id"]
        .clone();
    let business = class_id(&server, admin, "Business service").await;
    let application = class_id(&server, admin, "Application").await;
    let database = class_id(&server, admin, "Database").await;

    // The portal needs two applications, which share one database (a diamond), and a
    // gateway that reaches the database through a cache (a longer way round).
    let db = create(
        &server,
        admin,
        json!({ "classId": database, "name": "Core DB", "attributes": { "engine": "PostgreSQL" } }),
    )
    .await;
    let app_a = create(
        &server,
        admin,
        json!({ "classId": application, "name": "Accounts" }),
    )
    .await;
    let app_b = create(
        &server,
        admin,
        json!({ "classId": application, "name": "Payments" }),
    )
    .await;
    let cache = create(
        &server,
        admin,
        json!({ "classId": database, "name": "Cache" }),
    )
    .await;
    let gateway = create(
        &server,
        admin,
        json!({ "classId": application, "name": "Gateway" }),
    )
    .await;
    let portal = create(
        &server,
        admin,
        json!({ "classId": business, "name": "Banking portal", "serviceId": banking }),
    )
    .await;
    for (source, target) in [
        (&app_a, &db),
        (&app_b, &db),
        (&portal, &app_a),
        (&portal, &app_b),
        (&cache, &db),
        (&gateway, &cache),
        (&portal, &gateway),
    ] {
        server
            .must(
                admin,
                RELATE,
                json!({ "s": source, "t": target, "type": "DEPENDS_ON" }),
            )
            .await;
    }
    // An incident about Payments: the database's impact lists it.
    let incident = server
        .must(&desk.agents[0].token, "mutation($input: CreateTicketInput!) { createTicket(input: $input) { ticket { number impactAnalysis { services { name } businessServices { configurationItem { name } } } } } }",
            json!({ "input": { "kind": "INCIDENT", "title": "Payments time out", "configurationItemIds": [app_b] } }))
        .await["createTicket"]["ticket"]
        .clone();
    assert_eq!(
        incident["impactAnalysis"]["services"],
        json!([{ "name": "Online banking" }]),
        "an incident on a CI shows the services it affects"
    );

    // A change planned on Accounts: the database's impact lists it too.
    server
        .must(&desk.agents[0].token, "mutation($i: ID!) { createChange(input: { type: NORMAL, title: \"Add an index to Accounts\", configurationItemIds: [$i] }) { change { id } } }", json!({ "i": app_a }))
        .await;
    let impact = server
        .must(admin, IMPACT, json!({ "id": db, "depth": 10 }))
        .await["node"]["impact"]
        .clone();
    let affected = impact["affected"].as_array().unwrap();
    let portals: Vec<&Value> = affected
        .iter()
        .filter(|a| a["configurationItem"]["name"] == "Banking portal")
        .collect();
    assert_eq!(portals.len(), 1, "reached twice, counted once: {impact}");
    assert_eq!(portals[0]["depth"], 2);
    assert_eq!(
        names(&portals[0]["path"], &["name"]),
        ["Core DB", "Accounts", "Banking portal"],
        "the shortest path, not the one through the cache"
    );
    assert_eq!(portals[0]["via"], json!(["depends on", "depends on"]));
    assert_eq!(impact["affectedCount"], 5);
    assert_eq!(impact["truncated"], false);
    assert_eq!(
        names(&impact["businessServices"], &["configurationItem", "name"]),
        ["Banking portal"]
    );
    assert_eq!(impact["services"], json!([{ "name": "Online banking" }]));
    assert_eq!(
        impact["openTickets"],
        json!([{ "number": incident["number"] }])
    );
    assert_eq!(
        impact["openChanges"],
        json!([{ "title": "Add an index to Accounts" }])
    );

    // One level only: the rest is said to be there.
    let shallow = server
        .must(admin, IMPACT, json!({ "id": db, "depth": 1 }))
        .await["node"]["impact"]
        .clone();
    assert_eq!(shallow["affectedCount"], 3);
    assert_eq!(shallow["truncated"], true);

    // Close a cycle: the database now depends on the portal. The walk still ends, and
    // the failed item is not among those it affects.
    server
        .must(
            admin,
            RELATE,
            json!({ "s": db, "t": portal, "type": "DEPENDS_ON" }),
        )
        .await;
    let cyclic = server
        .must(admin, IMPACT, json!({ "id": app_a, "depth": 50 }))
        .await["node"]["impact"]
        .clone();
    let reached = names(&cyclic["affected"], &["configurationItem", "name"]);
    assert_eq!(
        reached,
        ["Banking portal", "Core DB", "Payments", "Cache", "Gateway"],
        "each once, nearest first"
    );

    // The graph around the database, ready to draw, and its history.
    let graph = server
        .must(admin, "query($id: ID!) { node(id: $id) { ... on ConfigurationItem {
            graph(depth: 1) { nodes { distance configurationItem { name } } edges { type { name } source { name } target { name } } }
            history { edges { node { action } } } } } }", json!({ "id": db }))
        .await["node"]
        .clone();
    assert_eq!(graph["graph"]["nodes"].as_array().unwrap().len(), 5);
    assert_eq!(
        graph["graph"]["edges"].as_array().unwrap().len(),
        6,
        "every relationship among the five, the portal's to the applications too"
    );
    let actions = names(&graph["history"]["edges"], &["node", "action"]);
    assert_eq!(actions[0], "ci.created");
    assert_eq!(actions.iter().filter(|a| *a == "ci.related").count(), 4);

    // The catalog's service lists its CIs; requesters cannot read the CMDB.
    let service = server
        .must(
            admin,
            "query($id: ID!) { node(id: $id) { ... on Service { configurationItems { name } } } }",
            json!({ "id": banking }),
        )
        .await;
    assert_eq!(
        service["node"]["configurationItems"],
        json!([{ "name": "Banking portal" }])
    );
    let refused = server
        .gql(Some(&desk.requester.token), IMPACT, json!({ "id": db }))
        .await;
    assert_eq!(refused.error_code(), "FORBIDDEN");
}

async fn attributes_are_checked_against_the_class_and_lists_filter_by_them(backend: Backend) {
    let server = TestServer::start(backend).await;
    let admin = server.token("admin", &["admin"]);
    let servers = class_id(&server, &admin, "Server").await;

    for (attributes, field, words) in [
        (
            json!({ "cpus": "four" }),
            "attributes.cpus",
            "takes a number",
        ),
        (
            json!({ "colour": "red" }),
            "attributes.colour",
            "has no attribute 'colour'",
        ),
    ] {
        let refused = server
            .gql(Some(&admin), CREATE, json!({ "input": { "classId": servers, "name": "web-01", "attributes": attributes } }))
            .await;
        assert_eq!(refused.error_code(), "BAD_USER_INPUT");
        assert_eq!(refused.body["errors"][0]["extensions"]["field"], field);
        assert!(
            refused.error_message().contains(words),
            "{}",
            refused.error_message()
        );
    }
    let none = server
        .must(
            &admin,
            "{ configurationItems { edges { node { id } } } }",
            Value::Null,
        )
        .await;
    assert_eq!(
        none["configurationItems"]["edges"],
        json!([]),
        "nothing half-written"
    );

    // An admin adds a class with a required choice; items follow it.
    let routers = server
        .must(&admin, "mutation($input: SaveCiClassInput!) { saveCiClass(input: $input) { ciClass { id attributes { name kind required choices } } } }",
            json!({ "input": { "name": "Router", "attributes": [
                { "name": "tier", "kind": "ENUM", "required": true, "choices": ["CORE", "EDGE"] },
                { "name": "installed", "kind": "DATE" } ] } }))
        .await["saveCiClass"]["ciClass"]
        .clone();
    let missing = server
        .gql(Some(&admin), CREATE, json!({ "input": { "classId": routers["id"], "name": "r1", "attributes": { "installed": "2026-01-31" } } }))
        .await;
    assert_eq!(
        missing.body["errors"][0]["extensions"]["field"],
        "attributes.tier"
    );
    let wrong_date = server
        .gql(Some(&admin), CREATE, json!({ "input": { "classId": routers["id"], "name": "r1", "attributes": { "tier": "CORE", "installed": "31/01/2026" } } }))
        .await;
    assert_eq!(
        wrong_date.body["errors"][0]["extensions"]["field"],
        "attributes.installed"
    );

    for (name, cpus, status) in [
        ("web-01", 16, "ACTIVE"),
        ("web-02", 8, "ACTIVE"),
        ("batch-01", 16, "RETIRED"),
    ] {
        create(&server, &admin, json!({ "classId": servers, "name": name, "status": status, "attributes": { "cpus": cpus, "os": "Debian" } })).await;
    }
    let list = "query($filter: ConfigurationItemFilter) { configurationItems(filter: $filter) { edges { node { name } } } }";
    for (filter, expected) in [
        (
            json!({ "attribute": { "name": "cpus", "value": "16" } }),
            vec!["batch-01", "web-01"],
        ),
        (
            json!({ "attribute": { "name": "os", "value": "debian" }, "status": "ACTIVE" }),
            vec!["web-01", "web-02"],
        ),
        (
            json!({ "search": "WEB", "classId": servers }),
            vec!["web-01", "web-02"],
        ),
        (json!({ "classId": routers["id"] }), vec![]),
    ] {
        let found = server.must(&admin, list, json!({ "filter": filter })).await;
        assert_eq!(
            names(&found["configurationItems"]["edges"], &["node", "name"]),
            expected,
            "{filter}"
        );
    }
    // Pages follow the name order.
    let first = server
        .must(&admin, "{ configurationItems(first: 2) { edges { node { name } } pageInfo { endCursor hasNextPage } } }", Value::Null)
        .await["configurationItems"]
        .clone();
    assert_eq!(
        names(&first["edges"], &["node", "name"]),
        ["batch-01", "web-01"]
    );
    let rest = server
        .must(&admin, "query($after: String) { configurationItems(first: 2, after: $after) { edges { node { name } } pageInfo { hasNextPage } } }", json!({ "after": first["pageInfo"]["endCursor"] }))
        .await["configurationItems"]
        .clone();
    assert_eq!(names(&rest["edges"], &["node", "name"]), ["web-02"]);

    // A stale version is refused; a current one is applied and recorded.
    let web = server
        .must(&admin, "{ configurationItems(filter: { search: \"web-02\" }) { edges { node { id version } } } }", Value::Null)
        .await["configurationItems"]["edges"][0]["node"]
        .clone();
    let update = "mutation($input: UpdateConfigurationItemInput!) { updateConfigurationItem(input: $input) { configurationItem { version status attributes history { edges { node { action changes { field oldValue newValue } } } } } } }";
    let saved = server
        .must(
            &admin,
            update,
            json!({ "input": { "id": web["id"], "version": 1, "status": "MAINTENANCE" } }),
        )
        .await["updateConfigurationItem"]["configurationItem"]
        .clone();
    assert_eq!(
        (saved["version"].as_i64(), saved["status"].as_str()),
        (Some(2), Some("MAINTENANCE"))
    );
    assert_eq!(
        saved["history"]["edges"][1]["node"]["changes"],
        json!([{ "field": "status", "oldValue": "ACTIVE", "newValue": "MAINTENANCE" }])
    );
    let stale = server
        .gql(
            Some(&admin),
            update,
            json!({ "input": { "id": web["id"], "version": 1, "status": "RETIRED" } }),
        )
        .await;
    assert_eq!(stale.error_code(), "CONFLICT");
}

fn small_file() -> Value {
    json!({
        "items": [
            { "externalKey": "disc:srv-1", "class": "Server", "name": "srv-1", "attributes": { "cpus": 8, "hostname": "srv-1.local" } },
            { "externalKey": "disc:vm-1", "class": "Virtual machine", "name": "vm-1", "ownerGroup": "Network" },
            { "externalKey": "disc:app-1", "class": "Application", "name": "crm", "environment": "PRODUCTION" }
        ],
        "relationships": [
            { "source": "disc:vm-1", "target": "disc:srv-1", "type": "RUNS_ON" },
            { "source": "disc:app-1", "target": "disc:vm-1", "type": "RUNS_ON" }
        ]
    })
}

async fn importing_the_same_file_twice_changes_nothing_and_bad_rows_stop_the_batch(
    backend: Backend,
) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let admin = &desk.admin;
    let first = server
        .must(admin, IMPORT, json!({ "input": small_file() }))
        .await["importConfigurationItems"]
        .clone();
    assert_eq!(
        first,
        json!({ "applied": true, "created": 3, "updated": 0, "unchanged": 0,
                "relationshipsCreated": 2, "relationshipsUnchanged": 0, "rejected": [] })
    );
    let events_after_first = server
        .must(admin, "{ configurationItemByKey(externalKey: \"disc:vm-1\") { history { edges { node { action } } } } }", Value::Null)
        .await;
    let again = server
        .must(admin, IMPORT, json!({ "input": small_file() }))
        .await["importConfigurationItems"]
        .clone();
    assert_eq!(
        again,
        json!({ "applied": true, "created": 0, "updated": 0, "unchanged": 3,
                "relationshipsCreated": 0, "relationshipsUnchanged": 2, "rejected": [] })
    );
    let events_after_second = server
        .must(admin, "{ configurationItemByKey(externalKey: \"disc:vm-1\") { history { edges { node { action } } } } }", Value::Null)
        .await;
    assert_eq!(
        events_after_first, events_after_second,
        "an unchanged row leaves no history"
    );

    // One changed row, one new, two bad ones and a dangling relationship: nothing is
    // written, and each bad row is named with its reason.
    let mut file = small_file();
    file["items"][0]["attributes"]["cpus"] = json!(16);
    file["items"].as_array_mut().unwrap().extend([
        json!({ "externalKey": "disc:srv-2", "class": "Server", "name": "srv-2" }),
        json!({ "externalKey": "disc:bad-1", "class": "Server", "name": "bad", "attributes": { "cpus": "many" } }),
        json!({ "externalKey": "disc:bad-2", "class": "Toaster", "name": "toaster" }),
    ]);
    file["relationships"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "source": "disc:srv-2", "target": "disc:nowhere", "type": "CONNECTS_TO" }));
    let refused =
        server.must(admin, IMPORT, json!({ "input": file })).await["importConfigurationItems"]
            .clone();
    assert_eq!(refused["applied"], false);
    assert_eq!(
        (refused["created"].as_i64(), refused["updated"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(
        refused["rejected"],
        json!([
            { "section": "ITEMS", "row": 4, "externalKey": "disc:bad-1", "field": "attributes.cpus",
              "reason": "attribute 'cpus' of class 'Server' takes a number, not \"many\"" },
            { "section": "ITEMS", "row": 5, "externalKey": "disc:bad-2", "field": "class",
              "reason": "there is no class named 'Toaster'" },
            { "section": "RELATIONSHIPS", "row": 2, "externalKey": "disc:srv-2 -> disc:nowhere", "field": "target",
              "reason": "'disc:nowhere' is neither in this file nor in the CMDB" }
        ])
    );
    let srv_2 = "{ configurationItemByKey(externalKey: \"disc:srv-2\") { name } srv1: configurationItemByKey(externalKey: \"disc:srv-1\") { attributes } }";
    let untouched = server.must(admin, srv_2, Value::Null).await;
    assert_eq!(untouched["configurationItemByKey"], Value::Null);
    assert_eq!(untouched["srv1"]["attributes"]["cpus"], 8);

    // Asked to, it writes the valid rows.
    let mut input = file.clone();
    input["applyValid"] = json!(true);
    let applied =
        server.must(admin, IMPORT, json!({ "input": input })).await["importConfigurationItems"]
            .clone();
    assert_eq!(
        (
            applied["applied"].as_bool(),
            applied["created"].as_i64(),
            applied["updated"].as_i64(),
            applied["unchanged"].as_i64()
        ),
        (Some(true), Some(1), Some(1), Some(2))
    );
    let written = server.must(admin, srv_2, Value::Null).await;
    assert_eq!(written["configurationItemByKey"]["name"], "srv-2");
    assert_eq!(written["srv1"]["attributes"]["cpus"], 16);

    // A partner token needs cmdb:write.
    let reader = server
        .must(admin, "mutation { createApiToken(input: { name: \"discovery\", scopes: [\"cmdb:read\"] }) { secret } }", Value::Null)
        .await["createApiToken"]["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let forbidden = server
        .gql(Some(&reader), IMPORT, json!({ "input": small_file() }))
        .await;
    assert_eq!(forbidden.error_code(), "FORBIDDEN");
}

/// The command line, as a discovery job on the server's machine runs it.
fn import_cli(server: &TestServer, file: &std::path::Path) -> (bool, String) {
    let data_dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_switchboard-under-test"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("SWITCHBOARD_DATA_DIR", data_dir.path())
        .env("DATABASE_URL", server.database_url())
        .args(["import", "cmdb"])
        .arg(file)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let stderr = String::from_utf8_lossy(&output.stderr);
    (output.status.success(), format!("{stdout}{stderr}"))
}

async fn ten_thousand_items_import_from_the_command_line_then_impact_from_the_bottom(
    backend: Backend,
) {
    let server = TestServer::start(backend).await;
    let admin = server.token("admin", &["admin"]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cmdb.json");
    std::fs::write(&path, layered_import(20_000).to_string()).unwrap();

    let (ok, output) = import_cli(&server, &path);
    assert!(ok, "{output}");
    assert!(
        output.contains("items: 10000 created, 0 updated, 0 unchanged, 0 rejected; relationships: 20000 created, 0 unchanged"),
        "{output}"
    );
    let (ok, output) = import_cli(&server, &path);
    assert!(ok, "{output}");
    assert!(
        output.contains("items: 0 created, 0 updated, 10000 unchanged, 0 rejected; relationships: 0 created, 20000 unchanged"),
        "{output}"
    );

    // A server at the bottom: everything above it that depends on it, each once, each
    // with a path that starts at the server and climbs one layer a step.
    let bottom = server
        .must(
            &admin,
            "{ configurationItemByKey(externalKey: \"srv-7\") { id } }",
            Value::Null,
        )
        .await["configurationItemByKey"]["id"]
        .clone();
    let impact = server
        .must(&admin, IMPACT, json!({ "id": bottom, "depth": 10 }))
        .await["node"]["impact"]
        .clone();
    let affected = impact["affected"].as_array().unwrap();
    assert!(affected.len() > 10, "{impact}");
    assert_eq!(
        impact["affectedCount"].as_u64(),
        Some(affected.len() as u64)
    );
    let mut seen = std::collections::HashSet::new();
    for item in affected {
        let name = item["configurationItem"]["name"].as_str().unwrap();
        assert!(seen.insert(name.to_string()), "{name} twice");
        let path = names(&item["path"], &["name"]);
        assert_eq!(path.len() as u64, item["depth"].as_u64().unwrap() + 1);
        assert_eq!(path[0], "Server 7");
        assert_eq!(path.last().unwrap(), name);
    }
    assert!(
        affected.iter().any(|a| a["depth"] == 4),
        "the impact reaches the business services"
    );

    // A broken file is refused whole, with its rows named.
    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, json!({ "items": [{ "externalKey": "x", "class": "Server", "name": "x", "attributes": { "cpus": "two" } }] }).to_string()).unwrap();
    let (ok, output) = import_cli(&server, &broken);
    assert!(!ok);
    assert!(
        output.contains("rejected items[0] x: attributes.cpus"),
        "{output}"
    );
    assert!(output.contains("nothing was written"), "{output}");
}

async fn a_page_of_items_with_their_relations_costs_the_same_whatever_its_size(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let admin = &desk.admin;
    let servers = class_id(&server, admin, "Server").await;
    let database = class_id(&server, admin, "Database").await;
    let db = create(
        &server,
        admin,
        json!({ "classId": database, "name": "Shared DB" }),
    )
    .await;
    for i in 0..6 {
        let host = create(&server, admin, json!({ "classId": servers, "name": format!("host-{i}"), "ownerGroupId": desk.network_group_id })).await;
        server
            .must(
                admin,
                RELATE,
                json!({ "s": db, "t": host, "type": "RUNS_ON" }),
            )
            .await;
        server
            .must(&desk.agents[0].token, "mutation($i: ID!) { createTicket(input: { kind: INCIDENT, title: \"Host down\", configurationItemIds: [$i] }) { ticket { id } } }", json!({ "i": host }))
            .await;
        server
            .must(&desk.agents[0].token, "mutation($i: ID!) { createChange(input: { type: NORMAL, title: \"Patch host\", configurationItemIds: [$i] }) { change { id } } }", json!({ "i": host }))
            .await;
    }
    let page = "query($n: Int) { configurationItems(first: $n, filter: { search: \"host\" }) { edges { node {
        name class { name } ownerGroup { name }
        relationships { type { name } source { name } target { name } }
        openTickets { nodes { number } } changes { number } } } } }";
    // Each reply says what it cost (Server-Timing), apart from background work.
    let mut costs = Vec::new();
    for n in [2, 6] {
        let total_before = server.statements_run().await;
        let reply = server.gql(Some(admin), page, json!({ "n": n })).await;
        costs.push(reply.sql_statements.expect("a Server-Timing header"));
        // /metrics counts everything the process ran, this request included.
        assert!(server.statements_run().await - total_before >= costs[costs.len() - 1]);
        let edges = reply.data()["configurationItems"]["edges"]
            .as_array()
            .unwrap();
        assert_eq!(edges.len(), n);
        assert!(edges.iter().all(
            |e| e["node"]["openTickets"]["nodes"].as_array().unwrap().len() == 1
                && e["node"]["changes"].as_array().unwrap().len() == 1
                && e["node"]["relationships"][0]["source"]["name"] == "Shared DB"
        ));
    }
    assert_eq!(
        costs[0], costs[1],
        "statements for 2 and for 6 items: {costs:?}"
    );
}

on_both_backends!(
    a_page_of_items_with_their_relations_costs_the_same_whatever_its_size,
    impact_counts_a_diamond_once_by_its_shortest_path_and_ends_on_a_cycle,
    attributes_are_checked_against_the_class_and_lists_filter_by_them,
    importing_the_same_file_twice_changes_nothing_and_bad_rows_stop_the_batch,
    ten_thousand_items_import_from_the_command_line_then_impact_from_the_bottom,
);
