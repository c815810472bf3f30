// The OAuth server's JSON routes for a signed-in user: the consent page's request and
// decision, the /device page's code lookup, and the user's connected apps (grants).
import { type Context, Hono } from "hono";
import type { AppEnv } from "../auth/app-env";
import { authenticate, userPrincipal } from "../auth/authenticate";
import { parseBody } from "../http/body";
import { ApiError, tooManyRequests } from "../http/errors";
import { type Actor, decide, lookupUserCode, pendingRequest, requestView } from "../oauth-server/consent-flow";
import { grantsOf } from "../oauth-server/grant-client";
import { providerOf } from "../oauth-server/provider";
import { GRANT_OR_REQUEST_ID, decisionBody, deviceLookupBody } from "../oauth-server/schemas";

export const oauthApiRoutes = new Hono<AppEnv>();
export const connectedAppRoutes = new Hono<AppEnv>();

function actorOf(c: Context<AppEnv>): Actor {
  providerOf(c.get("services"));
  const principal = userPrincipal(c);
  const { aal, amr, authTime } = principal.session.assurance;
  return { userId: principal.userId, sessionId: principal.session.id, assurance: { aal, amr, authTime } };
}

const notFound = () => new ApiError("not_found", "No such authorization request (it may have expired or been answered)");

function requestId(c: Context<AppEnv>): string {
  const id = c.req.param("id") ?? "";
  if (!GRANT_OR_REQUEST_ID.test(id)) throw notFound();
  return id;
}

oauthApiRoutes.get("/requests/:id", authenticate(), async (c) => {
  const request = await pendingRequest(c.get("services"), actorOf(c), requestId(c));
  if (request === null) throw notFound();
  c.header("Cache-Control", "no-store");
  return c.json(requestView(request));
});

oauthApiRoutes.post("/requests/:id/decision", authenticate(), async (c) => {
  const actor = actorOf(c);
  const input = parseBody(c, decisionBody);
  const services = c.get("services");
  const answer = await decide(services, providerOf(services), actor, requestId(c), input.allow);
  if (answer.status === "not_found") throw notFound();
  if (answer.status === "aal_required")
    throw new ApiError("reauthentication_required", "This app asks for a second factor: sign in with it first");
  c.header("Cache-Control", "no-store");
  return c.json({ redirect_to: answer.redirectTo });
});

oauthApiRoutes.post("/device/lookup", authenticate(), async (c) => {
  const actor = actorOf(c);
  const input = parseBody(c, deviceLookupBody);
  const answer = await lookupUserCode(c.get("services"), actor, input.user_code);
  if (answer.status === "rate_limited") throw tooManyRequests("rate_limited", answer.retryAfterSeconds);
  if (answer.status === "aal_required")
    throw new ApiError("reauthentication_required", "This app asks for a second factor: sign in with it first");
  if (answer.status === "invalid") throw new ApiError("invalid_grant", "That code is not valid or has expired");
  return c.json({ request: answer.requestId });
});

connectedAppRoutes.get("/", authenticate(), async (c) => {
  const actor = actorOf(c);
  const items = await grantsOf(c.get("services").authority, actor.userId).grants();
  c.header("Cache-Control", "no-store");
  return c.json({ items });
});

connectedAppRoutes.delete("/:id", authenticate(), async (c) => {
  const actor = actorOf(c);
  const id = c.req.param("id");
  if (!GRANT_OR_REQUEST_ID.test(id)) throw new ApiError("not_found", "No such connected app");
  const revoked = await grantsOf(c.get("services").authority, actor.userId).revoke(id);
  if (!revoked) throw new ApiError("not_found", "No such connected app");
  return c.body(null, 204);
});
