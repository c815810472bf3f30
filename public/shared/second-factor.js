// The steps both pages share: the second step of a sign-in (401 mfa_required: a code,
// a recovery code or a passkey), a passwordless passkey sign-in, and re-authentication
// when a route answers 403 reauthentication_required. The #mfa form goes right after the
// page's #login form, the #reauth prompt at the end of <main>.
import { api, problem, setCsrfToken } from "./api.js";
import { $, el, show } from "./dom.js";
import { getAssertion } from "./webauthn.js";

let pendingMfaToken = null;
let afterSignIn = async () => {};

function mfaForm() {
  return el(
    "form",
    { id: "mfa", class: "card", "aria-labelledby": "mfa-title", hidden: true },
    el("h2", { id: "mfa-title" }, "Second factor"),
    el("p", {}, "Enter the 6-digit code from your authenticator app, or one of your recovery codes."),
    el("label", {}, "Code ", el("input", { name: "code", autocomplete: "one-time-code", required: true })),
    el("label", { class: "check" }, el("input", { name: "recovery", type: "checkbox" }), " This is a recovery code"),
    el("button", { type: "submit", class: "primary" }, "Verify"),
    el("button", { id: "mfa-passkey", type: "button" }, "Use a passkey instead"),
  );
}

const METHODS = [
  ["password", "Password"],
  ["totp", "Authenticator code"],
  ["recovery_code", "Recovery code"],
  ["webauthn", "Passkey"],
];

function reauthForm() {
  return el(
    "form",
    { id: "reauth", class: "card dialog", "aria-labelledby": "reauth-title", hidden: true },
    el("h2", { id: "reauth-title" }, "Confirm it is you"),
    el("p", {}, "This needs a recent sign-in. Use one of: ", el("span", { id: "reauth-methods" })),
    el("label", {}, "Method ", el("select", { name: "method" }, ...METHODS.map(([value, label]) => el("option", { value }, label)))),
    el("label", {}, "Password or code ", el("input", { name: "secret", type: "password", autocomplete: "off" })),
    el(
      "p",
      { class: "actions" },
      el("button", { type: "submit", class: "primary" }, "Continue"),
      el("button", { type: "button", "data-cancel": true }, "Cancel"),
    ),
  );
}

/** Adds the forms; `signedIn` runs after any sign-in these steps finish (the page re-reads itself). */
export function setupSignInSteps(signedIn) {
  afterSignIn = signedIn;
  $("login").after(mfaForm());
  document.querySelector("main").append(reauthForm());
  $("mfa").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    const method = form.get("recovery") === "on" ? "recovery_code" : "totp";
    await finishSignIn({ method, code: String(form.get("code")).trim() });
  });
  $("mfa-passkey").addEventListener("click", async () => {
    const body = pendingMfaToken === null ? { method: "webauthn" } : { mfa_token: pendingMfaToken, method: "webauthn" };
    const options = await api("POST", "/api/v1/auth/mfa/challenge", body);
    if (options.status !== 200) return show(`No passkey: ${problem(options)}`, "error");
    try {
      await finishSignIn({ method: "webauthn", response: await getAssertion(options.data) });
    } catch (error) {
      show(`Passkey cancelled: ${error.message}`, "error");
    }
  });
}

/** Shows the second step; `mfaToken` is null after an OAuth sign-in (the challenge is in a cookie). */
export function askSecondFactor(mfaToken, methods) {
  pendingMfaToken = mfaToken;
  $("mfa").hidden = false;
  $("mfa-passkey").hidden = !methods.includes("webauthn");
  $("mfa").querySelector("[name=code]").focus();
  show("Enter your second factor to finish signing in");
}

async function finishSignIn(body) {
  const result = await api("POST", "/api/v1/auth/mfa/verify", pendingMfaToken === null ? body : { mfa_token: pendingMfaToken, ...body });
  if (result.status !== 200) return show(`Second factor refused: ${problem(result)}`, "error");
  setCsrfToken(result.data.csrf_token);
  pendingMfaToken = null;
  $("mfa").hidden = true;
  $("mfa").reset();
  show("");
  await afterSignIn();
}

/** A sign-in answer: signed in, or on to the second step. Returns true when signed in. */
export function acceptSignIn(result, failure) {
  if (result.status === 200) {
    setCsrfToken(result.data.csrf_token);
    show("");
    return true;
  }
  if (result.data?.code === "mfa_required") askSecondFactor(result.data.mfa_token, result.data.methods);
  else show(`${failure}: ${problem(result)}`, "error");
  return false;
}

/** Passwordless: a discoverable passkey of this site. */
export async function passkeySignIn() {
  const options = await api("POST", "/api/v1/auth/passkeys/options");
  if (options.status !== 200) return show(`Passkey sign-in unavailable: ${problem(options)}`, "error");
  try {
    const result = await api("POST", "/api/v1/auth/passkeys/login", { response: await getAssertion(options.data) });
    if (acceptSignIn(result, "Passkey sign-in failed")) await afterSignIn();
  } catch (error) {
    show(`Passkey sign-in cancelled: ${error.message}`, "error");
  }
}

/**
 * Runs a call to a fresh route; on 403 reauthentication_required it shows the prompt,
 * waits for the user to confirm who they are, and runs the call once more.
 */
export async function withReauth(call) {
  const result = await call();
  if (result.status !== 403 || result.data?.code !== "reauthentication_required") return result;
  const confirmed = await promptReauth(result.data.methods);
  return confirmed ? call() : result;
}

function promptReauth(methods) {
  const form = $("reauth");
  $("reauth-methods").textContent = methods.join(", ");
  for (const option of form.querySelectorAll("option")) option.hidden = !methods.includes(option.value);
  form.querySelector("select").value = methods[0];
  form.hidden = false;
  form.querySelector("[name=secret]").focus();
  show(`Confirm it is you: ${methods.join(", ")}`);
  return new Promise((resolve) => {
    form.querySelector("[data-cancel]").onclick = () => {
      form.hidden = true;
      form.reset();
      show("Cancelled");
      resolve(false);
    };
    form.onsubmit = async (event) => {
      event.preventDefault();
      const data = new FormData(form);
      const method = data.get("method");
      const secret = String(data.get("secret"));
      let body;
      if (method === "password") body = { password: secret };
      else if (method === "webauthn") {
        const options = await api("POST", "/api/v1/auth/reauthenticate/options");
        if (options.status !== 200) return show(`Not confirmed: ${problem(options)}`, "error");
        try {
          body = { method, response: await getAssertion(options.data) };
        } catch (error) {
          return show(`Passkey cancelled: ${error.message}`, "error");
        }
      } else body = { method, code: secret.trim() };
      const result = await api("POST", "/api/v1/auth/reauthenticate", body);
      if (result.status !== 200) return show(`Not confirmed: ${problem(result)}`, "error");
      form.hidden = true;
      form.reset();
      show("");
      resolve(true);
    };
  });
}
