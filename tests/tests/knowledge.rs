//! Knowledge: the article lifecycle and its versions, what requesters may read, ranked
//! search and suggestions for a ticket.

use serde_json::{Value, json};
use switchboard_tests::{Backend, TestServer, on_both_backends};

const SAVE: &str = "mutation($input: SaveArticleInput!) { saveArticle(input: $input) { article { id version status } } }";
const TRANSITION: &str = "mutation($input: TransitionArticleInput!) { transitionArticle(input: $input) { article { id version status publishedVersion } } }";
const SEARCH: &str =
    "query($text: String!) { searchArticles(text: $text) { score article { number title } } }";

/// Writes an article and takes it through review to publication.
async fn publish(
    server: &TestServer,
    token: &str,
    title: &str,
    body: &str,
    visibility: &str,
) -> Value {
    let article = server
        .must(
            token,
            SAVE,
            json!({ "input": { "title": title, "body": body, "visibility": visibility } }),
        )
        .await["saveArticle"]["article"]
        .clone();
    let mut version = article["version"].as_i64().unwrap();
    for to in ["REVIEW", "PUBLISHED"] {
        version = server
            .must(
                token,
                TRANSITION,
                json!({ "input": { "id": article["id"], "version": version, "to": to } }),
            )
            .await["transitionArticle"]["article"]["version"]
            .as_i64()
            .unwrap();
    }
    article["id"].clone()
}

fn titles(found: &Value) -> Vec<&str> {
    found
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["article"]["title"].as_str().unwrap())
        .collect()
}

async fn a_known_errors_article_ranks_first_for_its_words(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let ada = &desk.agents[0].token;
    publish(
        &server,
        ada,
        "Setting up the VPN client",
        "Install the VPN client from the portal and sign in. The VPN works on any network.",
        "PUBLIC",
    )
    .await;
    publish(
        &server,
        ada,
        "Printer shows offline",
        "Restart the printer, then check its network cable.",
        "PUBLIC",
    )
    .await;
    publish(
        &server,
        ada,
        "Certificates for Wi-Fi",
        "Your laptop needs a certificate to join the office Wi-Fi.",
        "PUBLIC",
    )
    .await;

    // A known error: its draft article is reviewed and published for the desk.
    let problem = server
        .must(ada, "mutation { createProblem(input: { title: \"VPN drops after an hour\", description: \"Sessions end after 60 minutes\" }) { problem { id } } }", Value::Null)
        .await["createProblem"]["problem"]["id"]
        .clone();
    for (version, to) in [(1, "UNDER_INVESTIGATION")] {
        server.must(ada, "mutation($input: TransitionProblemInput!) { transitionProblem(input: $input) { problem { version } } }", json!({ "input": { "id": problem, "version": version, "to": to } })).await;
    }
    server
        .must(ada, "mutation($id: ID!) { updateProblem(input: { id: $id, version: 2, rootCause: \"The concentrator expires sessions after 60 minutes\", workaround: \"Delete the cached session certificate in the VPN client, then reconnect\" }) { problem { id } } }", json!({ "id": problem }))
        .await;
    server.must(ada, "mutation($input: TransitionProblemInput!) { transitionProblem(input: $input) { problem { version } } }", json!({ "input": { "id": problem, "version": 3, "to": "KNOWN_ERROR" } })).await;
    let draft = server
        .must(
            ada,
            "query($id: ID!) { node(id: $id) { ... on Problem { articles { id version } } } }",
            json!({ "id": problem }),
        )
        .await["node"]["articles"][0]
        .clone();
    let mut version = draft["version"].as_i64().unwrap();
    for to in ["REVIEW", "PUBLISHED"] {
        version = server
            .must(
                ada,
                TRANSITION,
                json!({ "input": { "id": draft["id"], "version": version, "to": to } }),
            )
            .await["transitionArticle"]["article"]["version"]
            .as_i64()
            .unwrap();
    }

    let linked = server
        .must(
            ada,
            "query($id: ID!) { node(id: $id) { ... on Article { linkedProblems { title } } } }",
            json!({ "id": draft["id"] }),
        )
        .await;
    assert_eq!(
        linked["node"]["linkedProblems"],
        json!([{ "title": "VPN drops after an hour" }])
    );
    let found = server
        .must(
            ada,
            SEARCH,
            json!({ "text": "vpn client certificate reconnect" }),
        )
        .await["searchArticles"]
        .clone();
    assert_eq!(
        titles(&found)[0],
        "Known error: VPN drops after an hour",
        "the known error first: {found}"
    );
    assert!(titles(&found).contains(&"Setting up the VPN client"));
    assert!(
        !titles(&found).contains(&"Printer shows offline"),
        "no shared word, not found"
    );
    let scores: Vec<f64> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["score"].as_f64().unwrap())
        .collect();
    assert!(
        scores.windows(2).all(|w| w[0] >= w[1]),
        "best first: {scores:?}"
    );

    // A new incident in the same words is offered the same article; Rita, who may not
    // read internal articles, is offered the public ones only.
    let suggested = "mutation($input: CreateTicketInput!) { createTicket(input: $input) { ticket { suggestedArticles { article { title } } } } }";
    let input = json!({ "input": { "kind": "INCIDENT", "title": "VPN keeps dropping", "description": "The VPN client asks me to reconnect every hour" } });
    let for_agent = server.must(ada, suggested, input.clone()).await;
    assert_eq!(
        titles(&for_agent["createTicket"]["ticket"]["suggestedArticles"])[0],
        "Known error: VPN drops after an hour"
    );
    let for_rita = server.must(&desk.requester.token, suggested, input).await;
    let offered = titles(&for_rita["createTicket"]["ticket"]["suggestedArticles"]);
    assert_eq!(offered[0], "Setting up the VPN client");
    assert!(
        !offered.iter().any(|t| t.starts_with("Known error")),
        "{offered:?}"
    );
}

