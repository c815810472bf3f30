// Four hot requests answered before the router, as the bearer read is from memory
// (memory-answer.ts): a read with an API key (`GET /api/v1/users/me`), a key verification
// (`POST /api/v1/api-keys/verify`), a token refresh (`POST /api/v1/auth/refresh`) and a
// session check (`GET /api/v1/auth/check-auth` with the session cookie). Each
// makes the same one call the app's route makes, through the same functions, and answers
// its common outcome (the success) itself, skipping the router and the middleware chain
// (a tenth of these paths' CPU: docs/benchmark.md). Every other outcome is left to the
// app, with the body already read and the call's outcome already decided (http/handover.ts),
// so a key's use is counted once and a token rotated once, and every refusal is the app's
// own answer. Anything unusual (a navigation, an Origin from elsewhere, a setting to
// report, Server-Timing, a cookie-borne refresh token) goes to the app before any call.
import { PROFILE_READ, keyRefusal } from "../api-keys/grants";
import { rateLimitHeaders } from "../api-keys/rate-limit-policy";
import { verifyKeyBody } from "../api-keys/schemas";
import { type Config, loadConfig } from "../config/config";
import { SettingError } from "../config/parse";
import { readBody } from "../http/body";
import { directJsonAnswer, pathOf } from "../http/direct-answer";
import { type DecidedBy, type DecidedOutcomes, type Handover, handoverFor, recordOutcome } from "../http/handover";
import { isForeignWrite } from "../http/origins";
import { requestIdOf } from "../http/request-id";
import { isNavigation } from "../http/security-headers";
import { type Services, buildServices } from "../services/services";
import { refreshBody } from "../tokens/schemas";
import { type RefreshResult, refreshTokens } from "../tokens/token-service";
import { credentialOf } from "./credentials";
import { CSRF_HEADER } from "./csrf";
import { type Resolution, resolveCredential } from "./resolve";
import { currentSessionView } from "./session-view";
import { type KeyVerdict, verifyKeyAnswer } from "./verify-key";
import { logError } from "../lib/log";

export const KEY_READ_ROUTE = "/api/v1/users/me";
export const KEY_VERIFY_ROUTE = "/api/v1/api-keys/verify";
export const REFRESH_ROUTE = "/api/v1/auth/refresh";
export const SESSION_CHECK_ROUTE = "/api/v1/auth/check-auth";
type UseFacts = { endpoint: string; method: string; ip: string };
/** Only an API key's use is recorded (as in authenticate.ts). */
const NO_USE: UseFacts = { endpoint: "", method: "", ip: "" };
const PRAGMA_NO_CACHE: Readonly<Record<string, string>> = Object.freeze({ Pragma: "no-cache" });

declare module "../http/handover" {
  interface DecidedOutcomes {
    credential: Resolution;
    key_verdict: KeyVerdict;
    refresh: RefreshResult;
  }
}

interface Direct {
  request: Request;
  config: Config;
  services: Services;
  requestId: string;
  /** What this did to the request, for the app should it be left the request. */
  handover: Handover;
}

type Handler = (direct: Direct) => Promise<Response | null>;

const HANDLERS = new Map<string, Handler>([
  [`GET ${KEY_READ_ROUTE}`, keyRead],
  [`POST ${KEY_VERIFY_ROUTE}`, keyVerify],
  [`POST ${REFRESH_ROUTE}`, refresh],
  [`GET ${SESSION_CHECK_ROUTE}`, sessionCheck],
]);

/** The answer to one of the four requests, or null: the app answers (with whatever was handed over). */
export function answerDirectly(request: Request, env: Env, ctx: ExecutionContext): Promise<Response | null> | null {
  const route = pathOf(request.url);
  const handler = HANDLERS.get(`${request.method} ${route}`);
  if (handler === undefined) return null;
  // Kept from the start: whatever is left to the app, its log line times the whole request.
  const handover = handoverFor(request, Date.now());
  let direct: Direct;
  try {
    if (isNavigation(request)) return null;
    const config = loadConfig(env);
    // A bad setting, Server-Timing asked for, or a write from a foreign Origin: the app answers (and reports it).
    if (config instanceof SettingError || config.serverTiming) return null;
    if (request.method === "POST" && isForeignWrite(config, request, request.headers.get("Origin"))) return null;
    const services = buildServices({ env, config, waitUntil: ctx.waitUntil.bind(ctx), request });
    direct = { request, config, services, requestId: requestIdOf(request.headers), handover };
  } catch (error) {
    return failed(route, error);
  }
  // Whatever fails from here, the app answers, with what was handed over: nothing is done twice.
  return handler(direct).catch((error: unknown) => failed(route, error));
}

/** A bug here (a dependency's failure is handed over by decide): logged, and the app answers. */
function failed(route: string, error: unknown): null {
  logError("direct_answer_failed", error, { route });
  return null;
}

