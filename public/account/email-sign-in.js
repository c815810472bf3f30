// Passwordless sign-in on the account page: "Email me a link" and "Email me a code" (the
// code form appears once one is sent), and the mailed link's landing page (/magic-link?token=),
// which signs this browser in with it (or asks for the second factor).
import { api, problem } from "/shared/api.js";
import { $, busy, show } from "/shared/dom.js";
import { acceptSignIn } from "/shared/second-factor.js";
import { withChallenge } from "/shared/challenge.js";

/** Wires the email sign-in form; `signedIn` re-reads the page after a sign-in. */
export function setupEmailSignIn(signedIn) {
  const form = $("email-sign-in");
  const ask = async (path, action, sent) => {
    const email = new FormData(form).get("email");
    if (!form.reportValidity()) return;
    const result = await api("POST", path, withChallenge(form, { email }, action));
    if (result.status !== 202) return show(`Could not send: ${problem(result)}`, "error");
    show(sent, "ok");
    return email;
  };
  $("email-link").addEventListener(
    "click",
    busy($("email-link"), () =>
      ask("/api/v1/auth/magic-link", "magic_link", "If the address has an account, a sign-in link is on its way: open it in this browser"),
    ),
  );
  $("email-code-send").addEventListener(
    "click",
    busy($("email-code-send"), async () => {
      const email = await ask("/api/v1/auth/email-code", "email_code", "If the address has an account, a 6-digit code is on its way");
      if (email === undefined) return;
      $("email-code").hidden = false;
      $("email-code").querySelector("[name=email]").value = email;
      $("email-code").querySelector("[name=code]").focus();
    }),
  );
  $("email-code").addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(event.target);
    const button = event.target.querySelector("button[type=submit]");
    await busy(button, async () => {
      const result = await api("POST", "/api/v1/auth/email-code/verify", { email: data.get("email"), code: data.get("code") });
      if (acceptSignIn(result, "Sign-in failed")) {
        event.target.reset();
        event.target.hidden = true;
        await signedIn();
      }
    })();
  });
}

/** The mailed link's landing: signs this browser in, then goes where the link was asked to lead. */
export async function useMagicLink(token, signedIn) {
  const result = await api("POST", "/api/v1/auth/magic-link/verify", { token });
  if (!acceptSignIn(result, "This link did not sign you in")) return;
  if (typeof result.data?.redirect_to === "string") return location.assign(result.data.redirect_to);
  await signedIn();
  show("Signed in with the link from your mail", "ok");
}
