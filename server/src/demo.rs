//! `switchboard demo`: a living desk to look at on first run. It starts the server on
//! the configured database, on a loopback port of its own, and builds the desk through
//! the GraphQL API as its people would (an admin sets it up, requesters raise tickets,
//! agents work them), so routing, SLA clocks, the event log and history are what a live
//! desk would have, then stops. It loads into a desk with no organizations yet: one
//! that has some (the demo's, or a real desk's) is left as it is, so running it twice
//! leaves one copy of everything.

use anyhow::{Context as _, bail};
use chrono::{Duration, Utc};
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::{
    app,
    auth::jwt::{self, Claims},
    config::{Config, JwtKeyConfig},
};

/// The demo's first customer.
const FIRST_CUSTOMER: &str = "Northwind Traders";

/// One of the demo desk's people.
struct Person {
    sub: &'static str,
    name: &'static str,
    roles: &'static [&'static str],
}

const ADMIN: Person = Person {
    sub: "demo.admin",
    name: "Alex Admin",
    roles: &["admin"],
};
const MANAGER: Person = Person {
    sub: "demo.morgan",
    name: "Morgan Manager",
    roles: &["manager"],
};
const AGENTS: [Person; 4] = [
    Person {
        sub: "demo.ada",
        name: "Ada Agent",
        roles: &["agent"],
    },
    Person {
        sub: "demo.grace",
        name: "Grace Hopper",
        roles: &["agent"],
    },
    Person {
        sub: "demo.linus",
        name: "Linus Network",
        roles: &["agent"],
    },
    Person {
        sub: "demo.margaret",
        name: "Margaret Apps",
        roles: &["agent"],
    },
];
const REQUESTERS: [Person; 3] = [
    Person {
        sub: "demo.rita",
        name: "Rita Requester",
        roles: &["requester"],
    },
    Person {
        sub: "demo.omar",
        name: "Omar Contoso",
        roles: &["requester"],
    },
    Person {
        sub: "demo.sven",
        name: "Sven Fabrikam",
        roles: &["requester"],
    },
];

/// The API as the demo's people call it: over HTTP, each with a development token.
struct Api {
    http: reqwest::Client,
    url: String,
    secret: String,
    issuer: Option<String>,
    audience: Option<String>,
}

impl Api {
    fn token(&self, person: &Person, hours: i64) -> anyhow::Result<String> {
        let now = Utc::now();
        let claims = Claims {
            sub: person.sub.into(),
            name: Some(person.name.into()),
            email: Some(format!("{}@demo.switchboard.test", person.sub)),
            roles: person.roles.iter().map(|r| r.to_string()).collect(),
            groups: vec![],
            exp: (now + Duration::hours(hours)).timestamp(),
            nbf: Some(now.timestamp()),
            iat: Some(now.timestamp()),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
        };
        Ok(jwt::sign_dev_token(&self.secret, &claims)?)
    }

    /// Runs one operation as `person`; its data, or the errors as a failure.
    async fn run(&self, person: &Person, query: &str, variables: Value) -> anyhow::Result<Value> {
        let reply: Value = self
            .http
            .post(&self.url)
            .bearer_auth(self.token(person, 1)?)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await?
            .json()
            .await?;
        if let Some(errors) = reply.get("errors") {
            bail!("{query}\nwas refused: {errors}");
        }
        Ok(reply["data"].clone())
    }

    /// The id of what a `save…`/`create…` mutation returns under `root.object`.
    async fn id(
        &self,
        person: &Person,
        query: &str,
        variables: Value,
        path: &[&str],
    ) -> anyhow::Result<Value> {
        let mut data = self.run(person, query, variables).await?;
        for key in path {
            data = data[*key].take();
        }
        Ok(data)
    }
}

