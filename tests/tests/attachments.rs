//! Attachments as a desk meets them: a requester's screenshot, sent by a real multipart
//! client, reaches the agent byte for byte and nobody else; a file that only claims to
//! be an image is only ever a download; a file too large is refused and leaves nothing
//! behind; the same bytes twice are kept once and go when the last reference does; mail
//! brings its attachments along; and the ticket's history shows every upload and removal.

use std::time::Duration as StdDuration;

use chrono::Duration;
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::{Value, json};
use switchboard_tests::{
    Backend, TestServer,
    desk::{CREATE, Desk},
    on_both_backends,
    upload::{File, PIXEL_PNG},
};

on_both_backends!(
    a_screenshot_reaches_the_agent_and_no_one_else,
    a_file_that_claims_to_be_an_image_is_only_a_download,
    a_file_too_large_is_refused_and_nothing_stays,
    the_same_bytes_are_kept_once_and_go_with_the_last_reference,
    a_mail_brings_its_attachments_along,
    an_articles_files_are_as_visible_as_the_article,
    a_reply_mails_its_files_where_the_template_says_so,
);

const ATTACH: &str = "mutation($t: ID!, $files: [Upload!]!) { attachFiles(input: { ticketId: $t, files: $files }) { attachments { id filename size mediaType isImage sha256 url } } }";
const FILES: &str = "query($n: String!) { ticket(number: $n) { attachments { id filename mediaType internal url sha256 commentId } comments { edges { node { id internal attachments { filename } } } } history(first: 50) { edges { node { action } } } } }";

/// An incident raised for the desk's requester, in the Network queue.
async fn ticket(server: &TestServer, desk: &Desk) -> (Value, String) {
    let input = json!({ "kind": "INCIDENT", "title": "The VPN drops", "impact": "LOW", "urgency": "LOW",
        "groupId": desk.network_group_id, "requesterId": desk.requester.id });
    let created = server
        .must(&desk.agents[0].token, CREATE, json!({ "input": input }))
        .await["createTicket"]["ticket"]
        .clone();
    let number = created["number"].as_str().unwrap().to_string();
    (created["id"].clone(), number)
}

fn png(name: &str) -> File<'_> {
    File {
        path: "files.0",
        name,
        bytes: PIXEL_PNG.to_vec(),
        media_type: "image/png",
    }
}

async fn files_of(server: &TestServer, token: &str, number: &str) -> Value {
    server.must(token, FILES, json!({ "n": number })).await["ticket"].clone()
}

async fn get(server: &TestServer, url: &str, token: Option<&str>) -> reqwest::Response {
    let mut request = server.http().get(server.url(url));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("the response has a {name} header"))
        .to_str()
        .unwrap()
}

