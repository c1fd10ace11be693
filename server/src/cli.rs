//! The `switchboard` command line: serve (the default), migrate, export-schema, token.

use std::{path::PathBuf, process::ExitCode};

use anyhow::{Context, bail};
use chrono::{Duration, Utc};
use clap::{Parser, Subcommand};

use crate::{
    app,
    auth::{Role, jwt},
    config::{Config, JwtKeyConfig, Settings},
    domain::{api_tokens, cmdb::import, events::Actor, page::Window},
    graphql, telemetry,
};

#[derive(Parser)]
#[command(
    name = "switchboard",
    version,
    about = "GraphQL backend for IT service management"
)]
struct Cli {
    #[command(flatten)]
    settings: Settings,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Write a consistent copy of the database while the server runs (SQLite's
    /// `VACUUM INTO`; `pg_dump`'s custom format on PostgreSQL).
    Backup {
        /// The file to write; it must not exist.
        #[arg(long)]
        out: PathBuf,
    },
    /// Put a backup in place of the configured database (stop the servers first).
    Restore {
        /// The backup to restore.
        #[arg(long)]
        from: PathBuf,
        /// Replace an existing SQLite database (PostgreSQL's is always replaced).
        #[arg(long)]
        replace: bool,
    },
    /// Load a living demo desk (customers, teams, calendars, SLAs, routing, catalog,
    /// CMDB, tickets in every state, a problem, changes, articles) into the configured
    /// database, through the API as its people would, and print tokens to sign in
    /// with. A database that has it already is left as it is.
    Demo,
    /// Print the GraphQL schema (SDL): what schema.graphql holds.
    ExportSchema {
        /// Write to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Tokens: development JWTs for people, API tokens for partner systems.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Bulk loads.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Hand one mail message (RFC 5322, on standard input) to a running desk, for a
    /// mail server that pipes mail to a program. Exits 0 when the desk took it (as a
    /// ticket, a comment, ignored or set aside), 75 (try again later) when the desk
    /// cannot be reached or is unwell, 77 when the token is refused.
    MailGateway {
        /// The desk's address, e.g. https://desk.example.com.
        #[arg(long, env = "SWITCHBOARD_URL")]
        url: String,
        /// An API token with the `mail:ingest` scope.
        #[arg(long, env = "SWITCHBOARD_MAIL_TOKEN", hide_env_values = true)]
        token: String,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Upsert configuration items and relationships by external key from a JSON file:
    /// {"items": [{"externalKey", "class", "name", ...}], "relationships": [{"source",
    /// "target", "type"}]}. With rejected rows nothing is written, unless --apply-valid.
    Cmdb {
        file: PathBuf,
        /// Write the valid rows even when others are rejected.
        #[arg(long)]
        apply_valid: bool,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Print a JWT signed with the server's HS256 secret, for local use.
    Dev {
        /// The person's id (`sub`).
        #[arg(long, default_value = "dev")]
        sub: String,
        /// Roles: requester, agent, manager, admin. Repeat for several.
        #[arg(long = "role", default_value = "admin")]
        roles: Vec<String>,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        email: Option<String>,
        /// Group names. Repeat for several.
        #[arg(long = "group")]
        groups: Vec<String>,
        /// How long the token is valid.
        #[arg(long, default_value_t = 12)]
        hours: i64,
    },
    /// Create an API token for a partner system; prints the secret once.
    Create {
        #[arg(long)]
        name: String,
        /// Scopes such as tickets:read. Repeat for several.
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
        /// Days until the token expires; never, when absent.
        #[arg(long)]
        expires_in_days: Option<i64>,
    },
    /// List API tokens.
    List,
    /// Revoke an API token by its number (from `token list`).
    Revoke { id: i64 },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::from_settings(&cli.settings) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("switchboard: {error}");
            return ExitCode::from(2);
        }
    };
    let command = cli.command.unwrap_or(Command::Serve);
    if matches!(command, Command::Demo) {
        // The demo's server answers hundreds of its own requests: a line for each would
        // bury the tokens it prints at the end.
        telemetry::init_with(config.log_format, "warn");
    } else {
        telemetry::init(config.log_format);
    }
    let runtime = tokio::runtime::Runtime::new().expect("cannot start the async runtime");
    match runtime.block_on(run(command, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("switchboard: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve => serve(config).await,
        Command::Demo => crate::demo::run(config).await,
        Command::Migrate => {
            app::open_database(&config).await?;
            eprintln!("migrations applied");
            Ok(())
        }
        Command::Backup { out } => {
            crate::backup::backup(&config, &out).await?;
            eprintln!("backed up to {}", out.display());
            Ok(())
        }
        Command::Restore { from, replace } => {
            crate::backup::restore(&config, &from, replace).await?;
            eprintln!("restored from {}", from.display());
            Ok(())
        }
        Command::ExportSchema { out } => {
            let sdl = graphql::sdl();
            match out {
                Some(path) => std::fs::write(&path, sdl)
                    .with_context(|| format!("cannot write {}", path.display())),
                None => {
                    print!("{sdl}");
                    Ok(())
                }
            }
        }
        Command::Token(command) => token(command, config).await,
        Command::MailGateway { url, token } => mail_gateway(&url, &token).await,
        Command::Import(ImportCommand::Cmdb { file, apply_valid }) => {
            import_cmdb(config, &file, apply_valid).await
        }
    }
}

async fn import_cmdb(
    config: Config,
    path: &std::path::Path,
    apply_valid: bool,
) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let file: import::ImportFile = serde_json::from_str(&text)
        .with_context(|| format!("{} is not an import file", path.display()))?;
    let db = app::open_database(&config).await?;
    let actor = Actor {
        user_id: None,
        name: "switchboard import (command line)".into(),
        by_rule: None,
    };
    let started = std::time::Instant::now();
    let report = import::apply(&db, &actor, Utc::now(), file, apply_valid)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    for rejected in &report.rejected {
        let section = match rejected.section {
            import::Section::Items => "items",
            import::Section::Relationships => "relationships",
        };
        println!(
            "rejected {section}[{}] {}: {}: {}",
            rejected.row,
            rejected.external_key.as_deref().unwrap_or("-"),
            rejected.field,
            rejected.reason
        );
    }
    println!(
        "items: {} created, {} updated, {} unchanged, {} rejected; relationships: {} created, {} unchanged ({} ms)",
        report.created,
        report.updated,
        report.unchanged,
        report
            .rejected
            .iter()
            .filter(|r| r.section == import::Section::Items)
            .count(),
        report.relationships_created,
        report.relationships_unchanged,
        started.elapsed().as_millis()
    );
    if !report.applied {
        bail!(
            "nothing was written: {} rows were rejected; fix them, or pass --apply-valid to write the others",
            report.rejected.len()
        );
    }
    Ok(())
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .with_context(|| format!("cannot listen on {} (SWITCHBOARD_BIND)", config.bind))?;
    let server = app::start(config, listener).await?;
    let stop = server.shutdown_handle();
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down: finishing in-flight requests");
        let _ = stop.send(true);
    });
    server.wait().await?;
    tracing::info!("stopped");
    Ok(())
}

/// The exit codes mail servers understand (sysexits.h): try again later, and refused.
const EX_TEMPFAIL: u8 = 75;
const EX_NOPERM: u8 = 77;
const EX_DATAERR: u8 = 65;

/// Reads a message from standard input and posts it to the desk's `/mail/inbound`.
async fn mail_gateway(url: &str, token: &str) -> anyhow::Result<()> {
    use std::io::Read;
    let mut message = Vec::new();
    std::io::stdin()
        .read_to_end(&mut message)
        .context("cannot read the message from standard input")?;
    let endpoint = format!("{}/mail/inbound", url.trim_end_matches('/'));
    let answer = reqwest::Client::new()
        .post(&endpoint)
        .bearer_auth(token)
        .header("content-type", "message/rfc822")
        .body(message)
        .timeout(std::time::Duration::from_secs(60))
        .send()
        .await;
    let exit = |code: u8, why: String| -> anyhow::Result<()> {
        eprintln!("switchboard mail-gateway: {why}");
        std::process::exit(code.into())
    };
    let response = match answer {
        Ok(response) => response,
        Err(error) => return exit(EX_TEMPFAIL, format!("cannot reach {endpoint}: {error}")),
    };
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    match status.as_u16() {
        200 => {
            println!("{body}");
            Ok(())
        }
        401 | 403 => exit(EX_NOPERM, format!("the desk refused the token: {body}")),
        413 => exit(EX_DATAERR, "the message is too large for the desk".into()),
        code if code >= 500 => exit(EX_TEMPFAIL, format!("the desk answered {code}: {body}")),
        code => exit(EX_DATAERR, format!("the desk answered {code}: {body}")),
    }
}

/// Who the event log says acted, for changes made on the server's own command line.
fn command_line() -> Actor {
    Actor {
        user_id: None,
        name: "switchboard command line".into(),
        by_rule: None,
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("cannot listen for SIGTERM");
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

async fn token(command: TokenCommand, config: Config) -> anyhow::Result<()> {
    match command {
        TokenCommand::Dev {
            sub,
            roles,
            name,
            email,
            groups,
            hours,
        } => {
            if !matches!(config.jwt.key, JwtKeyConfig::Hs256 { .. }) {
                bail!(
                    "`token dev` signs HS256 tokens, but SWITCHBOARD_JWT_ALGORITHM is not HS256: \
                     get tokens from your identity provider"
                );
            }
            for role in &roles {
                if Role::parse(role).is_none() {
                    bail!("'{role}' is not a role: use requester, agent, manager or admin");
                }
            }
            if hours < 1 {
                bail!("--hours must be at least 1");
            }
            let secret = app::hs256_secret(&config)?.expect("HS256 has a secret");
            let now = Utc::now();
            let claims = jwt::Claims {
                sub,
                name,
                email,
                roles,
                groups,
                exp: (now + Duration::hours(hours)).timestamp(),
                nbf: Some(now.timestamp()),
                iat: Some(now.timestamp()),
                iss: config.jwt.issuer.clone(),
                aud: config.jwt.audience.clone(),
            };
            println!("{}", jwt::sign_dev_token(&secret, &claims)?);
            Ok(())
        }
        TokenCommand::Create {
            name,
            scopes,
            expires_in_days,
        } => {
            let db = app::open_database(&config).await?;
            let expires_at = expires_in_days.map(|days| Utc::now() + Duration::days(days));
            let created = api_tokens::create(
                &db,
                &command_line(),
                Utc::now(),
                api_tokens::NewToken {
                    name,
                    scopes,
                    expires_at,
                    created_by: None,
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            eprintln!(
                "created API token {} ({}); the secret below is shown only now:",
                created.row.id, created.row.prefix
            );
            println!("{}", created.token);
            Ok(())
        }
        TokenCommand::List => {
            let db = app::open_database(&config).await?;
            // The whole record: one page as long as SQL's (signed) LIMIT allows.
            let rows = api_tokens::list(&db, &Window::first(i64::MAX as u64 - 1))
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "{:>5}  {:<14} {:<9} {:<30} {:<36} EXPIRES",
                "ID", "PREFIX", "STATE", "NAME", "SCOPES"
            );
            for row in rows {
                let state = if row.revoked_at.is_some() {
                    "revoked"
                } else if row.expires_at.is_some_and(|at| at <= Utc::now()) {
                    "expired"
                } else {
                    "active"
                };
                let scopes: Vec<&str> = api_tokens::scopes_of(&row)
                    .iter()
                    .map(|s| s.as_str())
                    .collect();
                let expires = row
                    .expires_at
                    .map(|at| at.to_rfc3339())
                    .unwrap_or_else(|| "never".into());
                println!(
                    "{:>5}  {:<14} {:<9} {:<30} {:<36} {}",
                    row.id,
                    row.prefix,
                    state,
                    row.name,
                    scopes.join(","),
                    expires
                );
            }
            Ok(())
        }
        TokenCommand::Revoke { id } => {
            let db = app::open_database(&config).await?;
            let row = api_tokens::revoke(&db, &command_line(), Utc::now(), id)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            eprintln!(
                "revoked API token {} ({}, {})",
                row.id, row.prefix, row.name
            );
            Ok(())
        }
    }
}
