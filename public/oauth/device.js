// The /device page (RFC 8628 §3.3): a signed-in user types the code their device shows;
// the device's request then goes through the same consent page as a browser sign-in.
import { api, ensureCsrfToken, problem, readSession, useApiBase } from "/shared/api.js";
import { $, show } from "/shared/dom.js";

useApiBase({ allowQuery: false });

async function start() {
  const session = await readSession();
  if (session === null) return;
  if (session.authenticated !== true) {
    $("status").textContent = "Signed out";
    $("sign-in-link").href = `/account?${new URLSearchParams({ return_to: `${location.pathname}${location.search}` })}`;
    $("sign-in").hidden = false;
    return;
  }
  await ensureCsrfToken();
  const typed = new URLSearchParams(location.search).get("user_code");
  if (typed !== null) $("code-form").elements.user_code.value = typed;
  $("code-form").hidden = false;
  $("status").textContent = "Signed in";
}

$("code-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const code = event.currentTarget.elements.user_code.value;
  const result = await api("POST", "/api/v1/oauth2/device/lookup", { user_code: code });
  if (result.status !== 200) return show(`That code did not work: ${problem(result)}`, "error");
  location.assign(`/oauth2/consent?request=${encodeURIComponent(result.data.request)}`);
});

start();