async fn a_screenshot_reaches_the_agent_and_no_one_else(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let (id, number) = ticket(&server, &desk).await;

    let (status, body) = server
        .upload(
            &desk.requester.token,
            ATTACH,
            json!({ "t": id, "files": [null] }),
            vec![png("C:\\Users\\rita\\screenshot.png")],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("errors").is_none(), "{body}");
    let sent = &body["data"]["attachFiles"]["attachments"][0];
    assert_eq!(
        sent["filename"], "screenshot.png",
        "the last segment of the name"
    );
    assert_eq!(sent["size"], PIXEL_PNG.len());
    assert_eq!(sent["mediaType"], "image/png");
    assert_eq!(sent["isImage"], true);

    // The agent sees it on the ticket, and its link gives the same bytes, shown in place.
    let seen = files_of(&server, &desk.agents[0].token, &number).await;
    let file = &seen["attachments"][0];
    assert_eq!(file["id"], sent["id"]);
    let url = file["url"].as_str().expect("a link");
    let response = get(&server, url, None).await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "content-type"), "image/png");
    assert!(header(&response, "content-disposition").starts_with("inline"));
    assert_eq!(header(&response, "x-content-type-options"), "nosniff");
    assert!(header(&response, "content-security-policy").contains("sandbox"));
    assert_eq!(
        response.bytes().await.unwrap().as_ref(),
        PIXEL_PNG,
        "byte for byte"
    );
    // With a token instead of a link, too.
    let by_token = format!("/attachments/{}", file["id"].as_str().unwrap());
    let response = get(&server, &by_token, Some(&desk.agents[0].token)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.bytes().await.unwrap().as_ref(), PIXEL_PNG);

    // Another requester: not the ticket, not the file, with their token or without.
    let other = server
        .gql(
            Some(&desk.other_requester.token),
            FILES,
            json!({ "n": number }),
        )
        .await;
    assert_eq!(other.error_code(), "NOT_FOUND");
    let response = get(&server, &by_token, Some(&desk.other_requester.token)).await;
    assert_eq!(response.status(), 404);
    let refused: Value = response.json().await.unwrap();
    assert_eq!(refused["errors"][0]["extensions"]["code"], "NOT_FOUND");
    assert_eq!(get(&server, &by_token, None).await.status(), 401);

    // A link that was tampered with, or has expired, opens nothing.
    let tampered = url.replace("signature=", "signature=00");
    assert_eq!(get(&server, &tampered, None).await.status(), 403);
    server.advance(Duration::hours(1));
    let response = get(&server, url, None).await;
    assert_eq!(response.status(), 403);
    let expired: Value = response.json().await.unwrap();
    assert_eq!(expired["errors"][0]["extensions"]["code"], "FORBIDDEN");

    // An internal note's file is as internal as the note.
    let (status, body) = server
        .upload(
            &desk.agents[0].token,
            "mutation($t: ID!, $files: [Upload!]) { addComment(input: { ticketId: $t, body: \"Router log attached\", internal: true, files: $files }) { comment { id attachments { filename internal } } } }",
            json!({ "t": id, "files": [null] }),
            vec![File { path: "files.0", name: "router.log", bytes: b"link down\n".to_vec(), media_type: "text/plain" }],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("errors").is_none(), "{body}");
    let note = &body["data"]["addComment"]["comment"];
    assert_eq!(note["attachments"][0]["filename"], "router.log");
    assert_eq!(note["attachments"][0]["internal"], true);
    let agent_view = files_of(&server, &desk.agents[0].token, &number).await;
    assert_eq!(agent_view["attachments"].as_array().unwrap().len(), 2);
    let note_file = agent_view["attachments"][1]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let requester_view = files_of(&server, &desk.requester.token, &number).await;
    let names: Vec<&str> = requester_view["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["filename"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["screenshot.png"],
        "the requester does not see the note's file"
    );
    let response = get(
        &server,
        &format!("/attachments/{note_file}"),
        Some(&desk.requester.token),
    )
    .await;
    assert_eq!(response.status(), 404);

    // Removing a file is in the history; a requester may not remove the agent's.
    let refused = server
        .gql(
            Some(&desk.requester.token),
            "mutation($id: ID!) { removeAttachment(input: { id: $id }) { removedId } }",
            json!({ "id": note_file }),
        )
        .await;
    assert_eq!(refused.error_code(), "NOT_FOUND");
    server
        .must(
            &desk.requester.token,
            "mutation($id: ID!) { removeAttachment(input: { id: $id }) { removedId } }",
            json!({ "id": file["id"] }),
        )
        .await;
    let after = files_of(&server, &desk.agents[0].token, &number).await;
    assert_eq!(after["attachments"].as_array().unwrap().len(), 1);
    let actions: Vec<&str> = after["history"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions
            .iter()
            .filter(|a| **a == "ticket.attachment_added")
            .count(),
        2,
        "{actions:?}"
    );
    assert!(
        actions.contains(&"ticket.attachment_removed"),
        "{actions:?}"
    );
}

async fn a_file_that_claims_to_be_an_image_is_only_a_download(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let (id, _) = ticket(&server, &desk).await;
    let html = b"<html><body><script>document.title = 'ran'</script>hello</body></html>".to_vec();
    let (status, body) = server
        .upload(
            &desk.requester.token,
            ATTACH,
            json!({ "t": id, "files": [null] }),
            vec![File {
                path: "files.0",
                name: "image.png",
                bytes: html.clone(),
                media_type: "image/png",
            }],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let file = &body["data"]["attachFiles"]["attachments"][0];
    assert_eq!(
        file["mediaType"], "application/octet-stream",
        "its bytes decide, not its name"
    );
    assert_eq!(file["isImage"], false);
    let response = get(&server, file["url"].as_str().unwrap(), None).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "content-type"),
        "application/octet-stream"
    );
    assert!(
        header(&response, "content-disposition").starts_with("attachment;"),
        "a download, never a page"
    );
    assert_eq!(header(&response, "x-content-type-options"), "nosniff");
    let policy = header(&response, "content-security-policy");
    assert!(
        policy.contains("sandbox") && policy.contains("default-src 'none'"),
        "{policy}"
    );
    assert_eq!(response.bytes().await.unwrap().as_ref(), html.as_slice());
}