/// Loads the demo desk into the configured database, unless it is there already, and
/// prints how to sign in.
pub async fn run(mut config: Config) -> anyhow::Result<()> {
    let JwtKeyConfig::Hs256 { .. } = config.jwt.key else {
        bail!(
            "`demo` signs its people in with HS256 development tokens, but SWITCHBOARD_JWT_ALGORITHM is not HS256"
        );
    };
    let secret = app::hs256_secret(&config)?.context("HS256 has a secret")?;
    // The demo's people have made-up addresses: nobody is mailed, no mailbox is read.
    config.outbox = None;
    config.mailbox = None;
    let api = Api {
        http: reqwest::Client::new(),
        url: String::new(),
        secret,
        issuer: config.jwt.issuer.clone(),
        audience: config.jwt.audience.clone(),
    };
    // Where the server will be, once started as configured: the links printed at the end.
    let site = match config.bind {
        bind if bind.ip().is_unspecified() => format!("http://127.0.0.1:{}", bind.port()),
        bind => format!("http://{bind}"),
    };
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let server = app::start(config, listener).await?;
    let api = Api {
        url: format!("http://{}/graphql", server.addr),
        ..api
    };
    let loaded = async {
        let organizations = api
            .run(&ADMIN, "{ organizations { name } }", Value::Null)
            .await?;
        let names: Vec<&str> = organizations["organizations"]
            .as_array()
            .map(|all| all.iter().filter_map(|o| o["name"].as_str()).collect())
            .unwrap_or_default();
        if names.contains(&FIRST_CUSTOMER) {
            println!("The demo desk is loaded already; nothing was changed.");
            return anyhow::Ok(());
        }
        if !names.is_empty() {
            bail!(
                "this desk has organizations of its own ({}): the demo loads only into an empty desk",
                names.join(", ")
            );
        }
        load(&api)
            .await
            .context("the demo stopped half-way: start again from an empty database")?;
        println!("The demo desk is loaded.");
        anyhow::Ok(())
    }
    .await;
    server.shutdown().await?;
    loaded?;
    println!(
        "\nStart the server (`switchboard` or `cargo run -p switchboard`) and open {site}/graphql (GraphiQL),\n\
         sending one of these as `Authorization: Bearer …` (valid 12 hours; `switchboard token dev` makes more):\n"
    );
    for person in [&ADMIN, &MANAGER, &AGENTS[0], &REQUESTERS[0]] {
        println!(
            "{:<9} {} ({}):\n{}\n",
            person.roles[0],
            person.name,
            person.sub,
            api.token(person, 12)?
        );
    }
    // The token rides in the fragment, which the browser never sends to a server.
    println!(
        "Watch the desk work, as {}: {site}/desk#token={}",
        MANAGER.name,
        api.token(&MANAGER, 12)?
    );
    Ok(())
}

