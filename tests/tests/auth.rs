//! People's JWTs and partners' API tokens: what is accepted, what is refused, and what
//! each may do.

use chrono::Utc;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use switchboard_tests::{Backend, TestServer, on_both_backends, server::sign_hs256};

const VIEWER: &str = "{ viewer { id nodeId kind name roles scopes } }";

fn now() -> i64 {
    Utc::now().timestamp()
}

fn claims(extra: Value) -> Value {
    let mut claims =
        json!({ "sub": "alice", "name": "Alice", "roles": ["agent"], "exp": now() + 600 });
    claims
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    claims
}

async fn refused(server: &TestServer, token: &str, why: &str) {
    let reply = server.gql(Some(token), VIEWER, Value::Null).await;
    assert_eq!(reply.status, 401, "{why}: {:#}", reply.body);
    assert_eq!(reply.error_code(), "UNAUTHENTICATED", "{why}");
}

async fn valid_jwt_makes_the_user_known(backend: Backend) {
    let server = TestServer::start(backend).await;
    let token = sign_hs256(&claims(
        json!({ "email": "alice@example.com", "roles": ["agent", "manager"], "groups": ["network"] }),
    ));
    let first = server.gql(Some(&token), VIEWER, Value::Null).await;
    let viewer = &first.data()["viewer"];
    assert_eq!(viewer["kind"], "USER");
    assert_eq!(viewer["name"], "Alice");
    assert_eq!(viewer["roles"], json!(["AGENT", "MANAGER"]));
    // The same person again is the same user; their record is readable by node id.
    let second = server.gql(Some(&token), VIEWER, Value::Null).await;
    assert_eq!(second.data()["viewer"]["id"], viewer["id"]);
    let node = server
        .gql(
            Some(&token),
            "query($id: ID!) { node(id: $id) { ... on User { subject email groups } } }",
            json!({ "id": viewer["nodeId"] }),
        )
        .await;
    assert_eq!(
        node.data()["node"],
        json!({ "subject": "alice", "email": "alice@example.com", "groups": ["network"] })
    );
    // Without a token, the caller is told to sign in.
    let anonymous = server.gql(None, VIEWER, Value::Null).await;
    assert_eq!(anonymous.error_code(), "UNAUTHENTICATED");
}

async fn bad_jwts_are_refused(backend: Backend) {
    let server = TestServer::start_with(backend, |s| {
        s.jwt_issuer = Some("https://idp.example.com".into());
        s.jwt_audience = Some("switchboard".into());
    })
    .await;
    let good = json!({ "iss": "https://idp.example.com", "aud": "switchboard" });
    // The control: a token with everything right is accepted.
    let ok = server
        .gql(
            Some(&sign_hs256(&claims(good.clone()))),
            VIEWER,
            Value::Null,
        )
        .await;
    assert_eq!(ok.data()["viewer"]["kind"], "USER");

    let with = |extra: Value| {
        let mut c = claims(good.clone());
        c.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        c
    };
    // Expired beyond the leeway.
    refused(
        &server,
        &sign_hs256(&with(json!({ "exp": now() - 3600 }))),
        "expired",
    )
    .await;
    // Not valid until later.
    refused(
        &server,
        &sign_hs256(&with(json!({ "nbf": now() + 3600 }))),
        "not yet valid",
    )
    .await;
    // Signed with another secret.
    let forged = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &with(json!({})),
        &EncodingKey::from_secret(b"another-secret-another-secret-another"),
    )
    .unwrap();
    refused(&server, &forged, "wrong signature").await;
    refused(
        &server,
        &sign_hs256(&with(json!({ "aud": "someone-else" }))),
        "wrong audience",
    )
    .await;
    refused(
        &server,
        &sign_hs256(&with(json!({ "iss": "https://evil.example.com" }))),
        "wrong issuer",
    )
    .await;
    let mut no_issuer = with(json!({}));
    no_issuer.as_object_mut().unwrap().remove("iss");
    refused(&server, &sign_hs256(&no_issuer), "missing issuer").await;
    // `alg: none`: a token with no signature at all.
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(with(json!({})).to_string())
    );
    refused(&server, &unsigned, "alg none").await;
    // Another algorithm than the configured HS256.
    let rsa = EncodingKey::from_rsa_pem(include_bytes!("../fixtures/rsa-private.pem")).unwrap();
    let rs256 =
        jsonwebtoken::encode(&Header::new(Algorithm::RS256), &with(json!({})), &rsa).unwrap();
    refused(&server, &rs256, "RS256 on an HS256 server").await;
    refused(&server, "not-a-jwt", "garbage").await;
}

