// Second factors on the account page: the list, TOTP enrollment (the secret and a QR
// code drawn in the page), passkey registration, recovery codes. Fresh routes go
// through withReauth, which asks the user to confirm who they are when needed.
import { api, problem } from "/shared/api.js";
import { $, el, show, when } from "/shared/dom.js";
import { withReauth } from "/shared/second-factor.js";
import { createCredential } from "/shared/webauthn.js";

let refresh = async () => {};

function showRecoveryCodes(codes) {
  if (codes === undefined) return;
  $("recovery-codes").replaceChildren(...codes.map((code) => el("li", {}, code)));
  $("recovery").hidden = false;
}

export async function showFactors() {
  const result = await api("GET", "/api/v1/auth/mfa");
  const factors = result.data?.factors ?? [];
  const items = factors.map((factor) =>
    el(
      "li",
      { dataset: { factorId: factor.id } },
      el("span", { class: "what" }, `${factor.type === "totp" ? "Authenticator app" : "Passkey"}: ${factor.name}`),
      el("span", { class: "hint" }, factor.last_used_at === null ? "never used" : `last used ${when(factor.last_used_at)}`),
      el("button", { type: "button", "aria-label": `Remove ${factor.name}`, onclick: () => remove(factor) }, "Remove"),
    ),
  );
  if (factors.length > 0) items.push(el("li", {}, `Recovery codes left: ${result.data.recovery_codes_remaining}`));
  $("factors").replaceChildren(...items);
}

async function remove(factor) {
  const removed = await withReauth(() => api("DELETE", `/api/v1/auth/mfa/${encodeURIComponent(factor.id)}`));
  await refresh();
  show(removed.status === 204 ? "Factor removed" : `Could not remove: ${problem(removed)}`, removed.status === 204 ? "ok" : "error");
}

export function setupFactors(refreshPage) {
  refresh = refreshPage;

  $("totp-start").addEventListener("click", async () => {
    const result = await withReauth(() => api("POST", "/api/v1/auth/mfa/totp", { name: "Authenticator app" }));
    if (result.status !== 201) return show(`Could not start: ${problem(result)}`, "error");
    const qr = qrcode(0, "M");
    qr.addData(result.data.otpauth_uri);
    qr.make();
    // createSvgTag draws only rects and paths from the URI's bits: no text of ours goes in as HTML.
    $("totp-qr").innerHTML = qr.createSvgTag({ cellSize: 4, margin: 4, scalable: true });
    $("totp-qr").firstElementChild?.setAttribute("role", "img");
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
    const result = await withReauth(() => api("POST", `/api/v1/auth/mfa/totp/${encodeURIComponent(factorId)}/confirm`, { code }));
    if (result.status !== 200) return show(`Code not accepted: ${problem(result)}`, "error");
    $("totp-setup").hidden = true;
    event.target.reset();
    showRecoveryCodes(result.data.recovery_codes);
    await refresh();
    show("Authenticator app added", "ok");
  });

  $("passkey-register").addEventListener("click", async () => {
    const options = await withReauth(() => api("POST", "/api/v1/auth/mfa/webauthn/registration"));
    if (options.status !== 200) return show(`Could not start: ${problem(options)}`, "error");
    try {
      const response = await createCredential(options.data);
      const result = await api("POST", "/api/v1/auth/mfa/webauthn/registration/verify", { response, name: "This device" });
      if (result.status !== 201) return show(`Passkey not registered: ${problem(result)}`, "error");
      showRecoveryCodes(result.data.recovery_codes);
      await refresh();
      show("Passkey registered", "ok");
    } catch (error) {
      show(`Passkey registration cancelled: ${error.message}`, "error");
    }
  });

  $("recovery-new").addEventListener("click", async () => {
    const result = await withReauth(() => api("POST", "/api/v1/auth/mfa/recovery-codes"));
    if (result.status !== 200) return show(`Could not make new codes: ${problem(result)}`, "error");
    showRecoveryCodes(result.data.recovery_codes);
    show("New recovery codes: the old ones no longer work", "ok");
  });
}
