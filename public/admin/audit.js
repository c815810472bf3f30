// The audit log (security events across users, newest first, filtered by type and
// user, paged by cursor) and the sign-ins chart (succeeded, failed and throttled per day).
import { api, problem } from "/shared/api.js";
import { stackedBars } from "/shared/chart.js";
import { $, el, fillRows, placeText, show, when } from "/shared/dom.js";
import { learnPeople, personLink } from "./people.js";

const TYPES = [
  "login_succeeded",
  "login_failed",
  "login_throttled",
  "new_device",
  "session_revoked",
  "logout_all",
  "refresh_token_reused",
  "password_changed",
  "password_reset",
  "email_verified",
  "oauth_linked",
  "oauth_unlinked",
  "api_key_created",
  "api_key_revoked",
  "mfa_enabled",
  "mfa_disabled",
  "recovery_codes_regenerated",
  "recovery_code_used",
  "admin_user_created",
  "admin_user_updated",
  "admin_user_disabled",
  "admin_user_enabled",
  "admin_user_deleted",
  "admin_sessions_revoked",
  "admin_session_revoked",
  "admin_password_reset_sent",
  "admin_mfa_reset",
  "admin_throttle_cleared",
];

let cursor = null;
let shown = [];

function detailText(detail) {
  if (detail === null || detail === undefined) return "";
  return Object.entries(detail)
    .map(([name, value]) => `${name}: ${Array.isArray(value) ? value.join(", ") : value}`)
    .join("; ");
}

function row(event) {
  return el(
    "tr",
    {},
    el("td", { class: "when" }, when(event.at)),
    el("td", {}, event.type.replaceAll("_", " ")),
    el("td", {}, personLink(event.user_id)),
    // No actor: the request was not an administrator's (the user's own, or an attempt at their account).
    el("td", {}, event.actor_id === null ? el("span", { class: "hint" }, "the user") : personLink(event.actor_id)),
    el("td", {}, placeText(event.location), event.ip ? el("div", { class: "hint" }, event.ip) : null),
    el("td", { class: "wrap" }, detailText(event.detail)),
  );
}

export async function showAudit(more = false) {
  const form = new FormData($("audit-filters"));
  const params = new URLSearchParams({ limit: "50" });
  for (const name of ["type", "user_id"]) {
    const value = String(form.get(name) ?? "").trim();
    if (value !== "") params.set(name, value);
  }
  if (more && cursor !== null) params.set("before", cursor);
  const result = await api("GET", `/api/v1/admin/events?${params}`);
  if (result.status !== 200) return show(`Could not read the audit log: ${problem(result)}`, "error");
  await learnPeople(result.data.items.flatMap((event) => [event.user_id, event.actor_id]));
  shown = more ? [...shown, ...result.data.items] : result.data.items;
  cursor = result.data.next_cursor;
  fillRows($("audit").tBodies[0], shown.map(row), "No events match");
  $("audit-more").hidden = cursor === null;
}

export async function showOverview() {
  const result = await api("GET", "/api/v1/admin/stats/sign-ins?days=30");
  if (result.status !== 200) return show(`Could not read sign-ins: ${problem(result)}`, "error");
  const items = result.data.items;
  stackedBars($("sign-in-chart"), {
    title: "Sign-ins per day",
    labels: items.map((day) => day.date),
    series: [
      { name: "Succeeded", tone: "chart-ok", values: items.map((day) => day.succeeded) },
      { name: "Failed", tone: "chart-bad", values: items.map((day) => day.failed) },
      { name: "Throttled", tone: "chart-muted", values: items.map((day) => day.throttled) },
    ],
  });
}

export function setupAudit() {
  const select = $("audit-filters").type;
  select.append(...TYPES.map((type) => el("option", { value: type }, type.replaceAll("_", " "))));
  $("audit-filters").addEventListener("submit", (event) => {
    event.preventDefault();
    showAudit();
  });
  $("audit-more").addEventListener("click", () => showAudit(true));
}