async fn public_key_algorithms(backend: Backend) {
    for (algorithm, public, private) in [
        (
            "RS256",
            "fixtures/rsa-public.pem",
            include_bytes!("../fixtures/rsa-private.pem").as_slice(),
        ),
        (
            "ES256",
            "fixtures/ec-public.pem",
            include_bytes!("../fixtures/ec-private.pem").as_slice(),
        ),
    ] {
        let public_path = format!("{}/{public}", env!("CARGO_MANIFEST_DIR"));
        let server = TestServer::start_with(backend, |s| {
            s.jwt_algorithm = Some(algorithm.into());
            s.jwt_public_key = Some(public_path);
        })
        .await;
        let (alg, key) = match algorithm {
            "RS256" => (
                Algorithm::RS256,
                EncodingKey::from_rsa_pem(private).unwrap(),
            ),
            _ => (Algorithm::ES256, EncodingKey::from_ec_pem(private).unwrap()),
        };
        let token = jsonwebtoken::encode(&Header::new(alg), &claims(json!({})), &key).unwrap();
        let ok = server.gql(Some(&token), VIEWER, Value::Null).await;
        assert_eq!(ok.data()["viewer"]["name"], "Alice", "{algorithm}");
        // An HS256 token, even one signed with the public key as its secret (algorithm
        // confusion), is refused.
        let confused = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims(json!({})),
            &EncodingKey::from_secret(
                &std::fs::read(format!("{}/{public}", env!("CARGO_MANIFEST_DIR"))).unwrap(),
            ),
        )
        .unwrap();
        refused(&server, &confused, "HS256 on a public-key server").await;
    }
}

const CREATE_TOKEN: &str = "mutation($input: CreateApiTokenInput!) {
    createApiToken(input: $input) { secret apiToken { id name prefix scopes active } } }";

async fn create_token(
    server: &TestServer,
    admin: &str,
    scopes: Value,
    expires_at: Option<String>,
) -> (String, Value) {
    let reply = server
        .gql(Some(admin), CREATE_TOKEN, json!({ "input": { "name": "Monitoring bridge", "scopes": scopes, "expiresAt": expires_at } }))
        .await;
    let payload = &reply.data()["createApiToken"];
    (
        payload["secret"].as_str().unwrap().to_string(),
        payload["apiToken"].clone(),
    )
}

