// The OAuth clients view (#/apps): the apps that use this service as their authorization
// server. Register one (its secret is shown once), disable or enable it, delete it, and
// see who authorized it. Disabling or deleting ends every grant users gave it.
import { api, problem } from "/shared/api.js";
import { $, el, fillRows, show, when } from "/shared/dom.js";
import { withReauth } from "/shared/second-factor.js";

const badge = (text, tone) => el("span", { class: "badge", "data-tone": tone }, text);

function row(client) {
  return el(
    "tr",
    { dataset: { clientId: client.client_id } },
    el("td", {}, el("span", { class: "clip", title: client.name }, client.name)),
    el("td", {}, el("code", { class: "clip", title: client.client_id }, client.client_id)),
    el("td", {}, client.type),
    el("td", {}, client.source === "admin" ? badge("verified", "ok") : badge("self-registered", "warn")),
    el("td", {}, client.disabled ? badge("disabled", "bad") : badge("active", "ok")),
    el(
      "td",
      { class: "actions" },
      el("button", { type: "button", onclick: () => showAuthorizations(client) }, "Who authorized"),
      el("button", { type: "button", onclick: () => setDisabled(client, !client.disabled) }, client.disabled ? "Enable" : "Disable"),
      el("button", { type: "button", class: "danger", onclick: () => remove(client) }, "Delete"),
    ),
  );
}

export async function showApps() {
  const result = await api("GET", "/api/v1/admin/oauth-clients?limit=100");
  if (result.status === 404) {
    $("apps-off").hidden = false;
    $("apps-on").hidden = true;
    return;
  }
  if (result.status !== 200) return show(`Could not list apps: ${problem(result)}`, "error");
  $("apps-off").hidden = true;
  $("apps-on").hidden = false;
  fillRows($("apps").tBodies[0], result.data.items.map(row), "No apps registered yet");
}

async function showAuthorizations(client) {
  const result = await api("GET", `/api/v1/admin/oauth-clients/${encodeURIComponent(client.client_id)}`);
  if (result.status !== 200) return show(`Could not read the app: ${problem(result)}`, "error");
  const items = result.data.authorizations.map((entry) =>
    el(
      "li",
      {},
      el("a", { href: `#/users/${encodeURIComponent(entry.user_id)}` }, entry.user_id),
      ` · first ${when(entry.first_at)} · last ${when(entry.last_at)}`,
    ),
  );
  $("app-authorizations-title").textContent = `Who authorized ${client.name}`;
  $("app-authorizations").replaceChildren(...(items.length === 0 ? [el("li", { class: "hint" }, "Nobody yet")] : items));
  $("app-authorizations-block").hidden = false;
}

async function setDisabled(client, disabled) {
  const result = await withReauth(() => api("PATCH", `/api/v1/admin/oauth-clients/${encodeURIComponent(client.client_id)}`, { disabled }));
  await showApps();
  if (result.status !== 200) return show(`Could not change ${client.name}: ${problem(result)}`, "error");
  show(disabled ? `${client.name} is disabled; every grant it had has ended` : `${client.name} is enabled again`, "ok");
}

async function remove(client) {
  if (!confirm(`Delete ${client.name}? Every user's grant to it ends.`)) return;
  const result = await withReauth(() => api("DELETE", `/api/v1/admin/oauth-clients/${encodeURIComponent(client.client_id)}`));
  await showApps();
  show(result.status === 204 ? `${client.name} deleted` : `Could not delete: ${problem(result)}`, result.status === 204 ? "ok" : "error");
}

export function setupApps() {
  $("app-create").addEventListener("submit", async (event) => {
    event.preventDefault();
    // The element itself: event.currentTarget is null once the handler has awaited.
    const element = event.currentTarget;
    const form = new FormData(element);
    const lines = (name) =>
      String(form.get(name) ?? "")
        .split(/\s+/)
        .filter(Boolean);
    const body = {
      name: form.get("name"),
      type: form.get("type"),
      redirect_uris: lines("redirect_uris"),
      grant_types: form.getAll("grant_types"),
      first_party: form.get("first_party") === "on",
      require_aal: form.get("require_aal2") === "on" ? 2 : 1,
      introspection: form.get("introspection") === "on",
    };
    const result = await withReauth(() => api("POST", "/api/v1/admin/oauth-clients", body));
    if (result.status !== 201) return show(`Could not register the app: ${problem(result)}`, "error");
    element.reset();
    $("app-created").hidden = false;
    $("app-created-id").textContent = result.data.client_id;
    $("app-created-secret").textContent = result.data.client_secret ?? "(a public client has no secret)";
    await showApps();
    show(`${result.data.name} registered`, "ok");
  });
}