async function keyRead(direct: Direct): Promise<Response | null> {
  const use = { endpoint: KEY_READ_ROUTE, method: "GET", ip: direct.services.ip };
  const result = await resolved(direct, "api_key", use);
  if (
    result?.status === "ok" &&
    result.principal.kind === "api_key" &&
    // An organization's key is refused here (the app answers, 403): it acts for no user.
    result.principal.key.orgId === null &&
    result.ratelimit !== undefined &&
    keyRefusal(result.principal.key.permissions, { permission: PROFILE_READ }) === null
  ) {
    return answer(direct, KEY_READ_ROUTE, result.principal.user, "api_key", Object.fromEntries(rateLimitHeaders(result.ratelimit)));
  }
  return null;
}

async function sessionCheck(direct: Direct): Promise<Response | null> {
  const result = await resolved(direct, "session", NO_USE);
  // A session acting in an organization its memory has no standing for: the app answers (it asks the organization).
  if (result?.status !== "ok" || result.principal.kind !== "session") return null;
  const { user, session } = result.principal;
  if (session.activeOrg !== null && session.org === undefined) return null;
  const org = session.activeOrg === null ? null : (session.org ?? null);
  return answer(direct, SESSION_CHECK_ROUTE, { authenticated: true, user, session: currentSessionView(session, org) }, "session");
}

/**
 * The request's credential resolved once, with what authenticate.ts gives the resolver
 * about a GET; null when the request carries another kind of credential (the app answers
 * before any call) or the call failed (handed over).
 */
async function resolved(direct: Direct, kind: "api_key" | "session", use: UseFacts): Promise<Resolution | null> {
  const { request, config, services } = direct;
  const credential = credentialOf(config, request.headers);
  if (credential?.kind !== kind) return null;
  const facts = {
    unsafe: false,
    url: request.url,
    origin: request.headers.get("Origin"),
    csrfHeader: request.headers.get(CSRF_HEADER),
    csrf: "check",
    use,
  } as const;
  const outcome = await decide(direct, "credential", () => resolveCredential(services, credential, facts));
  return outcome === null ? null : outcome.value;
}

async function keyVerify(direct: Direct): Promise<Response | null> {
  const { services } = direct;
  const body = await bodyOf(direct, KEY_VERIFY_ROUTE);
  if (body === null) return null;
  const input = verifyKeyBody.safeParse(body.value ?? {});
  if (!input.success) return null;
  const { api_key: key, resource, action } = input.data;
  const check = resource === undefined || action === undefined ? undefined : { resource, action };
  const use = { endpoint: KEY_VERIFY_ROUTE, method: "POST", ip: services.ip };
  const outcome = await decide(direct, "key_verdict", () => verifyKeyAnswer(services, key, use, check));
  if (outcome === null) return null;
  const verdict = outcome.value;
  if (verdict.valid) return answer(direct, KEY_VERIFY_ROUTE, verdict, null, Object.fromEntries(rateLimitHeaders(verdict.ratelimit)));
  if (verdict.code === "invalid_api_key") return answer(direct, KEY_VERIFY_ROUTE, verdict, null);
  return null;
}

async function refresh(direct: Direct): Promise<Response | null> {
  const { services } = direct;
  const body = await bodyOf(direct, REFRESH_ROUTE);
  if (body === null) return null;
  const input = refreshBody.safeParse(body.value ?? {});
  // No token in the body (it may be in the cookie): the app reads it.
  if (!input.success || input.data.refresh_token === undefined) return null;
  const token = input.data.refresh_token;
  const outcome = await decide(direct, "refresh", () => refreshTokens(services, token));
  if (outcome === null) return null;
  const result = outcome.value;
  if (result.status === "rotated") return answer(direct, REFRESH_ROUTE, result.response, null, PRAGMA_NO_CACHE);
  return null;
}

/**
 * Makes the request's one call and records its outcome at once: any outcome but the
 * success is the app's to answer, with this outcome. A call that throws (a dependency
 * failed, and it may or may not have acted) is recorded as thrown, and the app answers it
 * as it answers any such failure (503): it never makes the call a second time.
 */
async function decide<K extends DecidedBy>(
  direct: Direct,
  of: K,
  call: () => Promise<DecidedOutcomes[K]>,
): Promise<{ value: DecidedOutcomes[K] } | null> {
  try {
    const value = await call();
    recordOutcome(direct.handover, { of, value });
    return { value };
  } catch (error) {
    recordOutcome(direct.handover, { of, error });
    return null;
  }
}

/** The body, read as the frame reads it (and kept for it); null when reading it failed: the app refuses it. */
async function bodyOf(direct: Direct, route: string): Promise<{ value: unknown } | null> {
  try {
    const body = { value: await readBody(direct.request, route) };
    direct.handover.body = body;
    return body;
  } catch (error) {
    direct.handover.body = { error };
    return null;
  }
}

function answer(direct: Direct, route: string, body: unknown, principal: string | null, headers?: Record<string, string>): Response {
  return directJsonAnswer(direct.config, direct.request, {
    requestId: direct.requestId,
    route,
    body,
    headers,
    principal,
    started: direct.handover.started,
  });
}
