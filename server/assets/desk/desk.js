// The live desk: a reference client for Switchboard's API, small enough to read in one
// sitting and built with nothing but the browser and graphql-ws (served beside it).
//
// It loads one group's open queue over HTTP, then keeps it current from three
// subscriptions over graphql-transport-ws:
//   queueChanged  tickets entering, changing and leaving the queue;
//   slaAlerts     warnings and breaches, for the feed;
//   dashboard     the open tickets counted by priority and status.
// SLA clocks count down here, in the browser, from what the server last said of them;
// the page asks again only when a clock is due to change state (`nextChangeAt`), so a
// queue of a hundred countdowns costs the server nothing while it runs.
//
// A lost connection is shown as lost. graphql-ws reconnects with backoff, and every
// subscription is sent again with `after` set to the last event it delivered, so the
// server replays exactly what happened while the page was away.
"use strict";

/** The statuses that keep a ticket in its group's queue. */
const OPEN = ["NEW", "ASSIGNED", "IN_PROGRESS", "PENDING"];
const PRIORITIES = ["P1", "P2", "P3", "P4"];
/** Where the token is kept: this tab only, gone when it closes. */
const TOKEN_KEY = "switchboard.desk.token";
const FEED_LENGTH = 50;
/** Seconds after `nextChangeAt` before asking: the server usually pushes the change first. */
const CHANGE_GRACE_MS = 1500;

const TICKET = `id number title status priority pendingReason createdAt
  assignee { name }
  group { id }
  slaClocks { metric state remainingSeconds dueAt nextChangeAt }`;

const SIGN_IN = `query SignIn { viewer { name roles } groups { id name tier } }`;
const START = `query Start { eventLogPosition serverTime }`;
const QUEUE = `query Queue($groupId: ID!, $after: String) {
  tickets(filter: { groupId: [$groupId], status: [NEW, ASSIGNED, IN_PROGRESS, PENDING] },
          orderBy: { field: PRIORITY, direction: ASC }, first: 50, after: $after) {
    nodes { ${TICKET} }
    pageInfo { hasNextPage endCursor }
  }
}`;
const ONE_TICKET = `query Ticket($id: ID!) { node(id: $id) { ... on Ticket { ${TICKET} } } }`;

const QUEUE_CHANGED = `subscription QueueChanged($groupId: ID!, $after: Int) {
  queueChanged(groupId: $groupId, after: $after) {
    kind
    event { seq ticketId ticket { ${TICKET} } }
  }
}`;
const SLA_ALERTS = `subscription SlaAlerts($groupId: ID!, $after: Int) {
  slaAlerts(filter: { groupId: $groupId }, after: $after) {
    seq kind metric percent remainingSeconds
    event { at ticketNumber }
  }
}`;
const DASHBOARD = `subscription Dashboard($groupId: ID!) {
  dashboard(filter: { groupId: [$groupId], status: [NEW, ASSIGNED, IN_PROGRESS, PENDING] }) {
    total
    byPriority { priority count }
    byStatus { status count }
  }
}`;

const page = {
  token: null,
  client: null,
  groupId: null,
  /** Bumped whenever the queue shown changes, so that a late answer for the last one is dropped. */
  generation: 0,
  /** The open tickets: id → { ticket, readAt }, readAt being when (this machine's clock, ms)
   *  its clocks were read; a countdown runs from there. */
  queue: new Map(),
  /** Tickets that just arrived, highlighted once. */
  arrived: new Set(),
  /** The server's clock minus this machine's, in ms: `nextChangeAt` is the server's time. */
  skew: 0,
  /** Ends each running subscription. */
  stops: [],
  /** The clock cells on screen, ticked every second. */
  clocks: [],
};

const $ = (selector) => document.querySelector(selector);

// ---------------------------------------------------------------------------------------
// Talking to the server.

class ApiError extends Error {
  constructor(error) {
    super(error.message);
    this.code = error.extensions?.code;
  }
}

/** One query over HTTP: its data, or the first error thrown. */
async function gql(query, variables = {}) {
  let response;
  try {
    response = await fetch("/graphql", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/graphql-response+json, application/json",
        authorization: `Bearer ${page.token}`,
      },
      body: JSON.stringify({ query, variables }),
    });
  } catch {
    throw new ApiError({ message: "the server cannot be reached", extensions: { code: "OFFLINE" } });
  }
  const body = await response.json().catch(() => ({}));
  if (body.errors?.length) throw new ApiError(body.errors[0]);
  if (!body.data) throw new ApiError({ message: `the server answered ${response.status}` });
  return body.data;
}

