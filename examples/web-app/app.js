// A front end on another origin than the auth API, using session cookies (a result
// message is shown once the page has re-read the account, so both agree):
// - every call sends cookies (credentials: "include"), so CORS_ORIGINS must list this origin;
// - every state-changing call sends the CSRF token in the X-CSRF-Token header;
// - the token comes from login, and after a page reload from POST /auth/refresh-csrf
//   (the readable csrf_token cookie belongs to the API's origin, so this page cannot read it).
const API = new URLSearchParams(location.search).get("api") ?? "http://localhost:8787";
let csrfToken = null;

const $ = (id) => document.getElementById(id);
$("api-base").textContent = API;

async function api(method, path, body, retried = false) {
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && csrfToken !== null) headers["X-CSRF-Token"] = csrfToken;
  const response = await fetch(`${API}${path}`, {
    method,
    headers,
    credentials: "include",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  // Another tab (or a reload) rotated the session's CSRF token: get the current one, retry once.
  if (response.status === 403 && data?.code === "csrf_failed" && !retried && path !== "/api/v1/auth/refresh-csrf") {
    const rotated = await api("POST", "/api/v1/auth/refresh-csrf", undefined, true);
    if (rotated.status === 200) {
      csrfToken = rotated.data.csrf_token;
      return api(method, path, body, true);
    }
  }
  return { status: response.status, data };
}

function show(message) {
  $("message").textContent = message;
}

async function refresh() {
  const check = await api("GET", "/api/v1/auth/check-auth");
  const signedIn = check.status === 200 && check.data.authenticated === true;
  $("signed-in").hidden = !signedIn;
  $("signed-out").hidden = signedIn;
  $("status").textContent = signedIn ? "Signed in" : "Signed out";
  if (!signedIn) {
    csrfToken = null;
    return;
  }
  if (csrfToken === null) {
    // A reloaded page has no token in memory: ask for a fresh one.
    const rotated = await api("POST", "/api/v1/auth/refresh-csrf");
    if (rotated.status === 200) csrfToken = rotated.data.csrf_token;
  }
  $("user-email").textContent = check.data.user.email;
  const { aal, amr } = check.data.session;
  $("assurance").textContent = `aal ${aal} (${amr.join(", ")})`;
  await showFactors();
  $("user-name").textContent = check.data.user.name ?? "(none)";
  const list = await api("GET", "/api/v1/auth/sessions");
  const items = $("sessions");
  items.replaceChildren();
  for (const session of list.data?.sessions ?? []) {
    const item = document.createElement("li");
    item.dataset.sessionId = session.id;
    item.textContent = `${session.device.browser} on ${session.device.os} (${session.kind})${session.current ? " — this one" : ""}`;
    if (!session.current) {
      const revoke = document.createElement("button");
      revoke.textContent = "Revoke";
      revoke.addEventListener("click", async () => {
        const result = await api("DELETE", `/api/v1/auth/sessions/${session.id}`);
        await refresh();
        show(result.status === 204 ? "Session revoked" : `Could not revoke (${result.status})`);
      });
      item.append(revoke);
    }
    items.append(item);
  }
}

$("signup").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const result = await api("POST", "/api/v1/users", { email: form.get("email"), password: form.get("password") });
  show(result.status === 201 ? "Account created: log in" : `Sign-up failed: ${result.data?.detail ?? result.status}`);
});

$("login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const result = await api("POST", "/api/v1/auth/login", {
    email: form.get("email"),
    password: form.get("password"),
    remember_me: form.get("remember_me") === "on",
  });
  if (result.status === 200) {
    csrfToken = result.data.csrf_token;
    show("");
  } else if (result.data?.code === "mfa_required") {
    // The password was right; the account has a second factor (see mfa.js).
    askSecondFactor(result.data.mfa_token, result.data.methods);
    return;
  } else {
    show(`Login failed: ${result.data?.detail ?? result.status}`);
  }
  await refresh();
});

$("rename").addEventListener("submit", async (event) => {
  event.preventDefault();
  const result = await api("PATCH", "/api/v1/users/me", { name: new FormData(event.target).get("name") });
  await refresh();
  show(result.status === 200 ? "Name saved" : `Save failed: ${result.data?.code ?? result.status}`);
});

$("logout").addEventListener("click", async () => {
  const result = await api("POST", "/api/v1/auth/logout");
  await refresh();
  show(result.status === 200 ? "Logged out" : `Logout failed: ${result.data?.code ?? result.status}`);
});

$("logout-all").addEventListener("click", async () => {
  const result = await api("POST", "/api/v1/auth/logout-all");
  await refresh();
  show(result.status === 200 ? `Signed out of ${result.data.revoked} sessions` : `Failed: ${result.status}`);
});

$("oauth").addEventListener("click", () => {
  // A full-page navigation: the API sends the browser to the provider and back here.
  const back = `${location.origin}${location.pathname}${location.search}`;
  location.href = `${API}/api/v1/auth/oauth/testidp?redirect_to=${encodeURIComponent(back)}`;
});

// An OAuth sign-in of an account with a second factor comes back with ?mfa_required=true
// (its challenge is in an HttpOnly cookie the API reads at /auth/mfa/verify).
if (new URLSearchParams(location.search).get("mfa_required") === "true") {
  addEventListener("load", () => askSecondFactor(null, ["totp", "recovery_code", "webauthn"]));
}

refresh().catch((error) => show(`Cannot reach the API: ${error.message}`));
