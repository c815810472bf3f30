// The admin console: an administrator signs in (password, then the second factor, or a
// passkey), and works on users, the audit log and sign-in numbers through the admin API
// with their cookie session and CSRF token. Same origin only (the CSP's connect-src
// 'self'). Views live in the hash: #/users, #/users/<id>, #/audit, #/overview, #/apps, #/orgs.
import { api, ensureCsrfToken, problem, readSession, setCsrfToken } from "/shared/api.js";
import { $, show } from "/shared/dom.js";
import { acceptSignIn, passkeySignIn, setupSignInSteps } from "/shared/second-factor.js";
import { setupAudit, showAudit, showOverview } from "./audit.js";
import { setupUser, showUser } from "./user.js";
import { setupUsers, showUsers } from "./users.js";
import { setupApps, showApps } from "./apps.js";
import { setupOrgs, showOrgs } from "./orgs.js";

const VIEWS = ["users", "user", "audit", "overview", "apps", "orgs"];

function route() {
  const [, section = "users", id] = location.hash.split("/");
  if (section === "users" && id !== undefined) return { view: "user", id: decodeURIComponent(id) };
  return { view: VIEWS.includes(section) && section !== "user" ? section : "users" };
}

async function render() {
  const { view, id } = route();
  for (const name of VIEWS) $(`view-${name}`).hidden = name !== view;
  for (const tab of document.querySelectorAll("nav.tabs a")) {
    if (tab.dataset.tab === (view === "user" ? "users" : view)) tab.setAttribute("aria-current", "page");
    else tab.removeAttribute("aria-current");
  }
  if (view === "users") await showUsers();
  else if (view === "user") await showUser(id);
  else if (view === "audit") await showAudit();
  else if (view === "apps") await showApps();
  else if (view === "orgs") await showOrgs();
  else await showOverview();
}

/** Who is signed in, and whether the admin API lets them in. */
async function refresh() {
  const session = await readSession();
  if (session === null) return;
  const signedIn = session.authenticated === true;
  $("sign-in").hidden = signedIn;
  $("sign-out").hidden = !signedIn;
  $("who").textContent = signedIn ? `${session.user.email} · aal ${session.session.aal}` : "";
  if (!signedIn) {
    setCsrfToken(null);
    $("console").hidden = true;
    $("no-access").hidden = true;
    $("status").textContent = "Signed out";
    return;
  }
  await ensureCsrfToken();
  const probe = await api("GET", "/api/v1/admin/users?limit=1");
  const allowed = probe.status === 200;
  // The view's data first, then the console appears: nothing moves after it is shown.
  if (allowed) await render();
  $("console").hidden = !allowed;
  $("no-access").hidden = allowed;
  $("no-access-detail").textContent = allowed ? "" : problem(probe);
  $("status").textContent = allowed ? "Signed in" : "Signed in without console access";
}

$("login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const result = await api("POST", "/api/v1/auth/login", { email: form.get("email"), password: form.get("password") });
  if (acceptSignIn(result, "Sign-in failed")) await refresh();
});
$("passkey-login").addEventListener("click", () => passkeySignIn());
$("sign-out").addEventListener("click", async () => {
  const result = await api("POST", "/api/v1/auth/logout");
  await refresh();
  show(result.status === 200 ? "Signed out" : `Sign-out failed: ${problem(result)}`, result.status === 200 ? "ok" : "error");
});

setupSignInSteps(refresh);
setupUsers();
setupApps();
setupOrgs();
setupUser();
setupAudit();
addEventListener("hashchange", () => {
  if (!$("console").hidden) render().catch((error) => show(`Could not show this view: ${error.message}`, "error"));
});

refresh().catch((error) => show(`Cannot reach the service: ${error.message}`, "error"));