/** The socket every subscription shares, reconnecting for as long as the page is open. */
function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  page.client = graphqlWs.createClient({
    url: `${scheme}://${location.host}/graphql/ws`,
    // A browser cannot set headers on a WebSocket: the token goes in connection_init.
    connectionParams: () => ({ authorization: `Bearer ${page.token}` }),
    // Connect now, not at the first subscription, so that the badge tells the truth
    // about the connection even before a queue is open.
    lazy: false,
    onNonLazyError: (error) => showError(describeError(error)),
    keepAlive: 15_000,
    retryAttempts: Infinity,
    shouldRetry: () => true,
    // 0.5 s, 1 s, 2 s, 4 s, then every 5 s, each with up to half a second of jitter so
    // that a desk full of pages does not come back in step after a restart.
    retryWait: (retries) =>
      new Promise((resolve) =>
        setTimeout(resolve, Math.min(500 * 2 ** retries, 5000) + Math.random() * 500),
      ),
    on: {
      connecting: (isRetry) => {
        if (!isRetry) showConnection("connecting", "connecting…");
      },
      connected: (_socket, _payload, wasRetry) => {
        showConnection("live", "live");
        if (wasRetry) resync();
      },
      closed: (event) => {
        if (!page.client) return; // signed out
        if (event?.code === 4401 || event?.code === 4403) {
          signOut(`The server refused the token: ${event.reason || "sign in again"}.`);
          return;
        }
        showConnection("lost", "connection lost: reconnecting…");
      },
    },
  });
}

/**
 * Starts one subscription that resumes where it left off. graphql-ws writes out the
 * payload each time it (re)subscribes, so the getter below puts in `after` the last
 * event this subscription delivered, and the server replays exactly what was missed.
 * `onData` returns the seq of the event it took, if any.
 */
function follow(query, variables, onData, after) {
  // A stream restarted late (after falling behind) must not feed a queue opened since.
  const generation = page.generation;
  let stop = () => {};
  const payload = {
    query,
    get variables() {
      return after === undefined ? variables : { ...variables, after };
    },
  };
  const start = () => {
    if (generation !== page.generation) return;
    stop = page.client.subscribe(payload, {
      next: ({ data, errors }) => {
        if (generation !== page.generation) return;
        if (data) {
          const seq = onData(data);
          if (typeof seq === "number") after = seq;
        }
        if (errors) failed(errors);
      },
      error: (error) => (Array.isArray(error) ? failed(error) : showError(describeError(error))),
      complete: () => {},
    });
  };
  const failed = (errors) => {
    const resumeAfter = errors[0]?.extensions?.resumeAfter;
    if (typeof resumeAfter === "number") {
      // This page fell behind and the server ended the stream: start again from where
      // it says, and miss nothing.
      after = resumeAfter;
      setTimeout(start, 0);
    } else {
      showError(errors.map((e) => e.message).join("; "));
    }
  };
  start();
  page.stops.push(() => stop());
}

function describeError(error) {
  if (error?.reason) return `the connection closed: ${error.reason}`;
  return error?.message ?? String(error);
}

/** After a reconnection: the server's clock again (it may have restarted elsewhere). */
async function resync() {
  try {
    const { serverTime } = await gql(START);
    page.skew = Date.parse(serverTime) - Date.now();
  } catch (error) {
    showError(error.message);
  }
}

// ---------------------------------------------------------------------------------------
// Signing in and choosing a queue.

