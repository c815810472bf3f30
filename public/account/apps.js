// Connected apps on the account page: the apps (and MCP clients, CLIs) the user allowed
// to act for them through this service's OAuth server, and revoking one, which ends its
// access at once. Hidden when the OAuth server is off (the list route is then 404).
import { api, problem } from "/shared/api.js";
import { $, el, show, when } from "/shared/dom.js";

let refresh = async () => {};

export function setupApps(reload) {
  refresh = reload;
}

export async function showApps() {
  const result = await api("GET", "/api/v1/users/me/connected-apps");
  $("apps-section").hidden = result.status === 404;
  if (result.status !== 200) return;
  const items = result.data.items.map((app) =>
    el(
      "li",
      { dataset: { grantId: app.grant_id } },
      el("span", { class: "what" }, app.client_name),
      el(
        "span",
        { class: "hint" },
        `${app.scopes.length === 0 ? "no scopes" : app.scopes.join(", ")}${app.resources.length === 0 ? "" : ` · for ${app.resources.join(", ")}`} · allowed ${when(app.created_at)} · last used ${when(app.last_used_at)}`,
      ),
      el(
        "button",
        { type: "button", "aria-label": `Revoke access for ${app.client_name}`, onclick: () => revokeApp(app.grant_id, app.client_name) },
        "Revoke access",
      ),
    ),
  );
  $("apps").replaceChildren(...(items.length === 0 ? [el("li", { class: "hint" }, "No apps are connected")] : items));
}

async function revokeApp(id, name) {
  const result = await api("DELETE", `/api/v1/users/me/connected-apps/${encodeURIComponent(id)}`);
  await refresh();
  show(
    result.status === 204 ? `${name} can no longer access your account` : `Could not revoke: ${problem(result)}`,
    result.status === 204 ? "ok" : "error",
  );
}