/// The desk, set up by its admin and worked by its people.
async fn load(api: &Api) -> anyhow::Result<()> {
    let mut ids = Vec::new();
    for person in AGENTS
        .iter()
        .chain(REQUESTERS.iter())
        .chain([&MANAGER, &ADMIN])
    {
        ids.push(
            api.id(
                person,
                "{ viewer { nodeId } }",
                Value::Null,
                &["viewer", "nodeId"],
            )
            .await?,
        );
    }
    let (agents, requesters, manager) = (&ids[0..4], &ids[4..7], &ids[7]);

    // Customers.
    let organization =
        "mutation($n: String!) { createOrganization(input: { name: $n }) { organization { id } } }";
    let mut organizations = Vec::new();
    for name in [FIRST_CUSTOMER, "Contoso Pharma", "Fabrikam Logistics"] {
        organizations.push(
            api.id(
                &ADMIN,
                organization,
                json!({ "n": name }),
                &["createOrganization", "organization", "id"],
            )
            .await?,
        );
    }
    for (requester, organization) in requesters.iter().zip(&organizations) {
        api.run(&ADMIN, "mutation($u: ID!, $o: ID) { setUserOrganization(input: { userId: $u, organizationId: $o }) { user { id } } }", json!({ "u": requester, "o": organization })).await?;
        api.run(&ADMIN, "mutation($u: ID!, $m: ID) { setUserManager(input: { userId: $u, managerId: $m }) { user { id } } }", json!({ "u": requester, "m": manager })).await?;
    }

    // Working time: office hours with the public holidays, and round the clock.
    let year = Utc::now().format("%Y").to_string();
    let holidays: Vec<String> = ["01-01", "05-01", "10-03", "12-25", "12-26"]
        .iter()
        .map(|d| format!("{year}-{d}"))
        .collect();
    let office = json!([
        ["08:00-18:00"],
        ["08:00-18:00"],
        ["08:00-18:00"],
        ["08:00-18:00"],
        ["08:00-18:00"],
        [],
        []
    ]);
    let calendar =
        "mutation($i: SaveCalendarInput!) { saveCalendar(input: $i) { calendar { id } } }";
    let business_hours = api
        .id(
            &ADMIN,
            calendar,
            json!({ "i": { "name": "Office hours (Berlin)", "timeZone": "Europe/Berlin",
                "week": office,
                "holidays": holidays } }),
            &["saveCalendar", "calendar", "id"],
        )
        .await?;
    let around_the_clock = api
        .id(
            &ADMIN,
            calendar,
            json!({ "i": { "name": "24x7", "timeZone": "UTC", "week": vec![["00:00-24:00"]; 7] } }),
            &["saveCalendar", "calendar", "id"],
        )
        .await?;

    // Teams: a first-line desk escalating to network and applications.
    let group = "mutation($i: SaveGroupInput!) { saveGroup(input: $i) { group { id } } }";
    let path = &["saveGroup", "group", "id"];
    let network = api
        .id(&ADMIN, group, json!({ "i": { "name": "Network", "tier": 2, "managerId": manager, "description": "Routers, VPN, Wi-Fi." } }), path)
        .await?;
    let applications = api
        .id(&ADMIN, group, json!({ "i": { "name": "Applications", "tier": 2, "managerId": manager, "description": "Business applications and their databases." } }), path)
        .await?;
    let desk = api
        .id(&ADMIN, group, json!({ "i": { "name": "Service Desk", "tier": 1, "managerId": manager, "escalationGroupId": applications, "description": "First line: every request starts here." } }), path)
        .await?;
    let member = "mutation($g: ID!, $u: ID!) { addGroupMember(input: { groupId: $g, userId: $u }) { group { id } } }";
    for (group, agent) in [
        (&desk, &agents[0]),
        (&desk, &agents[1]),
        (&network, &agents[2]),
        (&applications, &agents[3]),
        (&applications, &agents[1]),
    ] {
        api.run(&ADMIN, member, json!({ "g": group, "u": agent }))
            .await?;
    }

    // Routing: words in the title send a ticket to the team that fixes it.
    let rule = "mutation($i: SaveAssignmentRuleInput!) { saveAssignmentRule(input: $i) { assignmentRule { id } } }";
    for (position, name, words, group) in [
        (
            10,
            "Network words",
            "vpn wifi wi-fi router network",
            &network,
        ),
        (
            20,
            "Application words",
            "dashboard erp ordering database",
            &applications,
        ),
    ] {
        api.run(&ADMIN, rule, json!({ "i": { "name": name, "position": position, "titleWords": words, "groupId": group, "agentStrategy": "LEAST_OPEN" } })).await?;
    }
    api.run(&ADMIN, rule, json!({ "i": { "name": "Facilities words", "position": 30, "titleWords": "projector screen", "groupId": desk, "agentStrategy": "QUEUE" } })).await?;
    api.run(&ADMIN, rule, json!({ "i": { "name": "Everything else", "position": 100, "groupId": desk, "agentStrategy": "ROUND_ROBIN" } })).await?;

    // Service levels: per priority on office hours, P1 round the clock, and Contoso's
    // contract with a tight first response (it breaches minutes after loading).
    let policy =
        "mutation($i: SaveSlaPolicyInput!) { saveSlaPolicy(input: $i) { slaPolicy { id } } }";
    api.run(&ADMIN, policy, json!({ "i": { "name": "Contoso contract: P1", "position": 5, "priority": "P1", "organizationId": organizations[1], "calendarId": around_the_clock, "responseMinutes": 2, "resolutionMinutes": 120 } })).await?;
    for (position, priority, response, resolution, calendar) in [
        (10, "P1", 30, 240, &around_the_clock),
        (20, "P2", 60, 480, &business_hours),
        (30, "P3", 240, 1440, &business_hours),
        (40, "P4", 480, 4800, &business_hours),
    ] {
        api.run(&ADMIN, policy, json!({ "i": { "name": format!("{priority} standard"), "position": position, "priority": priority, "calendarId": calendar, "responseMinutes": response, "resolutionMinutes": resolution } })).await?;
    }

    // What the desk offers, and what it runs on.
    let service = "mutation($i: SaveServiceInput!) { saveService(input: $i) { service { id } } }";
    let path = &["saveService", "service", "id"];
    let workplace = api
        .id(&ADMIN, service, json!({ "i": { "name": "Workplace IT", "category": "Workplace", "lifecycle": "LIVE", "criticality": "MEDIUM", "supportGroupId": desk, "description": "Laptops, accounts and remote access." } }), path)
        .await?;
    let ordering = api
        .id(&ADMIN, service, json!({ "i": { "name": "Online Ordering", "category": "Business", "lifecycle": "LIVE", "criticality": "CRITICAL", "supportGroupId": applications, "description": "Where customers place their orders." } }), path)
        .await?;
    let item =
        "mutation($i: SaveCatalogItemInput!) { saveCatalogItem(input: $i) { catalogItem { id } } }";
    let path = &["saveCatalogItem", "catalogItem", "id"];
    let laptop = api
        .id(&ADMIN, item, json!({ "i": { "name": "New laptop", "serviceId": workplace, "fulfillmentGroupId": desk, "approval": "MANAGER",
            "description": "A standard laptop, set up and delivered within five working days.",
            "variables": [
                { "name": "model", "label": "Model", "kind": "CHOICE", "required": true, "choices": ["14-inch", "16-inch"] },
                { "name": "reason", "label": "Why you need it", "kind": "TEXT", "required": true, "min": 5 }
            ] } }), path)
        .await?;
    let vpn = api
        .id(&ADMIN, item, json!({ "i": { "name": "VPN access", "serviceId": workplace, "fulfillmentGroupId": network,
            "description": "Remote access to the office network.",
            "variables": [{ "name": "until", "label": "Needed until", "kind": "DATE" }] } }), path)
        .await?;

    let classes = api
        .run(&ADMIN, "{ ciClasses { id name } }", Value::Null)
        .await?;
    let class = |name: &str| {
        classes["ciClasses"]
            .as_array()
            .and_then(|all| all.iter().find(|c| c["name"] == name))
            .map(|c| c["id"].clone())
            .with_context(|| format!("no CI class '{name}'"))
    };
    let ci = "mutation($i: CreateConfigurationItemInput!) { createConfigurationItem(input: $i) { configurationItem { id } } }";
    let path = &["createConfigurationItem", "configurationItem", "id"];
    let shop = api
        .id(&ADMIN, ci, json!({ "i": { "name": "Online Ordering", "classId": class("Business service")?, "serviceId": ordering, "environment": "production" } }), path)
        .await?;
    let app = api
        .id(&ADMIN, ci, json!({ "i": { "name": "shop-web", "classId": class("Application")?, "ownerGroupId": applications, "environment": "production", "attributes": { "vendor": "in-house", "version": "4.2" } } }), path)
        .await?;
    let database = api
        .id(&ADMIN, ci, json!({ "i": { "name": "orders-db", "classId": class("Database")?, "ownerGroupId": applications, "environment": "production", "attributes": { "engine": "PostgreSQL", "version": "17" } } }), path)
        .await?;
    let mut servers = Vec::new();
    for host in ["web-01", "db-01"] {
        servers.push(
            api.id(&ADMIN, ci, json!({ "i": { "name": host, "classId": class("Server")?, "ownerGroupId": network, "environment": "production", "attributes": { "hostname": format!("{host}.northwind.test"), "cpus": 8, "memoryGb": 32, "os": "Debian 13" } } }), path)
                .await?,
        );
    }
    let relate = "mutation($s: ID!, $t: ID!, $k: String!) { relateConfigurationItems(input: { sourceId: $s, targetId: $t, type: $k }) { relationship { id } } }";
    for (source, target, kind) in [
        (&shop, &app, "DEPENDS_ON"),
        (&app, &database, "DEPENDS_ON"),
        (&app, &servers[0], "RUNS_ON"),
        (&database, &servers[1], "RUNS_ON"),
    ] {
        api.run(
            &ADMIN,
            relate,
            json!({ "s": source, "t": target, "k": kind }),
        )
        .await?;
    }

    // Tickets, raised by requesters and worked by the desk.
    let create = "mutation($i: CreateTicketInput!) { createTicket(input: $i) { ticket { id version assignee { id } } } }";
    let mut tickets = Vec::new();
    for (who, kind, title, description, impact, urgency) in [
        (
            0,
            "INCIDENT",
            "VPN drops every few minutes",
            "Since this morning my VPN disconnects every five minutes.",
            "MEDIUM",
            "HIGH",
        ),
        (
            0,
            "INCIDENT",
            "Cannot open the sales dashboard",
            "The dashboard says 'access denied' since Friday.",
            "LOW",
            "MEDIUM",
        ),
        (
            2,
            "INCIDENT",
            "Printer on floor 3 jams",
            "Every second page jams in the big printer.",
            "LOW",
            "LOW",
        ),
        (
            2,
            "SERVICE_REQUEST",
            "New starter needs an account",
            "Jana Novak starts on Monday in logistics.",
            "LOW",
            "MEDIUM",
        ),
        (
            1,
            "INCIDENT",
            "Online ordering is down",
            "Customers get an error 500 when they pay.",
            "HIGH",
            "HIGH",
        ),
        (
            1,
            "INCIDENT",
            "Email is slow",
            "Mail takes minutes to arrive.",
            "MEDIUM",
            "MEDIUM",
        ),
        (
            0,
            "INCIDENT",
            "Wi-Fi weak in meeting room Oslo",
            "Video calls drop in Oslo.",
            "LOW",
            "MEDIUM",
        ),
        (
            2,
            "INCIDENT",
            "Laptop battery swelling",
            "The battery of my laptop bulges.",
            "MEDIUM",
            "HIGH",
        ),
        (
            1,
            "INCIDENT",
            "Keyboard misses keys",
            "The E and the R stick on my keyboard.",
            "LOW",
            "LOW",
        ),
    ] {
        let ticket = api
            .run(&REQUESTERS[who], create, json!({ "i": { "kind": kind, "title": title, "description": description, "impact": impact, "urgency": urgency } }))
            .await?["createTicket"]["ticket"]
            .clone();
        tickets.push(ticket);
    }
    let assign = "mutation($i: AssignTicketInput!) { assignTicket(input: $i) { ticket { id version assignee { id } } } }";
    let transition = "mutation($i: TransitionTicketInput!) { transitionTicket(input: $i) { ticket { id version } } }";
    let comment =
        "mutation($i: AddCommentInput!) { addComment(input: $i) { ticket { id version } } }";
    // Each ticket is worked by whoever holds it (an agent of the first team otherwise).
    let holder = |ticket: &Value| -> &Person {
        let assignee = &ticket["assignee"]["id"];
        agents
            .iter()
            .position(|id| id == assignee)
            .map_or(&AGENTS[0], |i| &AGENTS[i])
    };
    let mut worked = Vec::new();
    for ticket in &tickets {
        let mut ticket = ticket.clone();
        if ticket["assignee"].is_null() {
            ticket = api
                .run(&MANAGER, assign, json!({ "i": { "id": ticket["id"], "version": ticket["version"], "assigneeId": agents[0] } }))
                .await?["assignTicket"]["ticket"]
                .clone();
        }
        worked.push(ticket);
    }
    // 0: in progress, with an answer and a work note.
    let steps: [(usize, Vec<Value>); 7] = [
        (
            0,
            vec![
                json!({ "status": "IN_PROGRESS" }),
                json!({ "comment": "We see drops on the concentrator; looking into it.", "internal": false }),
                json!({ "comment": "Concentrator CPU at 95% at peak hours.", "internal": true }),
            ],
        ),
        (
            1,
            vec![
                json!({ "status": "IN_PROGRESS" }),
                json!({ "comment": "Which account do you sign in with?", "internal": false }),
                json!({ "status": "PENDING", "pendingReason": "AWAITING_CUSTOMER" }),
            ],
        ),
        (
            2,
            vec![
                json!({ "status": "IN_PROGRESS" }),
                json!({ "status": "RESOLVED", "resolutionCode": "FIXED", "resolutionNotes": "Replaced the fuser unit." }),
            ],
        ),
        (
            4,
            vec![
                json!({ "status": "IN_PROGRESS" }),
                json!({ "comment": "All hands: the payment step fails after the last deploy.", "internal": true }),
            ],
        ),
        (5, vec![json!({ "status": "CANCELLED" })]),
        (
            7,
            vec![
                json!({ "status": "IN_PROGRESS" }),
                json!({ "status": "PENDING", "pendingReason": "AWAITING_VENDOR" }),
            ],
        ),
        (
            8,
            vec![
                json!({ "status": "IN_PROGRESS" }),
                json!({ "status": "RESOLVED", "resolutionCode": "FIXED", "resolutionNotes": "Swapped the keyboard." }),
                json!({ "status": "CLOSED" }),
            ],
        ),
    ];
    // The desk asks every requester how it went once their ticket is resolved.
    let settings = api
        .run(&ADMIN, "{ deskSettings { priorityMatrix reopenWindowDays autoCloseDays defaultGroupId problemTrendIncidents problemTrendWindowHours mailFromStrangers requireTimeToResolve surveyExpiryDays } }", json!({}))
        .await?["deskSettings"]
        .clone();
    let mut surveyed = settings;
    surveyed["surveySharePercent"] = json!(100);
    api.run(
        &ADMIN,
        "mutation($i: DeskSettingsInput!) { updateDeskSettings(input: $i) { surveySharePercent } }",
        json!({ "i": surveyed }),
    )
    .await?;
    for (index, actions) in steps {
        let agent = holder(&worked[index]);
        let mut version = worked[index]["version"].clone();
        let id = worked[index]["id"].clone();
        for action in actions {
            let data = if let Some(body) = action.get("comment") {
                api.run(agent, comment, json!({ "i": { "ticketId": id, "body": body, "internal": action["internal"] } }))
                    .await?["addComment"]["ticket"]
                    .clone()
            } else {
                let mut input = action.clone();
                input["id"] = id.clone();
                input["version"] = version.clone();
                api.run(agent, transition, json!({ "i": input }))
                    .await?["transitionTicket"]["ticket"]
                    .clone()
            };
            version = data["version"].clone();
        }
    }
    // Time worked, as the agents recorded it, and Rita's word on the swapped keyboard.
    let record = "mutation($t: ID!, $time: TimeWorkedInput!) { recordTime(input: { ticketId: $t, time: $time }) { timeEntry { id } } }";
    for (index, minutes, activity, note) in [
        (0, 40, "DIAGNOSIS", "Read the concentrator's logs."),
        (2, 25, "RESOLUTION", "Replaced the fuser unit."),
        (
            4,
            90,
            "DIAGNOSIS",
            "Traced the payment errors to the last deploy.",
        ),
        (8, 15, "RESOLUTION", "Swapped the keyboard."),
    ] {
        api.run(holder(&worked[index]), record, json!({ "t": worked[index]["id"], "time": { "minutes": minutes, "activity": activity, "billable": true, "note": note } })).await?;
    }
    api.run(&REQUESTERS[1], "mutation($t: ID!) { rateTicket(input: { ticketId: $t, rating: 4, comment: \"Quick, thank you.\" }) { rating } }", json!({ "t": worked[8]["id"] })).await?;
    // Oslo's weak Wi-Fi and the VPN drops may be one story: linked for whoever works either.
    api.run(&MANAGER, "mutation($t: ID!, $o: ID!) { linkTickets(input: { ticketId: $t, otherTicketId: $o, kind: RELATED_TO }) { link { id } } }", json!({ "t": worked[6]["id"], "o": worked[0]["id"] })).await?;
    // Raised last and routed to the desk's queue, where nobody has taken it yet: NEW.
    api.run(&REQUESTERS[0], create, json!({ "i": { "kind": "INCIDENT", "title": "Projector in room Bergen flickers", "description": "The image flickers every few seconds.", "impact": "LOW", "urgency": "LOW" } })).await?;
    // Orders: a laptop waiting on Rita's manager, VPN access under way.
    api.run(&REQUESTERS[0], "mutation($i: OrderCatalogItemInput!) { orderCatalogItem(input: $i) { ticket { id } } }", json!({ "i": { "itemId": laptop, "answers": { "model": "14-inch", "reason": "My laptop is six years old." } } })).await?;
    api.run(
        &REQUESTERS[2],
        "mutation($i: OrderCatalogItemInput!) { orderCatalogItem(input: $i) { ticket { id } } }",
        json!({ "i": { "itemId": vpn, "answers": {} } }),
    )
    .await?;

    // A problem behind the VPN drops, known with its workaround.
    let problem = api
        .run(&MANAGER, "mutation($i: CreateProblemInput!) { createProblem(input: $i) { problem { id version } } }", json!({ "i": { "title": "VPN concentrator overloaded at peak hours", "priority": "P2", "groupId": network, "incidentIds": [worked[0]["id"]], "description": "Drops for everyone between 9 and 10." } }))
        .await?["createProblem"]["problem"]
        .clone();
    let problem = api
        .run(&MANAGER, "mutation($i: TransitionProblemInput!) { transitionProblem(input: $i) { problem { id version } } }", json!({ "i": { "id": problem["id"], "version": problem["version"], "to": "UNDER_INVESTIGATION" } }))
        .await?["transitionProblem"]["problem"]
        .clone();
    let problem = api
        .run(&MANAGER, "mutation($i: UpdateProblemInput!) { updateProblem(input: $i) { problem { id version } } }", json!({ "i": { "id": problem["id"], "version": problem["version"], "rootCause": "The concentrator's licence caps sessions at 200.", "workaround": "Connect to vpn2.northwind.test until the licence is raised." } }))
        .await?["updateProblem"]["problem"]
        .clone();
    api.run(
        &MANAGER,
        "mutation($i: TransitionProblemInput!) { transitionProblem(input: $i) { problem { id } } }",
        json!({ "i": { "id": problem["id"], "version": problem["version"], "to": "KNOWN_ERROR" } }),
    )
    .await?;

    // Changes: one being written, one assessed and awaiting votes; a year-end freeze.
    let start = Utc::now() + Duration::days(3);
    let change =
        "mutation($i: CreateChangeInput!) { createChange(input: $i) { change { id version } } }";
    let plans = |title: &str, items: Vec<&Value>| {
        json!({ "i": { "type": "NORMAL", "title": title, "reason": "Fixes the root cause of a known error.",
            "implementationPlan": "Apply in the maintenance window.", "rollbackPlan": "Restore the previous version.", "testPlan": "Run the smoke tests.",
            "plannedStart": start, "plannedEnd": start + Duration::hours(2), "groupId": network, "configurationItemIds": items } })
    };
    api.run(
        &AGENTS[2],
        change,
        plans("Raise the VPN licence to 500 sessions", vec![]),
    )
    .await?;
    let upgrade = api
        .run(
            &AGENTS[3],
            change,
            plans("Upgrade orders-db to PostgreSQL 18", vec![&database]),
        )
        .await?["createChange"]["change"]
        .clone();
    let upgrade = api
        .run(&AGENTS[3], "mutation($i: TransitionChangeInput!) { transitionChange(input: $i) { change { id version } } }", json!({ "i": { "id": upgrade["id"], "version": upgrade["version"], "to": "SUBMITTED" } }))
        .await?["transitionChange"]["change"]
        .clone();
    api.run(&AGENTS[3], "mutation($i: AssessChangeInput!) { assessChange(input: $i) { change { id } } }", json!({ "i": { "id": upgrade["id"], "version": upgrade["version"], "impact": "HIGH", "complexity": "MEDIUM", "rollbackDifficulty": "MEDIUM" } })).await?;
    api.run(&ADMIN, "mutation($i: SaveChangeFreezeInput!) { saveChangeFreeze(input: $i) { id } }", json!({ "i": { "name": "Year-end freeze", "startsAt": format!("{year}-12-20T00:00:00Z"), "endsAt": format!("{}-01-04T00:00:00Z", year.parse::<i32>().unwrap_or(2026) + 1) } })).await?;

    // A release that ships the database upgrade, planned database first.
    let release = api
        .run(&MANAGER, "mutation($i: ReleaseFieldsInput!) { createRelease(input: $i) { release { id version } } }", json!({ "i": {
            "name": "Orders on PostgreSQL 18", "versionLabel": "2026.12", "releaseType": "MINOR", "ownerId": manager,
            "changeIds": [upgrade["id"]], "plannedStart": start, "plannedEnd": start + Duration::hours(2) } }))
        .await?["createRelease"]["release"]
        .clone();
    api.run(&MANAGER, "mutation($i: PlanReleaseInput!) { planRelease(input: $i) { release { id } } }", json!({ "i": {
        "id": release["id"], "version": release["version"], "arrange": true, "steps": [
            { "configurationItemId": app, "toVersion": "4.3", "environment": "production", "expectedMinutes": 20, "artefacts": "shop-web 4.3 container image" },
            { "configurationItemId": database, "toVersion": "18", "environment": "production", "expectedMinutes": 45, "artefacts": "postgresql-18 packages" },
        ] } })).await?;

    // A major incident under way: the orders database is down, Ada coordinates, and the
    // people it affects have heard once.
    let outage = api
        .run(&MANAGER, "mutation($i: DeclareMajorIncidentInput!) { declareMajorIncident(input: $i) { majorIncident { id } } }", json!({ "i": {
            "coordinatorId": agents[0],
            "newIncident": { "kind": "INCIDENT", "title": "Orders cannot be placed", "description": "orders-db refuses connections.",
                "impact": "HIGH", "urgency": "HIGH", "groupId": applications, "configurationItemIds": [database] } } }))
        .await?["declareMajorIncident"]["majorIncident"]["id"]
        .clone();
    api.run(&AGENTS[0], "mutation($id: ID!) { publishMajorIncidentUpdate(input: { id: $id, body: \"Orders are down; the database is failing over. Next update within 30 minutes.\" }) { update { recipients } } }", json!({ "id": outage })).await?;
    // The outage counts against the ordering service's 99.9% monthly target: its
    // availability and the downtime budget left show in `serviceAvailability`.
    let incident = api
        .run(
            &MANAGER,
            "{ majorIncidents { id ticket { id } } }",
            Value::Null,
        )
        .await?["majorIncidents"]
        .as_array()
        .and_then(|all| all.iter().find(|m| m["id"] == outage))
        .map(|m| m["ticket"]["id"].clone())
        .ok_or_else(|| anyhow::anyhow!("the major incident just declared is not listed"))?;
    api.run(&MANAGER, "mutation($t: ID!, $at: DateTime!) { recordOutage(input: { ticketId: $t, startedAt: $at, description: \"orders-db refuses connections\" }) { id } }",
        json!({ "t": incident, "at": Utc::now() - Duration::minutes(12) })).await?;
    api.run(
        &MANAGER,
        "mutation($s: ID!) { setAvailabilityTarget(serviceId: $s, targetPercent: 99.9) { id } }",
        json!({ "s": ordering }),
    )
    .await?;

    // Knowledge: published answers for requesters and for the desk.
    for (title, body, visibility) in [
        (
            "Connect to the VPN",
            "Open the VPN client, choose vpn.northwind.test and sign in with your usual account.",
            "PUBLIC",
        ),
        (
            "Clear a printer jam",
            "Open door B, pull the green lever, remove the paper, close the door.",
            "PUBLIC",
        ),
        (
            "Restart the VPN concentrator",
            "Drain sessions first: `vpnctl drain`, wait five minutes, then restart.",
            "INTERNAL",
        ),
    ] {
        let article = api
            .run(&MANAGER, "mutation($i: SaveArticleInput!) { saveArticle(input: $i) { article { id version } } }", json!({ "i": { "title": title, "body": body, "visibility": visibility } }))
            .await?["saveArticle"]["article"]
            .clone();
        let mut version = article["version"].clone();
        for to in ["REVIEW", "PUBLISHED"] {
            version = api
                .run(&MANAGER, "mutation($i: TransitionArticleInput!) { transitionArticle(input: $i) { article { version } } }", json!({ "i": { "id": article["id"], "version": version, "to": to } }))
                .await?["transitionArticle"]["article"]["version"]
                .clone();
        }
    }
    Ok(())
}