async fn api_tokens_do_only_what_their_scopes_allow(backend: Backend) {
    let server = TestServer::start(backend).await;
    let admin = server.token("root", &["admin"]);
    let (secret, token) =
        create_token(&server, &admin, json!(["tickets:read", "users:read"]), None).await;
    assert!(secret.starts_with("sbp_"));
    assert!(secret.starts_with(token["prefix"].as_str().unwrap()));
    assert_eq!(token["scopes"], json!(["tickets:read", "users:read"]));

    let viewer = server.gql(Some(&secret), VIEWER, Value::Null).await;
    assert_eq!(viewer.data()["viewer"]["kind"], "API_TOKEN");
    assert_eq!(
        viewer.data()["viewer"]["scopes"],
        json!(["tickets:read", "users:read"])
    );
    let users = server
        .gql(
            Some(&secret),
            "{ users(first: 10) { edges { node { subject } } } }",
            Value::Null,
        )
        .await;
    assert_eq!(users.data()["users"]["edges"][0]["node"]["subject"], "root");

    // A token without `users:read` may not list users; no token may manage tokens.
    let (narrow, _) = create_token(&server, &admin, json!(["tickets:read"]), None).await;
    let denied = server
        .gql(
            Some(&narrow),
            "{ users { edges { node { id } } } }",
            Value::Null,
        )
        .await;
    assert_eq!(denied.error_code(), "FORBIDDEN");
    assert!(
        denied.error_message().contains("users:read"),
        "{}",
        denied.error_message()
    );
    let denied = server
        .gql(
            Some(&secret),
            "{ apiTokens { edges { node { id } } } }",
            Value::Null,
        )
        .await;
    assert_eq!(denied.error_code(), "FORBIDDEN");

    // Unknown scopes are refused, naming the field, and create nothing.
    let bad = server
        .gql(
            Some(&admin),
            CREATE_TOKEN,
            json!({ "input": { "name": "x", "scopes": ["tickets:delete"] } }),
        )
        .await;
    assert_eq!(bad.error_code(), "BAD_USER_INPUT");
    assert_eq!(bad.body["errors"][0]["extensions"]["field"], "scopes");
    let listed = server
        .gql(
            Some(&admin),
            "{ apiTokens { edges { node { name } } } }",
            Value::Null,
        )
        .await;
    assert_eq!(
        listed.data()["apiTokens"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Revoked: refused at once.
    let revoke = server
        .gql(Some(&admin), "mutation($id: ID!) { revokeApiToken(input: { id: $id }) { apiToken { active revokedAt } } }", json!({ "id": token["id"] }))
        .await;
    assert_eq!(revoke.data()["revokeApiToken"]["apiToken"]["active"], false);
    let after = server.gql(Some(&secret), VIEWER, Value::Null).await;
    assert_eq!(after.status, 401);
    assert_eq!(after.error_code(), "UNAUTHENTICATED");
    assert!(after.error_message().contains("revoked"));
}

async fn expired_api_tokens_are_refused(backend: Backend) {
    let server = TestServer::start(backend).await;
    let admin = server.token("root", &["admin"]);
    // API tokens expire by the server's clock, which the test moves on.
    let soon = (Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let (secret, _) = create_token(&server, &admin, json!(["tickets:read"]), Some(soon)).await;
    assert_eq!(
        server.gql(Some(&secret), VIEWER, Value::Null).await.data()["viewer"]["kind"],
        "API_TOKEN"
    );
    server.advance(chrono::Duration::hours(2));
    let reply = server.gql(Some(&secret), VIEWER, Value::Null).await;
    assert_eq!(reply.error_code(), "UNAUTHENTICATED");
    assert!(
        reply.error_message().contains("expired"),
        "{}",
        reply.error_message()
    );
    // An expiry in the past is refused when creating.
    let past = (Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let reply = server
        .gql(
            Some(&admin),
            CREATE_TOKEN,
            json!({ "input": { "name": "late", "scopes": ["tickets:read"], "expiresAt": past } }),
        )
        .await;
    assert_eq!(reply.body["errors"][0]["extensions"]["field"], "expiresAt");
}

async fn token_secrets_are_stored_only_as_hashes(backend: Backend) {
    let server = TestServer::start(backend).await;
    let admin = server.token("root", &["admin"]);
    let (secret, _) = create_token(&server, &admin, json!(["cmdb:read"]), None).await;
    let expected_hash = hex::encode(Sha256::digest(secret.as_bytes()));
    match backend {
        Backend::Postgres => {
            let pg = switchboard_tests::services::Postgres::shared();
            let db = server.pg_database.as_deref().unwrap();
            let rows = pg.psql(db, "SELECT row_to_json(t)::text FROM api_tokens t");
            assert!(
                !rows.contains(&secret),
                "the secret is stored in plain text: {rows}"
            );
            assert!(
                !rows.contains(&secret["sbp_".len()..]),
                "the secret is stored in plain text: {rows}"
            );
            assert!(
                rows.contains(&expected_hash),
                "the hash is not stored: {rows}"
            );
        }
        Backend::Sqlite => {
            // Every byte of the database files, the write-ahead log included.
            let dir = server.settings.data_dir.clone().unwrap();
            let mut seen_hash = false;
            for entry in std::fs::read_dir(&dir).unwrap() {
                let bytes = std::fs::read(entry.unwrap().path()).unwrap();
                let text = String::from_utf8_lossy(&bytes);
                assert!(
                    !text.contains(&secret[4..]),
                    "the secret is stored in plain text"
                );
                seen_hash |= text.contains(&expected_hash);
            }
            assert!(seen_hash, "the token's hash is not in the database files");
        }
    }
}

async fn roles_are_enforced(backend: Backend) {
    let server = TestServer::start(backend).await;
    let requester = server.token("rita", &["requester"]);
    let agent = server.token("arno", &["agent"]);
    for (who, token) in [("requester", &requester), ("agent", &agent)] {
        let reply = server
            .gql(
                Some(token),
                "{ apiTokens { edges { node { id } } } }",
                Value::Null,
            )
            .await;
        assert_eq!(reply.error_code(), "FORBIDDEN", "{who} listing API tokens");
        let reply = server
            .gql(
                Some(token),
                CREATE_TOKEN,
                json!({ "input": { "name": "mine", "scopes": ["tickets:read"] } }),
            )
            .await;
        assert_eq!(
            reply.error_code(),
            "FORBIDDEN",
            "{who} creating an API token"
        );
    }
    // A requester may not list people; an agent may. A requester may read only themself.
    let reply = server
        .gql(
            Some(&requester),
            "{ users { edges { node { id } } } }",
            Value::Null,
        )
        .await;
    assert_eq!(reply.error_code(), "FORBIDDEN");
    let agent_id =
        server.gql(Some(&agent), VIEWER, Value::Null).await.data()["viewer"]["nodeId"].clone();
    let reply = server
        .gql(
            Some(&requester),
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": agent_id }),
        )
        .await;
    assert_eq!(reply.error_code(), "FORBIDDEN");
    let reply = server
        .gql(
            Some(&agent),
            "{ users { edges { node { subject } } } }",
            Value::Null,
        )
        .await;
    assert_eq!(reply.data()["users"]["edges"].as_array().unwrap().len(), 2);
}

/// Writes at the same moment all succeed: on SQLite none fails with "database is locked".
async fn concurrent_writes_all_succeed(backend: Backend) {
    let server = TestServer::start(backend).await;
    let admin = server.token("root", &["admin"]);
    server.gql(Some(&admin), VIEWER, Value::Null).await.data();
    let creations = (0..24).map(|n| {
        let (server, admin) = (&server, &admin);
        async move {
            let input =
                json!({ "input": { "name": format!("token {n}"), "scopes": ["tickets:read"] } });
            server.gql(Some(admin), CREATE_TOKEN, input).await
        }
    });
    // New people signing in at the same time write their user rows concurrently too.
    let sign_ins = (0..24).map(|n| {
        let server = &server;
        async move {
            server
                .gql(
                    Some(&server.token(&format!("person{n}"), &["agent"])),
                    VIEWER,
                    Value::Null,
                )
                .await
        }
    });
    let (created, signed_in) = tokio::join!(
        futures::future::join_all(creations),
        futures::future::join_all(sign_ins)
    );
    for reply in created.iter().chain(&signed_in) {
        reply.data();
    }
    let listed = server
        .gql(
            Some(&admin),
            "{ apiTokens(first: 100) { nodes { name } } }",
            Value::Null,
        )
        .await;
    assert_eq!(
        listed.data()["apiTokens"]["nodes"]
            .as_array()
            .unwrap()
            .len(),
        24
    );
    let users = server
        .gql(
            Some(&admin),
            "{ users(first: 100) { nodes { subject } } }",
            Value::Null,
        )
        .await;
    assert_eq!(users.data()["users"]["nodes"].as_array().unwrap().len(), 25);
}

on_both_backends!(
    valid_jwt_makes_the_user_known,
    bad_jwts_are_refused,
    public_key_algorithms,
    api_tokens_do_only_what_their_scopes_allow,
    expired_api_tokens_are_refused,
    token_secrets_are_stored_only_as_hashes,
    roles_are_enforced,
    concurrent_writes_all_succeed,
);
