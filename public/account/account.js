// The account page: sign-in (password, passkey, OAuth, the second step), and for the
// signed-in user their profile, password, email verification, second factors, sessions,
// API keys with usage, and security events. Served by the service at /account, where it
// only talks to its own origin (any ?api= is ignored). A copy can run on another origin
// (listed in the service's CORS_ORIGINS) with ?api=<service origin>, if that origin is in
// the copy's <meta name="edge-auth-api-origins"> (shared/api.js): a link naming any other
// server is ignored, so no link can make this page send a password elsewhere.
// Mailed links land here: /verify-email?token=, /reset-password?token=, /accept-invitation?token=
// and /magic-link?token= (email-sign-in.js).
import { api, ensureCsrfToken, problem, readSession, setCsrfToken, useApiBase } from "/shared/api.js";
import { $, busy, deviceText, el, fillRows, placeText, show, when } from "/shared/dom.js";
import { acceptSignIn, askSecondFactor, passkeySignIn, setupSignInSteps } from "/shared/second-factor.js";
import { setupFactors, showFactors } from "./factors.js";
import { setupKeys, showKeys } from "./keys.js";
import { setupApps, showApps } from "./apps.js";
import { setupOrgs, showOrgs } from "./orgs.js";
import { setupEmailSignIn, useMagicLink } from "./email-sign-in.js";
import { setupChallenges, withChallenge } from "/shared/challenge.js";
import { returnTarget, signInAgainReason } from "./return-to.js";

const { base, refused } = useApiBase({ allowQuery: true });
$("api-base").textContent = base;
if (refused !== null) show(`Ignored ?api=: this page may not use ${refused} as its service`, "error");
// Served by the service itself, the page needs no word on where the service is.
$("api-base").parentElement.hidden = base === location.origin;
const query = new URLSearchParams(location.search);
const target = returnTarget(query);
// A mailed link's token is read once and taken out of the address bar and history.
const mailedToken = query.get("token");
if (mailedToken !== null) {
  query.delete("token");
  history.replaceState(null, "", `${location.pathname}${query.size > 0 ? `?${query}` : ""}`);
}

/** Re-reads everything the page shows; then the caller shows its result. */
async function refresh() {
  const state = await readSession();
  if (state === null) return;
  const signedIn = state.authenticated === true;
  if (!signedIn) {
    setCsrfToken(null);
    return reveal(false);
  }
  await ensureCsrfToken();
  const { user, session } = state;
  if (target !== null) {
    // An app's sign-in (or /device) sent the browser here: go back once this session will do.
    const reason = signInAgainReason(target, session);
    if (reason === null) return location.assign(target.path);
    show(reason, "info");
    return reveal(false);
  }
  $("user-email").textContent = user.email;
  $("user-name").textContent = user.name ?? "(none)";
  $("email-state").textContent = user.email_verified ? "verified" : "not verified";
  $("email-state").dataset.tone = user.email_verified ? "ok" : "warn";
  $("verify-request").hidden = user.email_verified;
  $("assurance").textContent = `aal ${session.aal} (${session.amr.join(", ")})`;
  await Promise.all([showFactors(), showSessions(), showKeys(), showEvents(), showApps(), showOrgs(session)]);
  reveal(true);
}

/** Shows one side once its data is in, so nothing moves after it appears. */
function reveal(signedIn) {
  // Signed in while a verification link waits for an answer: it now names whether this is the account.
  if (!$("verify").hidden) askToVerify();
  $("signed-in").hidden = !signedIn;
  $("signed-out").hidden = signedIn;
  $("status").textContent = signedIn ? "Signed in" : "Signed out";
}

