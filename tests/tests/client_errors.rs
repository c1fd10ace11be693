//! What a client that gets something wrong is told, on both backends: a name that is
//! taken is `CONFLICT` naming the field, with nothing written; a field that fails is
//! `null` beside its error and present in `data`, as the GraphQL spec and Relay want; an
//! empty identifier is `BAD_USER_INPUT` naming the argument.

use serde_json::{Value, json};
use switchboard_tests::{Backend, Reply, TestServer, on_both_backends};

on_both_backends!(
    every_unique_name_taken_is_a_conflict_naming_the_field,
    a_failed_nullable_field_is_present_and_null,
    empty_identifiers_are_bad_input,
);

/// Runs `mutation` expecting a name clash on `field`, and checks that `snapshot` (a
/// query of what the mutation would have changed) reads the
/// same before and after.
async fn taken(
    server: &TestServer,
    token: &str,
    mutation: &str,
    variables: Value,
    snapshot: &str,
    field: &str,
) {
    let before = server.must(token, snapshot, Value::Null).await;
    let reply = server.gql(Some(token), mutation, variables).await;
    assert_eq!(
        reply.error_code(),
        "CONFLICT",
        "{mutation}: {:#}",
        reply.body
    );
    let error = &reply.body["errors"][0];
    assert!(
        error["extensions"].get("field").is_some(),
        "the field is named: {error}"
    );
    assert_eq!(error["extensions"]["field"], field, "{error}");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("exists already"), "{message}");
    assert!(
        !message.contains("UNIQUE") && !message.contains("duplicate key"),
        "no SQL reaches the client: {message}"
    );
    let after = server.must(token, snapshot, Value::Null).await;
    assert_eq!(before, after, "{mutation} changed something");
}

async fn every_unique_name_taken_is_a_conflict_naming_the_field(backend: Backend) {
    let server = TestServer::start(backend).await;
    let admin = server.token("admin", &["admin"]);
    let created = |query: &'static str, variables: Value| {
        let (server, admin) = (&server, &admin);
        async move { server.must(admin, query, variables).await }
    };

    // Organizations: created with a taken name, and renamed to one.
    let org =
        "mutation($n: String!) { createOrganization(input: { name: $n }) { organization { id } } }";
    created(org, json!({ "n": "Acme" })).await;
    let globex = created(org, json!({ "n": "Globex" })).await["createOrganization"]["organization"]
        ["id"]
        .clone();
    let organizations = "{ organizations { id name } }";
    taken(
        &server,
        &admin,
        org,
        json!({ "n": "Acme" }),
        organizations,
        "name",
    )
    .await;
    taken(
        &server,
        &admin,
        "mutation($id: ID!) { updateOrganization(input: { id: $id, name: \"Acme\" }) { organization { id } } }",
        json!({ "id": globex }),
        organizations,
        "name",
    )
    .await;

    // Groups, categories (the same name under the same parent) and calendars.
    let group =
        "mutation($n: String!) { saveGroup(input: { name: $n, tier: 1 }) { group { id } } }";
    created(group, json!({ "n": "Network" })).await;
    taken(
        &server,
        &admin,
        group,
        json!({ "n": "Network" }),
        "{ groups { id name } }",
        "name",
    )
    .await;
    let category = "mutation($n: String!, $p: ID) { createCategory(input: { name: $n, parentId: $p }) { category { id } } }";
    let hardware =
        created(category, json!({ "n": "Hardware" })).await["createCategory"]["category"]["id"]
            .clone();
    created(category, json!({ "n": "Laptops", "p": hardware })).await;
    let categories = "{ categories { id name } }";
    taken(
        &server,
        &admin,
        category,
        json!({ "n": "Hardware" }),
        categories,
        "name",
    )
    .await;
    taken(
        &server,
        &admin,
        category,
        json!({ "n": "Laptops", "p": hardware }),
        categories,
        "name",
    )
    .await;
    let calendar = "mutation { saveCalendar(input: { name: \"Office hours\", timeZone: \"UTC\", week: [[\"09:00-17:00\"], [], [], [], [], [], []] }) { calendar { id } } }";
    created(calendar, Value::Null).await;
    taken(
        &server,
        &admin,
        calendar,
        Value::Null,
        "{ calendars { id name } }",
        "name",
    )
    .await;

    // The catalog's services and the change templates.
    let service = "mutation { saveService(input: { name: \"Online banking\", lifecycle: LIVE, criticality: CRITICAL }) { service { id } } }";
    created(service, Value::Null).await;
    taken(
        &server,
        &admin,
        service,
        Value::Null,
        "{ services { id name } }",
        "name",
    )
    .await;
    let template = "mutation { saveChangeTemplate(input: { name: \"Rotate TLS certificate\", implementationPlan: \"Install it\", rollbackPlan: \"Reinstall the old one\", testPlan: \"Open the site\" }) { id } }";
    created(template, Value::Null).await;
    taken(
        &server,
        &admin,
        template,
        Value::Null,
        "{ changeTemplates { id name } }",
        "name",
    )
    .await;

    // The CMDB: classes, relationship types, items by external key, relationships.
    let class = "mutation { saveCiClass(input: { name: \"Appliance\" }) { ciClass { id } } }";
    let servers = created(class, Value::Null).await["saveCiClass"]["ciClass"]["id"].clone();
    taken(
        &server,
        &admin,
        class,
        Value::Null,
        "{ ciClasses { id name } }",
        "name",
    )
    .await;
    let kind = "mutation { saveRelationshipType(input: { name: \"MIRRORS\", forwardLabel: \"mirrors\", reverseLabel: \"is mirrored by\" }) { relationshipType { id } } }";
    created(kind, Value::Null).await;
    taken(
        &server,
        &admin,
        kind,
        Value::Null,
        "{ relationshipTypes { id name } }",
        "name",
    )
    .await;
    let item = "mutation($c: ID!, $n: String!) { createConfigurationItem(input: { classId: $c, name: $n, externalKey: \"srv-1\" }) { configurationItem { id } } }";
    let one = created(item, json!({ "c": servers, "n": "srv-1" })).await["createConfigurationItem"]
        ["configurationItem"]["id"]
        .clone();
    let items = "{ configurationItems(first: 50) { nodes { id name } } }";
    taken(
        &server,
        &admin,
        item,
        json!({ "c": servers, "n": "srv-1 again" }),
        items,
        "externalKey",
    )
    .await;
    let other = created(
        "mutation($c: ID!) { createConfigurationItem(input: { classId: $c, name: \"srv-2\" }) { configurationItem { id } } }",
        json!({ "c": servers }),
    )
    .await["createConfigurationItem"]["configurationItem"]["id"]
        .clone();
    let relate = "mutation($s: ID!, $t: ID!) { relateConfigurationItems(input: { sourceId: $s, targetId: $t, type: \"MIRRORS\" }) { relationship { id } } }";
    created(relate, json!({ "s": one, "t": other })).await;
    let reply = server
        .gql(Some(&admin), relate, json!({ "s": one, "t": other }))
        .await;
    assert_eq!(reply.error_code(), "CONFLICT", "{:#}", reply.body);
    assert!(
        reply.error_message().contains("exists already"),
        "{}",
        reply.error_message()
    );
}

