// The consent page (/oauth2/consent?request=<id>): names the app, where it sends you
// back, what it asks for and for which services, says when the app is not verified, and
// sends the user's decision. A device request (RFC 8628) has no redirect: the page says
// the device can continue.
import { api, ensureCsrfToken, problem, readSession, useApiBase } from "/shared/api.js";
import { $, busy, el, show } from "/shared/dom.js";

useApiBase({ allowQuery: false });

const SCOPE_TEXT = {
  openid: "Know who you are (your account id)",
  profile: "See your name and username",
  email: "See your email address",
  offline_access: "Stay connected when you are not using it",
};

const requestId = new URLSearchParams(location.search).get("request") ?? "";

async function start() {
  const session = await readSession();
  if (session === null) return;
  if (session.authenticated !== true) {
    $("status").textContent = "Signed out";
    show("Sign in first, then return to the app and try again.", "error");
    return;
  }
  await ensureCsrfToken();
  const result = await api("GET", `/api/v1/oauth2/requests/${encodeURIComponent(requestId)}`);
  if (result.status !== 200) {
    $("status").textContent = "Request not found";
    show(`This request cannot be answered: ${problem(result)}. Go back to the app and start again.`, "error");
    return;
  }
  const view = result.data;
  $("client-name").textContent = view.client.name;
  $("client-unverified").hidden = view.client.verified;
  $("client-redirect").hidden = view.client.redirect_host === null;
  $("redirect-host").textContent = view.client.redirect_host ?? "";
  const scopes = view.scopes.length === 0 ? ["Access the services below as you"] : view.scopes.map((scope) => SCOPE_TEXT[scope] ?? scope);
  $("scopes").replaceChildren(...scopes.map((text) => el("li", {}, text)));
  $("resources-block").hidden = view.resources.length === 0;
  $("resources").replaceChildren(...view.resources.map((resource) => el("li", {}, el("code", {}, resource))));
  $("consent").hidden = false;
  $("status").textContent = "Waiting for your answer";
}

async function decide(allow) {
  const result = await api("POST", `/api/v1/oauth2/requests/${encodeURIComponent(requestId)}/decision`, { allow });
  if (result.status !== 200) return show(`Could not send your answer: ${problem(result)}`, "error");
  $("consent").hidden = true;
  if (result.data.redirect_to === null) {
    $("status").textContent = allow ? "Allowed" : "Denied";
    return show(allow ? "Done: you can go back to your device." : "Denied: the device was not given access.", allow ? "ok" : "info");
  }
  $("status").textContent = "Returning to the app…";
  location.assign(result.data.redirect_to);
}

// busy() returns the guarded action: the button stays disabled while the answer is sent.
$("allow").addEventListener(
  "click",
  busy($("allow"), () => decide(true)),
);
$("deny").addEventListener(
  "click",
  busy($("deny"), () => decide(false)),
);
start();
