// The organizations view: search by name or slug (debounced), a table paged by the API's
// cursor, and one organization's members below it.
import { api, problem } from "/shared/api.js";
import { $, el, fillRows, show, when } from "/shared/dom.js";

let cursor = null;
let shown = [];
let generation = 0;
let timer;

function row(org) {
  return el(
    "tr",
    { dataset: { orgId: org.id } },
    el("td", {}, el("button", { type: "button", "aria-label": `Members of ${org.name}`, onclick: () => showMembers(org) }, org.name)),
    el("td", {}, el("code", {}, org.slug)),
    el("td", { class: "num" }, String(org.member_count)),
    el("td", { class: "when" }, when(org.created_at)),
  );
}

export async function showOrgs(more = false) {
  const mine = ++generation;
  const query = $("org-search").value.trim();
  const params = new URLSearchParams({ limit: "25" });
  if (query !== "") params.set("query", query);
  if (more && cursor !== null) params.set("cursor", cursor);
  const result = await api("GET", `/api/v1/admin/orgs?${params}`);
  if (mine !== generation) return;
  if (result.status !== 200) return show(`Could not list organizations: ${problem(result)}`, "error");
  shown = more ? [...shown, ...result.data.items] : result.data.items;
  cursor = result.data.next_cursor;
  fillRows($("orgs").tBodies[0], shown.map(row), query === "" ? "No organizations yet" : `No organization matches “${query}”`);
  $("orgs-more").hidden = cursor === null;
}

async function showMembers(org) {
  const result = await api("GET", `/api/v1/admin/orgs/${encodeURIComponent(org.id)}`);
  if (result.status !== 200) return show(`Could not read ${org.name}: ${problem(result)}`, "error");
  $("org-members-title").textContent = `Members of ${result.data.name}`;
  const rows = result.data.members.map((member) =>
    el(
      "tr",
      {},
      el(
        "td",
        {},
        el("a", { href: `#/users/${encodeURIComponent(member.user.id)}`, class: "clip", title: member.user.email }, member.user.email),
      ),
      el("td", {}, member.role),
      el("td", { class: "when" }, when(member.joined_at)),
    ),
  );
  fillRows($("org-members").tBodies[0], rows, "No members");
  $("org-members-box").hidden = false;
}

export function setupOrgs() {
  $("org-search").addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => showOrgs(), 200);
  });
  $("org-search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    clearTimeout(timer);
    showOrgs();
  });
  $("orgs-more").addEventListener("click", () => showOrgs(true));
}