async function signIn(token) {
  page.token = token;
  let data;
  try {
    data = await gql(SIGN_IN);
  } catch (error) {
    signOut(error.message);
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  $("#sign-in").hidden = true;
  $("#desk").hidden = false;
  $("#sign-out").hidden = false;
  $("#who").textContent = `${data.viewer.name} (${data.viewer.roles.join(", ").toLowerCase()})`;

  const groups = [...data.groups].sort((a, b) => a.tier - b.tier || a.name.localeCompare(b.name));
  const select = $("#group");
  select.replaceChildren(
    ...groups.map((group) => new Option(`${group.name} (tier ${group.tier})`, group.id)),
  );
  if (groups.length === 0) {
    showError("There are no groups yet: an admin creates them with saveGroup.");
    return;
  }
  const wanted = new URLSearchParams(location.search).get("group");
  select.value = groups.some((g) => g.id === wanted) ? wanted : groups[0].id;
  connect();
  openQueue(select.value);
}

function signOut(message = "") {
  closeQueue();
  const client = page.client;
  page.client = null;
  client?.dispose();
  page.token = null;
  sessionStorage.removeItem(TOKEN_KEY);
  showConnection("idle", "not connected");
  $("#desk").hidden = true;
  $("#sign-out").hidden = true;
  $("#who").textContent = "";
  $("#sign-in").hidden = false;
  $("#sign-in-error").textContent = message;
}

function closeQueue() {
  page.generation++;
  for (const stop of page.stops.splice(0)) stop();
  page.queue.clear();
  page.arrived.clear();
  $("#feed").replaceChildren();
  $("#feed-empty").hidden = false;
  $("#counts").replaceChildren();
  showError("");
}

async function openQueue(groupId) {
  closeQueue();
  const generation = page.generation;
  page.groupId = groupId;
  history.replaceState(null, "", `?group=${encodeURIComponent(groupId)}`);
  try {
    // Where the log stands, read before the queue: following from there, no change
    // committed while the queue loads is missed (one may come twice; it is applied by id).
    const start = await gql(START);
    page.skew = Date.parse(start.serverTime) - Date.now();
    const tickets = [];
    let after = null;
    do {
      const { tickets: slice } = await gql(QUEUE, { groupId, after });
      tickets.push(...slice.nodes);
      after = slice.pageInfo.hasNextPage ? slice.pageInfo.endCursor : null;
    } while (after && tickets.length < 1000);
    if (generation !== page.generation) return;
    for (const ticket of tickets) page.queue.set(ticket.id, entry(ticket));
    renderQueue();
    follow(QUEUE_CHANGED, { groupId }, onQueueChanged, start.eventLogPosition);
    follow(SLA_ALERTS, { groupId }, onSlaAlert, start.eventLogPosition);
    follow(DASHBOARD, { groupId }, onCounts);
  } catch (error) {
    if (generation === page.generation) showError(error.message);
  }
}

// ---------------------------------------------------------------------------------------
// What the subscriptions say.

function entry(ticket) {
  return { ticket, readAt: Date.now(), askedAt: 0 };
}

/** Puts the ticket in the queue, or takes it out when it no longer belongs there. */
function place(ticketId, ticket) {
  const belongs = ticket && OPEN.includes(ticket.status) && ticket.group?.id === page.groupId;
  if (!belongs) {
    page.queue.delete(ticketId);
    return;
  }
  if (!page.queue.has(ticket.id)) page.arrived.add(ticket.id);
  page.queue.set(ticket.id, entry(ticket));
}

function onQueueChanged({ queueChanged: { kind, event } }) {
  place(event.ticketId, kind === "LEFT" ? null : event.ticket);
  renderQueue();
  return event.seq;
}

function onSlaAlert({ slaAlerts: alert }) {
  const item = document.createElement("li");
  item.dataset.kind = alert.kind;
  item.dataset.ticket = alert.event.ticketNumber ?? "";
  const at = document.createElement("time");
  at.dateTime = alert.event.at;
  at.textContent = new Date(alert.event.at).toLocaleTimeString();
  const kind = document.createElement("b");
  kind.textContent = alert.kind === "BREACHED" ? "Breached" : `Warning ${alert.percent ?? ""}%`;
  const metric = (alert.metric ?? "").toLowerCase();
  const left =
    alert.kind === "BREACHED" || alert.remainingSeconds == null
      ? ""
      : `, ${duration(alert.remainingSeconds)} left`;
  item.append(at, kind, ` ${alert.event.ticketNumber ?? ""} ${metric}${left}`);
  const feed = $("#feed");
  feed.prepend(item);
  while (feed.children.length > FEED_LENGTH) feed.lastElementChild.remove();
  $("#feed-empty").hidden = true;
  return alert.seq;
}

function onCounts({ dashboard: counts }) {
  const tiles = [["open", counts.total]];
  const byPriority = new Map(counts.byPriority.map((c) => [c.priority, c.count]));
  for (const priority of PRIORITIES) tiles.push([priority, byPriority.get(priority) ?? 0]);
  for (const { status, count } of counts.byStatus) {
    if (OPEN.includes(status)) tiles.push([status.toLowerCase().replace("_", " "), count]);
  }
  $("#counts").replaceChildren(
    ...tiles.map(([label, count]) => {
      const tile = document.createElement("span");
      tile.className = "count";
      tile.dataset.label = label;
      const number = document.createElement("b");
      number.textContent = count;
      tile.append(number, label);
      return tile;
    }),
  );
}

// ---------------------------------------------------------------------------------------
// Drawing.

/** Working order, as the server's: priority, then oldest first. */
function workingOrder(a, b) {
  return (
    PRIORITIES.indexOf(a.ticket.priority) - PRIORITIES.indexOf(b.ticket.priority) ||
    a.ticket.createdAt.localeCompare(b.ticket.createdAt) ||
    a.ticket.number.localeCompare(b.ticket.number)
  );
}

function renderQueue() {
  const rows = [];
  page.clocks = [];
  for (const item of [...page.queue.values()].sort(workingOrder)) {
    const { ticket } = item;
    const row = document.createElement("tr");
    row.dataset.number = ticket.number;
    if (page.arrived.delete(ticket.id)) row.className = "fresh";
    const status =
      ticket.status === "PENDING" && ticket.pendingReason
        ? `pending: ${ticket.pendingReason.toLowerCase().replace("_", " ")}`
        : ticket.status.toLowerCase().replace("_", " ");
    row.append(
      cell(ticket.number),
      cell(ticket.priority, `priority ${ticket.priority}`),
      cell(ticket.title),
      cell(status),
      cell(ticket.assignee?.name ?? "unassigned"),
      clockCell(item, "RESPONSE"),
      clockCell(item, "RESOLUTION"),
    );
    rows.push(row);
  }
  $("#queue tbody").replaceChildren(...rows);
  $("#queue-empty").hidden = rows.length > 0;
  tick();
}

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function clockCell(item, metric) {
  const td = document.createElement("td");
  const clock = item.ticket.slaClocks.find((c) => c.metric === metric);
  if (clock) {
    const span = document.createElement("span");
    span.className = "clock";
    span.dataset.metric = metric;
    span.dataset.state = clock.state;
    td.append(span);
    page.clocks.push({ span, clock, item });
  }
  return td;
}

/** Every second: the countdowns move, and clocks due to change state are asked for again. */
function tick() {
  const now = Date.now();
  for (const { span, clock, item } of page.clocks) {
    span.textContent = clockText(clock, (now - item.readAt) / 1000);
    span.classList.toggle("overdue", clock.state === "RUNNING" && span.textContent.startsWith("-"));
  }
  for (const item of page.queue.values()) {
    const due = nextChange(item);
    if (due !== null && now >= due + CHANGE_GRACE_MS && item.askedAt < due) {
      item.askedAt = now;
      reread(item.ticket.id);
    }
  }
}

/** When (this machine's clock) one of the ticket's clocks changes state, as last read. */
function nextChange(item) {
  const instants = item.ticket.slaClocks
    .map((clock) => clock.nextChangeAt && Date.parse(clock.nextChangeAt) - page.skew)
    .filter((at) => at && at > item.readAt);
  return instants.length ? Math.min(...instants) : null;
}

async function reread(id) {
  const generation = page.generation;
  try {
    const { node } = await gql(ONE_TICKET, { id });
    if (generation !== page.generation) return;
    place(id, node);
    renderQueue();
  } catch (error) {
    showError(error.message);
  }
}

function clockText(clock, secondsSinceRead) {
  switch (clock.state) {
    case "RUNNING":
      return duration(clock.remainingSeconds - secondsSinceRead);
    case "OUTSIDE_BUSINESS_HOURS":
      return `${duration(clock.remainingSeconds)} (closed)`;
    case "PAUSED":
      return `${duration(clock.remainingSeconds)} (paused)`;
    case "BREACHED":
      return `breached, over by ${duration(-clock.remainingSeconds)}`;
    case "MET":
      return "met";
    default:
      return "—";
  }
}

/** 1:02:03, 4:05 or -0:07; days when longer. */
function duration(seconds) {
  const sign = seconds < 0 ? "-" : "";
  let rest = Math.floor(Math.abs(seconds));
  const days = Math.floor(rest / 86400);
  rest %= 86400;
  const h = Math.floor(rest / 3600);
  const m = Math.floor((rest % 3600) / 60);
  const s = String(rest % 60).padStart(2, "0");
  const clock = h > 0 || days > 0 ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
  return `${sign}${days > 0 ? `${days}d ` : ""}${clock}`;
}

function showConnection(state, text) {
  const badge = $("#connection");
  badge.dataset.state = state;
  badge.textContent = text;
}

function showError(message) {
  $("#desk-error").textContent = message;
}

// ---------------------------------------------------------------------------------------
// Starting.

$("#sign-in-form").addEventListener("submit", (event) => {
  event.preventDefault();
  signIn($("#token").value.trim());
});
$("#sign-out").addEventListener("click", () => signOut());
$("#group").addEventListener("change", (event) => openQueue(event.target.value));
setInterval(tick, 1000);

{
  // A link may carry the token in its fragment (`/desk#token=…`), which is never sent
  // to a server: it is taken into this tab and wiped from the address bar.
  const fromLink = new URLSearchParams(location.hash.slice(1)).get("token");
  if (fromLink) history.replaceState(null, "", location.pathname + location.search);
  const token = fromLink ?? sessionStorage.getItem(TOKEN_KEY);
  if (token) signIn(token);
  else signOut();
}
