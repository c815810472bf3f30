// API keys on the account page: create (a fresh route: may ask to confirm it is you),
// list, revoke, and a key's requests per day by status as a chart.
import { api, problem } from "/shared/api.js";
import { stackedBars, usageSeries } from "/shared/chart.js";
import { $, el, fillRows, show, when } from "/shared/dom.js";
import { withReauth } from "/shared/second-factor.js";

let refresh = async () => {};

/** "user_profile:read, orders:*" → {user_profile: ["read"], orders: ["*"]}; null when malformed. */
export function parsePermissions(text) {
  const permissions = new Map();
  for (const pair of text
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean)) {
    const match = /^([A-Za-z0-9_*.-]+):([A-Za-z0-9_*.-]+)$/.exec(pair);
    if (match === null) return null;
    permissions.set(match[1], [...(permissions.get(match[1]) ?? []), match[2]]);
  }
  return Object.fromEntries(permissions);
}

const permissionText = (permissions) =>
  Object.entries(permissions)
    .map(([resource, actions]) => actions.map((action) => `${resource}:${action}`).join(", "))
    .join(", ");

export async function showKeys() {
  const result = await api("GET", "/api/v1/api-keys?limit=100");
  const rows = (result.data?.items ?? []).map((key) => {
    const live = key.revoked_at === null;
    return el(
      "tr",
      { dataset: { keyId: key.id } },
      el("td", {}, key.name),
      el("td", {}, el("code", {}, key.prefix)),
      el("td", {}, permissionText(key.permissions)),
      el("td", {}, when(key.last_used_at)),
      el("td", {}, el("span", { class: "badge", "data-tone": live ? "ok" : "muted" }, live ? "active" : "revoked")),
      el(
        "td",
        { class: "actions" },
        el("button", { type: "button", "aria-label": `Usage of ${key.name}`, onclick: () => showUsage(key) }, "Usage"),
        live
          ? el("button", { type: "button", class: "danger", "aria-label": `Revoke ${key.name}`, onclick: () => revokeKey(key) }, "Revoke")
          : null,
      ),
    );
  });
  fillRows($("keys").tBodies[0], rows, "No keys yet");
}

export async function showUsage(key) {
  const result = await api("GET", `/api/v1/api-keys/${encodeURIComponent(key.id)}/usage?days=30`);
  if (result.status !== 200) return show(`No usage: ${problem(result)}`, "error");
  $("usage-title").textContent = `Usage of ${key.name}, last 30 days (${result.data.total} requests)`;
  stackedBars($("key-usage"), { title: `Requests of ${key.name} per day by status`, ...usageSeries(result.data) });
}

async function revokeKey(key) {
  const result = await api("DELETE", `/api/v1/api-keys/${encodeURIComponent(key.id)}`);
  await refresh();
  show(result.status === 204 ? `Key ${key.name} revoked` : `Could not revoke: ${problem(result)}`, result.status === 204 ? "ok" : "error");
}

export function setupKeys(refreshPage) {
  refresh = refreshPage;
  $("key-create").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    const permissions = parsePermissions(String(form.get("permissions")));
    if (permissions === null) return show("Permissions are resource:action pairs, like user_profile:read", "error");
    const result = await withReauth(() => api("POST", "/api/v1/api-keys", { name: form.get("name"), permissions }));
    if (result.status !== 201) return show(`Key not created: ${problem(result)}`, "error");
    event.target.reset();
    $("key-secret").textContent = result.data.api_key;
    $("key-created").hidden = false;
    await refresh();
    show(`Key ${result.data.name} created: copy it now`, "ok");
  });
}
