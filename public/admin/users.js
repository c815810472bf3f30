// The users view: search as you type (email, username or name prefix, debounced), a
// newest-first table, and "Show more" pages through the API's cursor.
import { api, problem } from "/shared/api.js";
import { $, el, fillRows, show, when } from "/shared/dom.js";

let cursor = null;
let shown = [];
let generation = 0;
let timer;

const yesNo = (value, yes, no, tones = ["ok", "muted"]) =>
  el("span", { class: "badge", "data-tone": value ? tones[0] : tones[1] }, value ? yes : no);

function row(user) {
  return el(
    "tr",
    { dataset: { userId: user.id } },
    // Long values are cut to keep the table in the window; the title holds them whole.
    el("td", {}, el("a", { href: `#/users/${encodeURIComponent(user.id)}`, class: "clip", title: user.email }, user.email)),
    el("td", {}, el("span", { class: "clip", title: user.name ?? "" }, user.name ?? "")),
    el("td", {}, yesNo(user.email_verified, "yes", "no", ["ok", "warn"])),
    el("td", {}, yesNo(user.mfa_enabled, "on", "off")),
    el("td", {}, yesNo(user.disabled, "disabled", "active", ["bad", "ok"])),
    el("td", { class: "when" }, when(user.last_login_at)),
    el("td", { class: "num" }, String(user.session_count)),
  );
}

/** Loads the first page for what is in the search box (or the next page with `more`). */
export async function showUsers(more = false) {
  const mine = ++generation;
  const query = $("user-search").value.trim();
  const params = new URLSearchParams({ limit: "25" });
  if (query !== "") params.set("query", query);
  if (more && cursor !== null) params.set("cursor", cursor);
  const result = await api("GET", `/api/v1/admin/users?${params}`);
  // A slower answer to an older search never overwrites a newer one.
  if (mine !== generation) return;
  if (result.status !== 200) return show(`Could not list users: ${problem(result)}`, "error");
  shown = more ? [...shown, ...result.data.items] : result.data.items;
  cursor = result.data.next_cursor;
  fillRows($("users").tBodies[0], shown.map(row), query === "" ? "No users yet" : `No user matches “${query}”`);
  $("users-more").hidden = cursor === null;
  $("users").dataset.query = query;
}

export function setupUsers() {
  $("user-search").addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => showUsers(), 200);
  });
  $("user-search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    clearTimeout(timer);
    showUsers();
  });
  $("users-more").addEventListener("click", () => showUsers(true));
}
