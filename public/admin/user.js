// One user's page in the console: profile edit, disable/enable, password reset link,
// removing factors, deletion; their sessions (end one, end all), API keys with a key's
// usage chart, and their security events. Every write is fresh: withReauth asks the
// administrator to confirm it is them when their sign-in is older than the limit.
import { api, problem } from "/shared/api.js";
import { stackedBars, usageSeries } from "/shared/chart.js";
import { $, deviceText, el, fillRows, placeText, show, when } from "/shared/dom.js";
import { withReauth } from "/shared/second-factor.js";
import { learnPeople, personLink } from "./people.js";

let user = null;
const path = () => `/api/v1/admin/users/${encodeURIComponent(user.id)}`;

/** Runs an admin write, re-reads the page, then says how it went. */
async function write(method, suffix, body, done, okStatus) {
  const result = await withReauth(() => api(method, `${path()}${suffix}`, body));
  const ok = result.status === okStatus;
  await showUser(user.id);
  show(ok ? done(result) : `Not done: ${problem(result)}`, ok ? "ok" : "error");
}

export async function showUser(id) {
  const base = `/api/v1/admin/users/${encodeURIComponent(id)}`;
  const [found, sessions, keys, events] = await Promise.all([
    api("GET", base),
    api("GET", `${base}/sessions`),
    api("GET", `${base}/api-keys?limit=100`),
    api("GET", `/api/v1/admin/events?user_id=${encodeURIComponent(id)}&limit=50`),
  ]);
  if (found.status !== 200) {
    user = null;
    $("user-title").textContent = "User not found";
    return show(`Could not open the user: ${problem(found)}`, "error");
  }
  user = found.data;
  $("user-title").textContent = user.email;
  $("user-facts").textContent = `id ${user.id} · created ${when(user.created_at)} · last sign-in ${when(user.last_login_at)}`;
  const form = $("user-profile");
  form.email.value = user.email;
  form.username.value = user.username ?? "";
  form.name.value = user.name ?? "";
  form.email_verified.checked = user.email_verified;
  form.is_superuser.checked = user.is_superuser;
  $("user-state").textContent = user.disabled ? "disabled" : "active";
  $("user-state").dataset.tone = user.disabled ? "bad" : "ok";
  $("user-mfa").textContent = user.mfa_enabled ? "on" : "off";
  $("user-mfa").dataset.tone = user.mfa_enabled ? "ok" : "muted";
  $("user-disable").textContent = user.disabled ? "Enable" : "Disable";
  showSessions(sessions.data?.sessions ?? []);
  showKeys(keys.data?.items ?? []);
  await learnPeople((events.data?.items ?? []).map((event) => event.actor_id));
  showEvents(events.data?.items ?? []);
}

function showSessions(sessions) {
  const rows = sessions.map((session) =>
    el(
      "tr",
      { dataset: { sessionId: session.id } },
      el("td", {}, deviceText(session.device)),
      el("td", {}, session.kind),
      el("td", {}, placeText(session.location), session.ip ? el("div", { class: "hint" }, session.ip) : null),
      el("td", { class: "when" }, when(session.last_activity)),
      el("td", {}, `${session.aal} (${session.amr.join(", ")})`),
      el(
        "td",
        {},
        el(
          "button",
          {
            type: "button",
            "aria-label": `End the session on ${deviceText(session.device)}`,
            onclick: () => write("DELETE", `/sessions/${encodeURIComponent(session.id)}`, undefined, () => "Session ended", 204),
          },
          "End",
        ),
      ),
    ),
  );
  fillRows($("user-sessions").tBodies[0], rows, "No active sessions");
  $("user-sessions-end-all").disabled = sessions.length === 0;
}

function showKeys(keys) {
  const rows = keys.map((key) =>
    el(
      "tr",
      { dataset: { keyId: key.id } },
      el("td", {}, key.name),
      el("td", {}, el("code", {}, key.prefix)),
      el("td", { class: "when" }, when(key.last_used_at)),
      el("td", {}, key.revoked_at === null ? "active" : "revoked"),
      el("td", {}, el("button", { type: "button", "aria-label": `Usage of ${key.name}`, onclick: () => showUsage(key) }, "Usage")),
    ),
  );
  fillRows($("user-keys").tBodies[0], rows, "No API keys");
}

async function showUsage(key) {
  const result = await api("GET", `${path()}/api-keys/${encodeURIComponent(key.id)}/usage?days=30`);
  if (result.status !== 200) return show(`No usage: ${problem(result)}`, "error");
  $("user-key-usage-title").textContent = `Usage of ${key.name}, last 30 days (${result.data.total} requests)`;
  stackedBars($("user-key-usage"), { title: `Requests of ${key.name} per day by status`, ...usageSeries(result.data) });
}

function showEvents(events) {
  const rows = events.map((event) =>
    el(
      "tr",
      {},
      el("td", { class: "when" }, when(event.at)),
      el("td", {}, event.type.replaceAll("_", " ")),
      el("td", {}, event.actor_id === null || event.actor_id === user.id ? "the user" : personLink(event.actor_id)),
      el("td", {}, deviceText(event.device)),
      el("td", {}, placeText(event.location)),
    ),
  );
  fillRows($("user-events").tBodies[0], rows, "No events");
}

export function setupUser() {
  $("user-profile").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const changes = {};
    if (form.email.value.trim() !== user.email) changes.email = form.email.value.trim();
    if (form.username.value.trim() !== (user.username ?? "")) changes.username = form.username.value.trim() || null;
    if (form.name.value.trim() !== (user.name ?? "")) changes.name = form.name.value.trim() || null;
    if (form.email_verified.checked !== user.email_verified) changes.email_verified = form.email_verified.checked;
    if (form.is_superuser.checked !== user.is_superuser) changes.is_superuser = form.is_superuser.checked;
    if (Object.keys(changes).length === 0) return show("Nothing changed");
    await write("PATCH", "", changes, () => "Profile saved", 200);
  });
  $("user-disable").addEventListener("click", () =>
    write("PATCH", "", { disabled: !user.disabled }, () => (user.disabled ? "User disabled: every session ended" : "User enabled"), 200),
  );
  $("user-reset").addEventListener("click", () =>
    write("POST", "/password-reset", undefined, () => "A reset link is on its way to the user", 202),
  );
  $("user-mfa-reset").addEventListener("click", () => {
    if (confirm(`Remove every second factor and recovery code of ${user.email}?`)) {
      write("DELETE", "/mfa", undefined, () => "Second factors removed", 204);
    }
  });
  $("user-sessions-end-all").addEventListener("click", () =>
    write("DELETE", "/sessions", undefined, (result) => `Ended ${result.data.revoked} sessions`, 200),
  );
  $("user-delete").addEventListener("click", async () => {
    if (!confirm(`Delete ${user.email} for good? Their sessions, keys and factors go with them.`)) return;
    // Not through write(): there is no user page to re-read afterwards.
    const result = await withReauth(() => api("DELETE", path()));
    if (result.status !== 204) return show(`Not deleted: ${problem(result)}`, "error");
    location.hash = "#/users";
    show("User deleted", "ok");
  });
}
