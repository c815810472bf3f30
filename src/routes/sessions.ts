// /api/v1/auth: cookie-session login, logout and session management.
import { Hono } from "hono";
import { authenticate, userPrincipal } from "../auth/authenticate";
import type { AppEnv } from "../auth/app-env";
import { parseBody, parseQuery } from "../http/body";
import { clientInfo } from "../http/client-info";
import { clearSessionCookies, setCsrfCookie, setSessionCookies } from "../http/cookies";
import { ApiError, accountDisabled } from "../http/errors";
import { passwordSignIn, recordLoginSuccess, signInRefused } from "../auth/login-outcome";
import { mfaRequired } from "../auth/second-factor";
import { recordEventLater } from "../events/event-log";
import { authorityFor } from "../sessions/authority-client";
import { logoutAllQuery, loginBody } from "../sessions/schemas";
import { rotateCsrfToken, startSession } from "../sessions/session-service";
import { isSessionId } from "../sessions/session-token";
import { currentSessionView, sessionListItem } from "./session-view";

export const sessionRoutes = new Hono<AppEnv>();

sessionRoutes.post("/login", async (c) => {
  const input = parseBody(c, loginBody);
  const services = c.get("services");
  const { user, credentialEpoch } = await passwordSignIn(services, {
    identifier: input.email ?? input.username ?? "",
    password: input.password,
  });
  const started = await startSession(services, user, clientInfo(c.req.raw), {
    rememberMe: input.remember_me,
    credentialEpoch,
    assurance: { aal: 1, amr: ["pwd"] },
    answer: { kind: "login", isNewUser: false, method: "password" },
  });
  if (started === null) throw signInRefused();
  if (started.status === "disabled") throw accountDisabled();
  if (started.status === "mfa_required") throw mfaRequired(started);
  setSessionCookies(c, started.token, started.csrfToken, started.maxAgeSeconds);
  recordLoginSuccess(services, user, { kind: "cookie", method: "password", newDevice: started.newDevice });
  return c.json({ user, csrf_token: started.csrfToken });
});

sessionRoutes.post("/logout", authenticate({ allow: ["session"] }), async (c) => {
  const { session, userId } = userPrincipal(c);
  await authorityFor(c.get("services").authority, userId).revokeSession(session.id);
  clearSessionCookies(c);
  return c.json({ detail: "Logged out" });
});

sessionRoutes.post("/logout-all", authenticate(), async (c) => {
  const query = parseQuery(c, logoutAllQuery);
  const { session, userId } = userPrincipal(c);
  const keepCurrent = query.keep_current === "true";
  const revoked = await authorityFor(c.get("services").authority, userId).revokeAll(keepCurrent ? session.id : null);
  recordEventLater(c.get("services"), userId, "logout_all", { revoked, keep_current: keepCurrent });
  if (!keepCurrent) clearSessionCookies(c);
  return c.json({ revoked });
});

sessionRoutes.get("/check-auth", authenticate({ optional: true }), (c) => {
  if (c.get("principal") === undefined) return c.json({ authenticated: false });
  const principal = userPrincipal(c);
  return c.json({ authenticated: true, user: principal.user, session: currentSessionView(principal.session) });
});

sessionRoutes.post("/refresh-csrf", authenticate({ skipCsrfToken: true, allow: ["session"] }), async (c) => {
  const principal = c.get("principal");
  if (principal.kind !== "session") throw new ApiError("not_authenticated", "Needs a session cookie");
  const { session, userId } = principal;
  const csrfToken = await rotateCsrfToken(c.get("services"), {
    userId,
    sessionId: session.id,
    secretHash: session.secretHash,
  });
  if (csrfToken === null) throw new ApiError("not_authenticated", "Not authenticated");
  // Same lifetime as the session cookie, so both cookies leave the browser together.
  setCsrfCookie(c, csrfToken, Math.max(0, Math.floor((session.absoluteExpiresAt - Date.now()) / 1000)));
  return c.json({ csrf_token: csrfToken });
});

sessionRoutes.get("/sessions", authenticate(), async (c) => {
  const { session, userId } = userPrincipal(c);
  const sessions = await authorityFor(c.get("services").authority, userId).listSessions();
  return c.json({ sessions: sessions.map((item) => sessionListItem(item, session.id)) });
});

sessionRoutes.delete("/sessions/:id", authenticate(), async (c) => {
  const id = c.req.param("id");
  const { session, userId } = userPrincipal(c);
  // Each user's authority only knows that user's sessions: someone else's id is "not found".
  const revoked = isSessionId(id) && (await authorityFor(c.get("services").authority, userId).revokeSession(id));
  if (!revoked) throw new ApiError("not_found", "Session not found");
  recordEventLater(c.get("services"), userId, "session_revoked", { session_id: id });
  if (id === session.id) clearSessionCookies(c);
  return c.body(null, 204);
});