async fn a_file_too_large_is_refused_and_nothing_stays(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let (id, number) = ticket(&server, &desk).await;
    let big = vec![7u8; 30 * 1024 * 1024];
    let (status, body) = server
        .upload(
            &desk.requester.token,
            ATTACH,
            json!({ "t": id, "files": [null] }),
            vec![File {
                path: "files.0",
                name: "disk.img",
                bytes: big.clone(),
                media_type: "application/octet-stream",
            }],
        )
        .await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_REQUEST");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("25 MiB"), "{message}");

    // The plain upload partners use says the same.
    let response = server
        .http()
        .post(server.url(&format!(
            "/attachments?ticket={}&filename=disk.img",
            id.as_str().unwrap()
        )))
        .bearer_auth(&desk.requester.token)
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    let refused: Value = response.json().await.unwrap();
    assert_eq!(refused["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert!(
        refused["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("25 MiB")
    );

    let after = files_of(&server, &desk.agents[0].token, &number).await;
    assert_eq!(after["attachments"], json!([]), "nothing attached");
    assert_eq!(stored_blobs(&server).await, 0, "nothing kept");
    if backend == Backend::Sqlite {
        assert_eq!(files_on_disk(&server), 0, "nothing left on the disk");
    }
}

async fn the_same_bytes_are_kept_once_and_go_with_the_last_reference(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let (first, first_number) = ticket(&server, &desk).await;
    let (second, _) = ticket(&server, &desk).await;
    let (_, body) = server
        .upload(
            &desk.agents[0].token,
            ATTACH,
            json!({ "t": first, "files": [null] }),
            vec![png("one.png")],
        )
        .await;
    let one = body["data"]["attachFiles"]["attachments"][0].clone();
    // The same bytes by the plain upload partners use, to another ticket.
    let response = server
        .http()
        .post(server.url(&format!(
            "/attachments?ticket={}&filename=two.png",
            second.as_str().unwrap()
        )))
        .bearer_auth(&desk.agents[0].token)
        .body(PIXEL_PNG.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let two: Value = response.json().await.unwrap();
    let two = &two["attachment"];
    assert_eq!(two["filename"], "two.png");
    assert_eq!(one["sha256"], two["sha256"]);
    assert_ne!(one["id"], two["id"], "two attachments");
    assert_eq!(stored_blobs(&server).await, 1, "one copy of the bytes");
    if backend == Backend::Sqlite {
        assert_eq!(files_on_disk(&server), 1);
    }

    let remove = "mutation($id: ID!) { removeAttachment(input: { id: $id }) { removedId } }";
    server
        .must(&desk.agents[0].token, remove, json!({ "id": one["id"] }))
        .await;
    assert_eq!(
        stored_blobs(&server).await,
        1,
        "the other still refers to them"
    );
    let response = get(&server, two["url"].as_str().unwrap(), None).await;
    assert_eq!(response.bytes().await.unwrap().as_ref(), PIXEL_PNG);
    server
        .must(&desk.agents[0].token, remove, json!({ "id": two["id"] }))
        .await;
    assert_eq!(
        stored_blobs(&server).await,
        0,
        "gone with the last reference"
    );
    if backend == Backend::Sqlite {
        assert_eq!(files_on_disk(&server), 0);
    }
    let after = files_of(&server, &desk.agents[0].token, &first_number).await;
    assert_eq!(after["attachments"], json!([]));
}

async fn a_mail_brings_its_attachments_along(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let rita = server
        .must(
            &switchboard_tests::server::sign_hs256(&json!({ "sub": "rita.files", "name": "Rita",
                "email": "rita.files@acme.test", "roles": ["requester"],
                "exp": chrono::Utc::now().timestamp() + 3600 })),
            "{ viewer { nodeId } }",
            Value::Null,
        )
        .await;
    assert!(rita["viewer"].get("nodeId").is_some());
    let gateway = server
        .must(&desk.admin, "mutation { createApiToken(input: { name: \"Postfix\", scopes: [\"mail:ingest\"] }) { secret } }", Value::Null)
        .await["createApiToken"]["secret"]
        .as_str()
        .unwrap()
        .to_string();
    use base64::Engine;
    let png64 = base64::engine::general_purpose::STANDARD.encode(PIXEL_PNG);
    let message = format!(
        "From: Rita <rita.files@acme.test>\r\nTo: desk@acme.test\r\nSubject: Printer error\r\n\
         Message-ID: <files-1@mail.acme.test>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n\
         --b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe printer shows this.\r\n\
         --b1\r\nContent-Type: image/png; name=\"panel.png\"\r\nContent-Disposition: inline; filename=\"panel.png\"\r\nContent-ID: <panel@acme>\r\nContent-Transfer-Encoding: base64\r\n\r\n{png64}\r\n\
         --b1\r\nContent-Type: text/plain; name=\"error.txt\"\r\nContent-Disposition: attachment; filename=\"error.txt\"\r\n\r\nE-042 paper path\r\n\
         --b1--\r\n"
    );
    let response = server
        .http()
        .post(server.url("/mail/inbound"))
        .bearer_auth(&gateway)
        .body(message)
        .send()
        .await
        .unwrap();
    let outcome: Value = response.json().await.unwrap();
    assert_eq!(outcome["state"], "TICKET_CREATED", "{outcome}");
    let number = outcome["ticketNumber"].as_str().unwrap();
    let ticket = files_of(&server, &desk.admin, number).await;
    let mut names: Vec<&str> = ticket["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["filename"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["error.txt", "panel.png"]);
    let panel = ticket["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["filename"] == "panel.png")
        .unwrap();
    assert_eq!(
        panel["mediaType"], "image/png",
        "the inline image, as an image"
    );
    let response = get(&server, panel["url"].as_str().unwrap(), None).await;
    assert_eq!(response.bytes().await.unwrap().as_ref(), PIXEL_PNG);
}

/// How many files' bytes the server keeps, from its database.
async fn stored_blobs(server: &TestServer) -> i64 {
    let db = Database::connect(server.database_url()).await.unwrap();
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM blobs",
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

/// How many files the SQLite default keeps under its data directory (the spool
/// directory included: a refused upload must leave nothing there either).
fn files_on_disk(server: &TestServer) -> usize {
    let root =
        std::path::Path::new(server.settings.data_dir.as_deref().unwrap()).join("attachments");
    fn count(dir: &std::path::Path) -> usize {
        std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| {
                        let path = e.path();
                        if path.is_dir() { count(&path) } else { 1 }
                    })
                    .sum()
            })
            .unwrap_or(0)
    }
    count(&root)
}

/// In a real browser (headless Chromium), on a page of the desk's own origin: an HTML
/// file uploaded as "image.png" neither renders nor runs its script, framed or as an
/// image, while the same markup given to the browser directly does run (so that the
/// check could fail). SQLite only: what is checked is the headers' effect in a browser.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_browser_an_uploaded_page_runs_no_script() {
    use switchboard_tests::browser::Browser;

    let server = TestServer::start(Backend::Sqlite).await;
    let desk = server.desk().await;
    let (id, _) = ticket(&server, &desk).await;
    let page = |marker: &str| {
        format!(
            "<html><body><script>fetch('/ran-{marker}'); try {{ parent.document.title = 'ran' }} catch (e) {{}}</script></body></html>"
        )
    };
    let (status, body) = server
        .upload(
            &desk.requester.token,
            ATTACH,
            json!({ "t": id, "files": [null] }),
            vec![File {
                path: "files.0",
                name: "image.png",
                bytes: page("upload").into_bytes(),
                media_type: "image/png",
            }],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let url = body["data"]["attachFiles"]["attachments"][0]["url"]
        .as_str()
        .unwrap()
        .to_string();

    let browser = Browser::start().await;
    browser.goto(&server.url("/healthz")).await;
    browser.requests().await;
    let shown_as_image = browser
        .eval(&format!(
            "new Promise(done => {{ const frame = document.createElement('iframe'); frame.src = '{url}'; document.body.appendChild(frame); \
             const image = new Image(); image.onload = () => done('shown'); image.onerror = () => done('refused'); image.src = '{url}'; }})"
        ))
        .await;
    assert_eq!(
        shown_as_image, "refused",
        "it is no image, whatever its name"
    );
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let sent = browser.requests().await;
    assert!(
        sent.iter().any(|u| u.contains("/attachments/")),
        "the browser asked for the file: {sent:?}"
    );
    assert!(
        !sent.iter().any(|u| u.contains("/ran-upload")),
        "the uploaded script ran: {sent:?}"
    );
    assert_ne!(browser.eval("document.title").await, "ran");

    // The control: the same markup, given to the browser as a page, runs.
    let markup = serde_json::to_string(&page("control")).unwrap();
    browser
        .eval(&format!(
            "(() => {{ const frame = document.createElement('iframe'); frame.srcdoc = {markup}; document.body.appendChild(frame); return true; }})()"
        ))
        .await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let sent = browser.requests().await;
        if sent.iter().any(|u| u.contains("/ran-control")) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the control page's script never ran: the check above proves nothing"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

async fn an_articles_files_are_as_visible_as_the_article(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let agent = &desk.agents[0].token;
    let article = server
        .must(
            agent,
            "mutation { saveArticle(input: { title: \"Router reset\", body: \"Hold the button.\", visibility: INTERNAL }) { article { id } } }",
            Value::Null,
        )
        .await["saveArticle"]["article"]["id"]
        .clone();
    let attach = "mutation($a: ID!, $files: [Upload!]!) { attachFiles(input: { articleId: $a, files: $files }) { attachments { id } } }";
    let (status, body) = server
        .upload(
            agent,
            attach,
            json!({ "a": article, "files": [null] }),
            vec![png("button.png")],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("errors").is_none(), "{body}");
    let file = body["data"]["attachFiles"]["attachments"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let shown = server
        .must(
            agent,
            "query($id: ID!) { node(id: $id) { ... on Article { attachments { filename } } } }",
            json!({ "id": article }),
        )
        .await;
    assert_eq!(shown["node"]["attachments"][0]["filename"], "button.png");
    let path = format!("/attachments/{file}");
    assert_eq!(get(&server, &path, Some(agent)).await.status(), 200);
    // An internal article's file is the desk's: a requester finds nothing.
    assert_eq!(
        get(&server, &path, Some(&desk.requester.token))
            .await
            .status(),
        404
    );
    let (_, refused) = server
        .upload(
            &desk.requester.token,
            attach,
            json!({ "a": article, "files": [null] }),
            vec![png("mine.png")],
        )
        .await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{refused}"
    );
}

async fn a_reply_mails_its_files_where_the_template_says_so(backend: Backend) {
    let smtp = switchboard_tests::services::Smtp::start();
    let server = TestServer::start_with(backend, |s| {
        s.smtp_url = Some(smtp.url());
        s.mail_from = Some("Acme Service Desk <desk@acme.test>".into());
    })
    .await;
    let desk = server.desk().await;
    let rita =
        switchboard_tests::server::sign_hs256(&json!({ "sub": "rita.mailfiles", "name": "Rita",
        "email": "rita.mailfiles@acme.test", "roles": ["requester"],
        "exp": chrono::Utc::now().timestamp() + 3600 }));
    let rita_id = server
        .must(&rita, "{ viewer { nodeId } }", Value::Null)
        .await["viewer"]["nodeId"]
        .clone();
    let input = json!({ "kind": "INCIDENT", "title": "Printer offline", "impact": "LOW", "urgency": "LOW",
        "groupId": desk.network_group_id, "requesterId": rita_id });
    let created = server
        .must(&desk.agents[0].token, CREATE, json!({ "input": input }))
        .await["createTicket"]["ticket"]
        .clone();
    let reply = "mutation($t: ID!, $b: String!, $files: [Upload!]) { addComment(input: { ticketId: $t, body: $b, files: $files }) { comment { id } } }";
    let file = |name: &'static str| File {
        path: "files.0",
        name,
        bytes: b"1. Turn it off and on.\n".to_vec(),
        media_type: "text/plain",
    };
    let (status, body) = server
        .upload(
            &desk.agents[0].token,
            reply,
            json!({ "t": created["id"], "b": "The steps are attached.", "files": [null] }),
            vec![file("steps.txt")],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let mailed = smtp.wait_for(
        "rita.mailfiles@acme.test",
        "The steps are attached.",
        StdDuration::from_secs(15),
    );
    assert!(
        mailed.contains("steps.txt"),
        "the reply's file goes with it: {mailed}"
    );
    assert!(mailed.contains("multipart/mixed"), "{mailed}");

    // An admin's template that says no: the next reply's file stays behind.
    server
        .must(&desk.admin, "mutation { updateNotificationTemplate(input: { kind: TICKET_COMMENTED, subject: \"[{{ ticket.number }}] Reply\", text: \"{{ comment.body }}\", includeAttachments: false }) { notificationTemplate { includeAttachments } } }", Value::Null)
        .await;
    let (status, _) = server
        .upload(
            &desk.agents[0].token,
            reply,
            json!({ "t": created["id"], "b": "A second try.", "files": [null] }),
            vec![file("again.txt")],
        )
        .await;
    assert_eq!(status, 200);
    let second = smtp.wait_for(
        "rita.mailfiles@acme.test",
        "A second try.",
        StdDuration::from_secs(15),
    );
    assert!(!second.contains("again.txt"), "{second}");
}
