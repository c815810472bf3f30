// /api/v1/auth: second factors (enroll, list, remove, recovery codes), completing a
// sign-in held at the MFA gate, passwordless passkey sign-in, and re-authentication.
import { type Context, Hono } from "hono";
import { getCookie } from "hono/cookie";
import { checkCurrentPassword } from "../account/account-service";
import type { AppEnv } from "../auth/app-env";
import { authenticate, userPrincipal } from "../auth/authenticate";
import { fresh } from "../auth/fresh";
import { passkeyLoginOptions, passkeySignIn } from "../auth/passkey-sign-in";
import { type CompletedSignIn, completeSecondFactor, mfaPasskeyOptions, mfaRequired } from "../auth/second-factor";
import { parseBody } from "../http/body";
import { clientInfo } from "../http/client-info";
import { clearMfaCookie, mfaCookieName, setSessionCookies } from "../http/cookies";
import { ApiError, tooManyRequests } from "../http/errors";
import {
  assertionOptions,
  assertionProof,
  confirmTotp,
  enrollTotp,
  listFactors,
  noticeFactorChange,
  passkeyRegistrationOptions,
  proofRefusal,
  recoveryProof,
  regenerateRecoveryCodes,
  registerPasskey,
  removeFactor,
  totpProof,
} from "../mfa/mfa-service";
import {
  challengeBody,
  confirmTotpBody,
  enrollTotpBody,
  passkeyLoginBody,
  reauthenticateBody,
  registrationVerifyBody,
  verifyBody,
} from "../mfa/schemas";
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from "../mfa/webauthn";
import { authorityFor } from "../sessions/authority-client";
import type { FactorProof } from "../user-authority/types";

export const mfaRoutes = new Hono<AppEnv>();

const owner = (c: Context<AppEnv>) => {
  const principal = userPrincipal(c);
  return { user: principal.user, sessionId: principal.session.id };
};

mfaRoutes.get("/mfa", authenticate(), async (c) => c.json(await listFactors(c.get("services"), userPrincipal(c).userId)));

mfaRoutes.post("/mfa/totp", authenticate(), fresh(), async (c) => {
  const { name } = parseBody(c, enrollTotpBody);
  c.header("Cache-Control", "no-store");
  return c.json(await enrollTotp(c.get("services"), owner(c), name), 201);
});

mfaRoutes.post("/mfa/totp/:factor_id/confirm", authenticate(), fresh(), async (c) => {
  const { code } = parseBody(c, confirmTotpBody);
  c.header("Cache-Control", "no-store");
  return c.json(await confirmTotp(c.get("services"), owner(c), c.req.param("factor_id"), code));
});

mfaRoutes.post("/mfa/webauthn/registration", authenticate(), fresh(), async (c) =>
  c.json(await passkeyRegistrationOptions(c.get("services"), userPrincipal(c).user)),
);

mfaRoutes.post("/mfa/webauthn/registration/verify", authenticate(), fresh(), async (c) => {
  const { response, name } = parseBody(c, registrationVerifyBody);
  c.header("Cache-Control", "no-store");
  return c.json(await registerPasskey(c.get("services"), owner(c), response as unknown as RegistrationResponseJSON, name), 201);
});

mfaRoutes.delete("/mfa/:factor_id", authenticate(), fresh({ aal: 2 }), async (c) => {
  await removeFactor(c.get("services"), owner(c), c.req.param("factor_id"));
  return c.body(null, 204);
});

mfaRoutes.post("/mfa/recovery-codes", authenticate(), fresh({ aal: 2 }), async (c) => {
  c.header("Cache-Control", "no-store");
  return c.json({ recovery_codes: await regenerateRecoveryCodes(c.get("services"), userPrincipal(c).user) });
});

/** The mfa_token from the body, or from the challenge cookie an OAuth redirect set. */
function mfaTokenOf(c: Context<AppEnv>, fromBody: string | undefined): string {
  const token = fromBody ?? getCookie(c, mfaCookieName(c.get("config")));
  if (token === undefined) throw new ApiError("invalid_token", "Send mfa_token");
  return token;
}

mfaRoutes.post("/mfa/challenge", async (c) => {
  const body = parseBody(c, challengeBody);
  return c.json(await mfaPasskeyOptions(c.get("services"), mfaTokenOf(c, body.mfa_token)));
});

mfaRoutes.post("/mfa/verify", async (c) => {
  const body = parseBody(c, verifyBody);
  const input =
    body.method === "webauthn"
      ? { method: body.method, response: body.response as unknown as AuthenticationResponseJSON }
      : { method: body.method, code: body.code };
  const completed = await completeSecondFactor(c.get("services"), mfaTokenOf(c, body.mfa_token), input);
  clearMfaCookie(c);
  return answer(c, completed);
});

mfaRoutes.post("/passkeys/options", async (c) => c.json(await passkeyLoginOptions(c.get("services"))));

mfaRoutes.post("/passkeys/login", async (c) => {
  const { response, transport } = parseBody(c, passkeyLoginBody);
  const result = await passkeySignIn(
    c.get("services"),
    clientInfo(c.req.raw),
    response as unknown as AuthenticationResponseJSON,
    transport,
  );
  if ("status" in result) throw mfaRequired(result);
  return answer(c, result);
});

mfaRoutes.post("/reauthenticate/options", authenticate(), async (c) => {
  const { userId } = userPrincipal(c);
  const services = c.get("services");
  const passkeys = await authorityFor(services.authority, userId).passkeys();
  if (passkeys.length === 0) throw new ApiError("invalid_input", "This account has no passkey");
  return c.json(await assertionOptions(services, "reauth", userId, passkeys));
});

mfaRoutes.post("/reauthenticate", authenticate(), async (c) => {
  const body = parseBody(c, reauthenticateBody);
  const services = c.get("services");
  const principal = userPrincipal(c);
  const authority = authorityFor(services.authority, principal.userId);
  let proof: FactorProof | { method: "password" };
  if ("password" in body) {
    const check = await checkCurrentPassword(services, principal.user, body.password);
    if (check.status === "throttled") throw tooManyRequests("too_many_attempts", check.retryAfterSeconds);
    if (check.status === "wrong") throw new ApiError("invalid_credentials", "The password is not correct");
    proof = { method: "password" };
  } else if (body.method === "webauthn") {
    const response = body.response as unknown as AuthenticationResponseJSON;
    proof = await assertionProof(services, "reauth", principal.userId, response, await authority.passkeys());
  } else {
    proof = body.method === "totp" ? totpProof(services, body.code) : await recoveryProof(body.code);
  }
  const result = await authority.reauthenticate(principal.session.id, proof, services.config.login);
  if (result.status !== "ok") throw proofRefusal(result);
  if (result.recoveryCodeUsed) noticeFactorChange(services, principal.user, "recovery_code_used");
  return c.json({ reauthenticated_at: new Date(result.reauthenticatedAt).toISOString(), aal: result.aal });
});

/** What the first factor would have answered: the login answer with its cookies, or the token answer. */
function answer(c: Context<AppEnv>, completed: CompletedSignIn): Response {
  c.header("Cache-Control", "no-store");
  if (completed.kind === "token") {
    c.header("Pragma", "no-cache");
    return c.json(completed.body);
  }
  setSessionCookies(c, completed.token, completed.csrfToken, completed.maxAgeSeconds);
  return c.json(completed.body);
}