async function showSessions() {
  const list = await api("GET", "/api/v1/auth/sessions");
  const items = (list.data?.sessions ?? []).map((session) =>
    el(
      "li",
      { dataset: { sessionId: session.id } },
      el(
        "span",
        { class: "what" },
        `${deviceText(session.device)} (${session.kind})`,
        session.current ? el("strong", {}, " — this one") : null,
      ),
      el("span", { class: "hint" }, `${placeText(session.location)} · last active ${when(session.last_activity)} · aal ${session.aal}`),
      session.current
        ? null
        : el(
            "button",
            { type: "button", "aria-label": `Revoke the session on ${deviceText(session.device)}`, onclick: () => revoke(session.id) },
            "Revoke",
          ),
    ),
  );
  $("sessions").replaceChildren(...items);
}

async function revoke(id) {
  const result = await api("DELETE", `/api/v1/auth/sessions/${encodeURIComponent(id)}`);
  await refresh();
  show(result.status === 204 ? "Session revoked" : `Could not revoke: ${problem(result)}`, result.status === 204 ? "ok" : "error");
}

async function showEvents() {
  const result = await api("GET", "/api/v1/auth/events?limit=20");
  const rows = (result.data?.items ?? []).map((event) =>
    el(
      "tr",
      {},
      el("td", {}, when(event.at)),
      el("td", {}, event.type.replaceAll("_", " ")),
      el("td", {}, deviceText(event.device)),
      el("td", {}, placeText(event.location)),
    ),
  );
  fillRows($("events").tBodies[0], rows, "No events yet");
}

async function showProviders() {
  const result = await api("GET", "/api/v1/auth/oauth/providers");
  const back = `${location.origin}${location.pathname}${location.search.replace(/[?&]mfa_required=true/, "")}`;
  const buttons = (result.data?.providers ?? []).map(({ id }) =>
    el(
      "button",
      {
        type: "button",
        id: `oauth-${id}`,
        // A full-page navigation: the service sends the browser to the provider and back here.
        onclick: () => location.assign(`${base}/api/v1/auth/oauth/${encodeURIComponent(id)}?redirect_to=${encodeURIComponent(back)}`),
      },
      `Sign in with ${id}`,
    ),
  );
  $("oauth-providers").replaceChildren(...buttons);
}

function on(id, handler) {
  $(id).addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = event.target.querySelector("button[type=submit]");
    await busy(button, () => handler(new FormData(event.target), event.target))();
  });
}

on("signup", async (form) => {
  const result = await api(
    "POST",
    "/api/v1/users",
    withChallenge($("signup"), { email: form.get("email"), password: form.get("password") }),
  );
  show(result.status === 201 ? "Account created: sign in" : `Sign-up failed: ${problem(result)}`, result.status === 201 ? "ok" : "error");
});

on("login", async (form) => {
  const body = { email: form.get("email"), password: form.get("password"), remember_me: form.get("remember_me") === "on" };
  if (acceptSignIn(await api("POST", "/api/v1/auth/login", withChallenge($("login"), body)), "Sign-in failed")) await refresh();
});

on("forgot", async (form, element) => {
  const result = await api("POST", "/api/v1/auth/password-reset/request", withChallenge($("forgot"), { email: form.get("email") }));
  element.reset();
  show(result.status === 202 ? "If the address has an account, a reset link is on its way" : `Could not send: ${problem(result)}`);
});

on("reset", async (form) => {
  const result = await api("POST", "/api/v1/auth/password-reset/confirm", {
    token: mailedToken,
    new_password: form.get("new_password"),
  });
  if (result.status !== 200) return show(`Password not changed: ${problem(result)}`, "error");
  $("reset").hidden = true;
  show("Password changed: sign in with it", "ok");
});

on("rename", async (form) => {
  const result = await api("PATCH", "/api/v1/users/me", { name: form.get("name") });
  await refresh();
  show(result.status === 200 ? "Name saved" : `Save failed: ${problem(result)}`, result.status === 200 ? "ok" : "error");
});

on("password-change", async (form, element) => {
  const result = await api("POST", "/api/v1/users/me/password", {
    current_password: form.get("current_password"),
    new_password: form.get("new_password"),
  });
  if (result.status === 200) element.reset();
  await refresh();
  show(
    result.status === 200 ? "Password changed; other devices are signed out" : `Password not changed: ${problem(result)}`,
    result.status === 200 ? "ok" : "error",
  );
});