/// `data` with `key` present, after checking there is a `data` object at all.
fn present<'a>(reply: &'a Reply, key: &str) -> &'a Value {
    let data = reply.body.get("data").expect("a data key");
    assert!(data.is_object(), "data is an object: {:#}", reply.body);
    data.get(key)
        .unwrap_or_else(|| panic!("data.{key} is present: {:#}", reply.body))
}

async fn a_failed_nullable_field_is_present_and_null(backend: Backend) {
    let server = TestServer::start(backend).await;
    let manager = server.person("mona", &["manager"]).await;
    let missing = switchboard_tests::server::global_id("Ticket", 999_999);

    // Alone: data is an object with node null, not data null.
    let reply = server
        .gql(
            Some(&manager.token),
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": missing }),
        )
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(present(&reply, "node"), &Value::Null);
    assert_eq!(reply.error_code(), "NOT_FOUND");
    assert_eq!(reply.body["errors"][0]["path"], json!(["node"]));

    // Beside another field, in the place the query gave it.
    let reply = server
        .gql(
            Some(&manager.token),
            "query($id: ID!) { node(id: $id) { id } viewer { name } }",
            json!({ "id": missing }),
        )
        .await;
    assert_eq!(present(&reply, "node"), &Value::Null);
    assert_eq!(present(&reply, "viewer")["name"], "mona");
    let keys: Vec<&String> = reply.body["data"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["node", "viewer"]);

    // Another nullable field whose resolver fails, under an alias.
    let reply = server
        .gql(
            Some(&manager.token),
            "{ viewer { name } item: configurationItemByKey(externalKey: \" \") { id } }",
            Value::Null,
        )
        .await;
    assert_eq!(present(&reply, "item"), &Value::Null);
    assert_eq!(present(&reply, "viewer")["name"], "mona");
    assert_eq!(reply.error_code(), "BAD_USER_INPUT");

    // A non-null field that fails nulls its nearest nullable parent: here the root.
    let reply = server
        .gql(
            Some(&manager.token),
            "{ viewer { name } ticket(number: \"INC9999999\") { id } }",
            Value::Null,
        )
        .await;
    assert!(reply.body.get("data").is_some(), "{:#}", reply.body);
    assert_eq!(reply.body["data"], Value::Null);
    assert_eq!(reply.error_code(), "NOT_FOUND");
}

async fn empty_identifiers_are_bad_input(backend: Backend) {
    let server = TestServer::start(backend).await;
    let manager = server.person("mona", &["manager"]).await;
    for (query, field) in [
        ("{ ticket(number: \"\") { id } }", "number"),
        ("{ ticket(number: \"   \") { id } }", "number"),
        ("{ node(id: \"\") { id } }", "id"),
        (
            "{ configurationItemByKey(externalKey: \"\") { id } }",
            "externalKey",
        ),
    ] {
        let reply = server.gql(Some(&manager.token), query, Value::Null).await;
        assert_eq!(
            reply.error_code(),
            "BAD_USER_INPUT",
            "{query}: {:#}",
            reply.body
        );
        let error = &reply.body["errors"][0];
        assert!(error["extensions"].get("field").is_some(), "{error}");
        assert_eq!(error["extensions"]["field"], field, "{query}");
        let message = error["message"].as_str().unwrap();
        assert!(message.contains("empty"), "{query}: {message}");
        assert!(
            !message.contains("  "),
            "no hole where the identifier was: {message}"
        );
    }
    // A mutation's id too.
    let reply = server
        .gql(
            Some(&manager.token),
            "mutation { transitionTicket(input: { id: \"\", version: 1, status: IN_PROGRESS }) { ticket { id } } }",
            Value::Null,
        )
        .await;
    assert_eq!(reply.error_code(), "BAD_USER_INPUT", "{:#}", reply.body);
    assert_eq!(reply.body["errors"][0]["extensions"]["field"], "id");
}
