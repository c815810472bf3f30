// Second factors in the example app: TOTP enrollment (the secret and a QR code drawn
// in the page), recovery codes, passkeys (registration, passwordless sign-in, second
// factor), the second step of a sign-in (401 mfa_required), and re-authentication when
// a route answers 403 reauthentication_required. Uses api(), show() and refresh() from app.js.
// A result message is shown after the page has re-read the account, so what it says and
// what the page shows agree.
let pendingMfaToken = null;

// WebAuthn L3 JSON helpers (Chromium 129+, Firefox 119+, Safari 18+).
const createOptions = (json) => ({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(json) });
const requestOptions = (json) => ({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(json) });

function askSecondFactor(mfaToken, methods) {
  pendingMfaToken = mfaToken;
  $("mfa").hidden = false;
  $("mfa-passkey").hidden = !methods.includes("webauthn");
  $("mfa").querySelector("[name=code]").focus();
  show("Enter your second factor to finish signing in");
}

async function finishSignIn(body) {
  const result = await api("POST", "/api/v1/auth/mfa/verify", pendingMfaToken === null ? body : { mfa_token: pendingMfaToken, ...body });
  if (result.status !== 200) {
    show(`Second factor refused: ${result.data?.detail ?? result.status}`);
    return;
  }
  csrfToken = result.data.csrf_token;
  pendingMfaToken = null;
  $("mfa").hidden = true;
  $("mfa").reset();
  show("");
  await refresh();
}

$("mfa").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const method = form.get("recovery") === "on" ? "recovery_code" : "totp";
  await finishSignIn({ method, code: String(form.get("code")).trim() });
});

$("mfa-passkey").addEventListener("click", async () => {
  const options = await api(
    "POST",
    "/api/v1/auth/mfa/challenge",
    pendingMfaToken === null ? { method: "webauthn" } : { mfa_token: pendingMfaToken, method: "webauthn" },
  );
  if (options.status !== 200) return show(`No passkey: ${options.data?.detail ?? options.status}`);
  const credential = await navigator.credentials.get(requestOptions(options.data));
  await finishSignIn({ method: "webauthn", response: credential.toJSON() });
});

$("passkey-login").addEventListener("click", async () => {
  const options = await api("POST", "/api/v1/auth/passkeys/options");
  try {
    const credential = await navigator.credentials.get(requestOptions(options.data));
    const result = await api("POST", "/api/v1/auth/passkeys/login", { response: credential.toJSON() });
    if (result.status === 200) {
      csrfToken = result.data.csrf_token;
      show("");
    } else if (result.data?.code === "mfa_required") {
      return askSecondFactor(result.data.mfa_token, result.data.methods);
    } else {
      show(`Passkey sign-in failed: ${result.data?.detail ?? result.status}`);
    }
  } catch (error) {
    show(`Passkey sign-in cancelled: ${error.message}`);
  }
  await refresh();
});

/**
 * Runs a call to a fresh route; on 403 reauthentication_required it shows the prompt,
 * waits for the user to confirm who they are, and runs the call once more.
 */
async function withReauth(call) {
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
    form.onsubmit = async (event) => {
      event.preventDefault();
      const data = new FormData(form);
      const method = data.get("method");
      const secret = String(data.get("secret"));
      let body;
      if (method === "password") body = { password: secret };
      else if (method === "webauthn") {
        const options = await api("POST", "/api/v1/auth/reauthenticate/options");
        const credential = await navigator.credentials.get(requestOptions(options.data));
        body = { method, response: credential.toJSON() };
      } else body = { method, code: secret.trim() };
      const result = await api("POST", "/api/v1/auth/reauthenticate", body);
      if (result.status !== 200) return show(`Not confirmed: ${result.data?.detail ?? result.status}`);
      form.hidden = true;
      form.reset();
      show("");
      resolve(true);
    };
  });
}

