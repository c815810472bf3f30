// /api/v1/auth: cookie-session login, logout and session management.
import { activeOrgOfPrincipal } from "../auth/org-standing";
import { Hono } from "hono";
import { authenticate, userPrincipal } from "../auth/authenticate";
import { actAsCaller } from "../auth/caller";
import type { AppEnv } from "../auth/app-env";
import { parseBody, parseQuery } from "../http/body";
import { clientInfo } from "../http/client-info";
import { clearSessionCookies, setCsrfCookie, setSessionCookies } from "../http/cookies";
import { ApiError, accountDisabled } from "../http/errors";
import { passwordSignIn, recordLoginSuccess, signInRefused } from "../auth/login-outcome";
import { mfaRequired } from "../auth/second-factor";
import { loginCaptcha } from "../auth/turnstile-guard";
import { recordEventLater } from "../events/event-log";
import { authorityFor } from "../sessions/authority-client";
import { logoutAllQuery, loginBody } from "../sessions/schemas";
import { newCsrfToken, startSession } from "../sessions/session-service";
import { isSessionId } from "../sessions/session-token";
import { currentSessionView, sessionListItem } from "../auth/session-view";

export const sessionRoutes = new Hono<AppEnv>();

sessionRoutes.post("/login", async (c) => {
  const input = parseBody(c, loginBody);
  const services = c.get("services");
  const identity = { identifier: input.email ?? input.username ?? "", password: input.password, captcha: loginCaptcha(c) };
  const { user, result: started } = await passwordSignIn(services, identity, (user, credentialEpoch, verdict) =>
    startSession(services, user, clientInfo(c.req.raw), {
      rememberMe: input.remember_me,
      credentialEpoch,
      verdict,
      assurance: { aal: 1, amr: ["pwd"] },
      answer: { kind: "login", isNewUser: false, method: "password" },
    }),
  );
  if (started === null) throw signInRefused();
  if (started.status === "disabled") throw accountDisabled();
  if (started.status === "mfa_required") throw mfaRequired(started);
  setSessionCookies(c, started.token, started.csrfToken, started.maxAgeSeconds);
  recordLoginSuccess(services, user, { kind: "cookie", method: "password", newDevice: started.newDevice });
  return c.json({ user, csrf_token: started.csrfToken });
});

sessionRoutes.post("/logout", authenticate({ allow: ["session"], actAtAuthority: true }), async (c) => {
  await actAsCaller(c, { kind: "end_session", id: c.get("caller").sessionId });
  clearSessionCookies(c);
  return c.json({ detail: "Logged out" });
});

sessionRoutes.post("/logout-all", authenticate({ actAtAuthority: true }), async (c) => {
  const query = parseQuery(c, logoutAllQuery);
  const keepCurrent = query.keep_current === "true";
  const { ended: revoked } = await actAsCaller(c, { kind: "end_all", keepCurrent });
  recordEventLater(c.get("services"), c.get("caller").userId, "logout_all", { revoked, keep_current: keepCurrent });
  if (!keepCurrent) clearSessionCookies(c);
  return c.json({ revoked });
});

sessionRoutes.get("/check-auth", authenticate({ optional: true }), async (c) => {
  if (c.get("principal") === undefined) return c.json({ authenticated: false });
  const principal = userPrincipal(c);
  const org = await activeOrgOfPrincipal(c.get("services"), principal);
  return c.json({ authenticated: true, user: principal.user, session: currentSessionView(principal.session, org) });
});

sessionRoutes.post("/refresh-csrf", authenticate({ skipCsrfToken: true, allow: ["session"], actAtAuthority: true }), async (c) => {
  const csrf = await newCsrfToken();
  const { absoluteExpiresAt } = await actAsCaller(c, { kind: "rotate_csrf", csrfHash: csrf.hash });
  const csrfToken = csrf.token;
  // Same lifetime as the session cookie, so both cookies leave the browser together.
  setCsrfCookie(c, csrfToken, Math.max(0, Math.floor((absoluteExpiresAt - Date.now()) / 1000)));
  return c.json({ csrf_token: csrfToken });
});

sessionRoutes.get("/sessions", authenticate(), async (c) => {
  const { session, userId } = userPrincipal(c);
  const sessions = await authorityFor(c.get("services").authority, userId).listSessions();
  return c.json({ sessions: sessions.map((item) => sessionListItem(item, session.id)) });
});

sessionRoutes.delete("/sessions/:id", authenticate({ actAtAuthority: true }), async (c) => {
  const id = c.req.param("id");
  const { sessionId, userId } = c.get("caller");
  // Each user's authority only knows that user's sessions: someone else's id is "not found".
  // A malformed id is not asked about, but the caller is still checked first.
  const { ended } = await actAsCaller(c, { kind: "end_session", id: isSessionId(id) ? id : "" });
  if (ended === 0) throw new ApiError("not_found", "Session not found");
  recordEventLater(c.get("services"), userId, "session_revoked", { session_id: id });
  if (id === sessionId) clearSessionCookies(c);
  return c.body(null, 204);
});