async fn requesters_read_published_public_articles_only(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let ada = &desk.agents[0].token;
    let rita = &desk.requester.token;
    let read = "query($id: ID!) { node(id: $id) { ... on Article { title body helpfulYes } } }";

    let draft = server
        .must(ada, SAVE, json!({ "input": { "title": "Reset your password", "body": "Use the portal.", "visibility": "PUBLIC" } }))
        .await["saveArticle"]["article"]
        .clone();
    let internal = publish(
        &server,
        ada,
        "Admin passwords",
        "Rotate them in the vault.",
        "INTERNAL",
    )
    .await;
    for id in [&draft["id"], &internal] {
        let hidden = server.gql(Some(rita), read, json!({ "id": id })).await;
        assert_eq!(
            hidden.error_code(),
            "NOT_FOUND",
            "a draft or internal article is not there for Rita"
        );
    }
    assert_eq!(
        titles(
            &server
                .must(rita, SEARCH, json!({ "text": "passwords vault" }))
                .await["searchArticles"]
        ),
        Vec::<&str>::new()
    );
    assert_eq!(
        server
            .must(
                rita,
                "{ articles { edges { node { title } } } }",
                Value::Null
            )
            .await["articles"]["edges"],
        json!([])
    );

    // Off the table: a draft cannot be published without review.
    let skipped = server
        .gql(
            Some(ada),
            TRANSITION,
            json!({ "input": { "id": draft["id"], "version": 1, "to": "PUBLISHED" } }),
        )
        .await;
    assert_eq!(skipped.error_code(), "INVALID_TRANSITION");
    assert_eq!(
        skipped.body["errors"][0]["extensions"]["allowed"],
        json!(["REVIEW", "RETIRED"])
    );
    let mut version = 1;
    for to in ["REVIEW", "PUBLISHED"] {
        version = server
            .must(
                ada,
                TRANSITION,
                json!({ "input": { "id": draft["id"], "version": version, "to": to } }),
            )
            .await["transitionArticle"]["article"]["version"]
            .as_i64()
            .unwrap();
    }
    let shown = server.must(rita, read, json!({ "id": draft["id"] })).await;
    assert_eq!(shown["node"]["title"], "Reset your password");

    // A revision in progress does not show until it is published again, as version 2.
    let edited = server
        .must(ada, SAVE, json!({ "input": { "id": draft["id"], "version": version, "title": "Reset your password (new portal)", "body": "Use the new portal.", "visibility": "PUBLIC" } }))
        .await["saveArticle"]["article"]
        .clone();
    assert_eq!(
        server.must(rita, read, json!({ "id": draft["id"] })).await["node"]["title"],
        "Reset your password"
    );
    let mut version = edited["version"].as_i64().unwrap();
    for to in ["REVIEW", "PUBLISHED"] {
        let moved = server
            .must(
                ada,
                TRANSITION,
                json!({ "input": { "id": draft["id"], "version": version, "to": to } }),
            )
            .await["transitionArticle"]["article"]
            .clone();
        version = moved["version"].as_i64().unwrap();
        if to == "PUBLISHED" {
            assert_eq!(moved["publishedVersion"], 2);
        }
    }
    assert_eq!(
        server.must(rita, read, json!({ "id": draft["id"] })).await["node"]["title"],
        "Reset your password (new portal)"
    );
    let versions = server
        .must(
            ada,
            "query($id: ID!) { node(id: $id) { ... on Article { versions { number title } } } }",
            json!({ "id": draft["id"] }),
        )
        .await;
    assert_eq!(
        versions["node"]["versions"],
        json!([{ "number": 1, "title": "Reset your password" }, { "number": 2, "title": "Reset your password (new portal)" }])
    );
    // Was it helpful? Rita says yes.
    let rated = server
        .must(rita, "mutation($id: ID!) { rateArticle(id: $id, helpful: true) { article { helpfulYes helpfulNo } } }", json!({ "id": draft["id"] }))
        .await;
    assert_eq!(
        rated["rateArticle"]["article"],
        json!({ "helpfulYes": 1, "helpfulNo": 0 })
    );
    // Retired, it is gone for her; and she may not write articles.
    server
        .must(
            ada,
            TRANSITION,
            json!({ "input": { "id": draft["id"], "version": version, "to": "RETIRED" } }),
        )
        .await;
    assert_eq!(
        server
            .gql(Some(rita), read, json!({ "id": draft["id"] }))
            .await
            .error_code(),
        "NOT_FOUND"
    );
    let write = server
        .gql(
            Some(rita),
            SAVE,
            json!({ "input": { "title": "Mine", "visibility": "PUBLIC" } }),
        )
        .await;
    assert_eq!(write.error_code(), "FORBIDDEN");
}

on_both_backends!(
    a_known_errors_article_ranks_first_for_its_words,
    requesters_read_published_public_articles_only,
);