function showRecoveryCodes(codes) {
  if (codes === undefined) return;
  const list = $("recovery-codes");
  list.replaceChildren(...codes.map((code) => Object.assign(document.createElement("li"), { textContent: code })));
  $("recovery").hidden = false;
}

async function showFactors() {
  const result = await api("GET", "/api/v1/auth/mfa");
  const items = $("factors");
  items.replaceChildren();
  for (const factor of result.data?.factors ?? []) {
    const item = document.createElement("li");
    item.dataset.factorId = factor.id;
    item.textContent = `${factor.type === "totp" ? "Authenticator app" : "Passkey"}: ${factor.name} `;
    const remove = document.createElement("button");
    remove.type = "button";
    remove.textContent = "Remove";
    remove.setAttribute("aria-label", `Remove ${factor.name}`);
    remove.addEventListener("click", async () => {
      const removed = await withReauth(() => api("DELETE", `/api/v1/auth/mfa/${factor.id}`));
      await refresh();
      show(removed.status === 204 ? "Factor removed" : `Could not remove: ${removed.data?.detail ?? removed.status}`);
    });
    item.append(remove);
    items.append(item);
  }
  if (result.data !== null && result.data.factors.length > 0) {
    const remaining = document.createElement("li");
    remaining.textContent = `Recovery codes left: ${result.data.recovery_codes_remaining}`;
    items.append(remaining);
  }
}

$("totp-start").addEventListener("click", async () => {
  const result = await withReauth(() => api("POST", "/api/v1/auth/mfa/totp", { name: "Authenticator app" }));
  if (result.status !== 201) return show(`Could not start: ${result.data?.detail ?? result.status}`);
  const qr = qrcode(0, "M");
  qr.addData(result.data.otpauth_uri);
  qr.make();
  $("totp-qr").innerHTML = qr.createSvgTag({ cellSize: 4, margin: 4, scalable: true });
  $("totp-qr").firstElementChild?.setAttribute("aria-label", "QR code of the authenticator secret");
  $("totp-secret").textContent = result.data.secret;
  $("totp-setup").hidden = false;
  $("totp-setup").dataset.factorId = result.data.factor_id;
  $("totp-confirm").querySelector("[name=code]").focus();
});

$("totp-confirm").addEventListener("submit", async (event) => {
  event.preventDefault();
  const code = String(new FormData(event.target).get("code")).trim();
  const factorId = $("totp-setup").dataset.factorId;
  const result = await withReauth(() => api("POST", `/api/v1/auth/mfa/totp/${factorId}/confirm`, { code }));
  if (result.status !== 200) return show(`Code not accepted: ${result.data?.detail ?? result.status}`);
  $("totp-setup").hidden = true;
  event.target.reset();
  showRecoveryCodes(result.data.recovery_codes);
  await refresh();
  show("Authenticator app added");
});

$("passkey-register").addEventListener("click", async () => {
  const options = await withReauth(() => api("POST", "/api/v1/auth/mfa/webauthn/registration"));
  if (options.status !== 200) return show(`Could not start: ${options.data?.detail ?? options.status}`);
  try {
    const credential = await navigator.credentials.create(createOptions(options.data));
    const result = await api("POST", "/api/v1/auth/mfa/webauthn/registration/verify", {
      response: credential.toJSON(),
      name: "This device",
    });
    if (result.status !== 201) return show(`Passkey not registered: ${result.data?.detail ?? result.status}`);
    showRecoveryCodes(result.data.recovery_codes);
    await refresh();
    show("Passkey registered");
  } catch (error) {
    show(`Passkey registration cancelled: ${error.message}`);
  }
});

$("recovery-new").addEventListener("click", async () => {
  const result = await withReauth(() => api("POST", "/api/v1/auth/mfa/recovery-codes"));
  if (result.status !== 200) return show(`Could not make new codes: ${result.data?.detail ?? result.status}`);
  showRecoveryCodes(result.data.recovery_codes);
  show("New recovery codes: the old ones no longer work");
});