$("verify-request").addEventListener("click", async () => {
  const result = await api("POST", "/api/v1/auth/verify-email/request");
  show(
    result.status === 202 ? "A verification link is on its way to your inbox" : `Could not send: ${problem(result)}`,
    result.status === 202 ? "ok" : "error",
  );
});

async function signOut(path, done) {
  const result = await api("POST", path);
  await refresh();
  show(result.status === 200 ? done(result.data) : `Failed: ${problem(result)}`, result.status === 200 ? "ok" : "error");
}
$("logout").addEventListener("click", () => signOut("/api/v1/auth/logout", () => "Signed out"));
$("logout-all").addEventListener("click", () => signOut("/api/v1/auth/logout-all", (data) => `Signed out of ${data.revoked} sessions`));
$("logout-others").addEventListener("click", () =>
  signOut("/api/v1/auth/logout-all?keep_current=true", (data) => `Signed out of ${data.revoked} other sessions`),
);
$("passkey-login").addEventListener("click", () => passkeySignIn());

setupSignInSteps(refresh);
setupFactors(refresh);
setupKeys(refresh);
setupApps(refresh);
setupOrgs(refresh, mailedToken);
setupEmailSignIn(refresh);

/**
 * A verification link names an account: show which, and let the reader say whether it
 * is theirs. Nothing is posted on load (a mail scanner opening the link decides
 * nothing). Confirmed while signed in to that account, the address is proven by the
 * account's holder; "This wasn't me" locks the account someone else made with it.
 */
async function askToVerify() {
  const details = await api("POST", "/api/v1/auth/verify-email/details", { token: mailedToken });
  if (details.status !== 200) return show(`Not verified: ${problem(details)}`, "error");
  const account = details.data;
  const who = [account.username, account.name].filter(Boolean).join(", ");
  $("verify-account").textContent =
    `Verify ${account.email} for the account${who === "" ? "" : ` ${who}`} created ${when(account.created_at)}?`;
  $("verify-hint").textContent = account.signed_in
    ? "You are signed in to this account here: verifying proves the address is yours."
    : "You are not signed in to this account here. If it is yours, sign in first (below): verified while signed in, " +
      "the address is bound to you and your second factors survive any password reset. " +
      "If you did not create it, choose \u201cThis wasn't me\u201d: it is locked, and you can claim the address by resetting the password.";
  $("verify").hidden = false;
  $("verify-confirm").onclick = () => answerVerification("/api/v1/auth/verify-email/confirm", "Email address verified");
  $("verify-disown").onclick = () =>
    answerVerification("/api/v1/auth/verify-email/disown", "The account is locked; reset the password to claim the address");
}

async function answerVerification(path, done) {
  const result = await api("POST", path, { token: mailedToken });
  $("verify").hidden = true;
  await refresh();
  show(result.status === 200 ? done : `Not verified: ${problem(result)}`, result.status === 200 ? "ok" : "error");
}

async function start() {
  await showProviders();
  // Turnstile's widget, where the service asks for it (a page without it still works where it does not).
  await setupChallenges().catch((error) => show(`The challenge could not be shown: ${error.message}`, "error"));
  await refresh();
  if (location.pathname === "/verify-email" && mailedToken !== null) {
    await askToVerify();
  } else if (location.pathname === "/reset-password" && mailedToken !== null) {
    $("reset").hidden = false;
  } else if (location.pathname === "/magic-link" && mailedToken !== null) {
    await useMagicLink(mailedToken, refresh);
  }
  // An OAuth sign-in of an account with a second factor comes back with ?mfa_required=true
  // (its challenge is in an HttpOnly cookie the service reads at /auth/mfa/verify).
  if (query.get("mfa_required") === "true" && $("signed-in").hidden) askSecondFactor(null, ["totp", "recovery_code", "webauthn"]);
}

start().catch((error) => show(`Cannot reach the service: ${error.message}`, "error"));
