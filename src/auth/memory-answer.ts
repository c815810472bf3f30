// The one request answered outside the router: `GET /api/v1/users/me` with a bearer token
// whose signature this isolate has checked, from a user whose principal record it holds
// fresh. That is every such request after an isolate's first, the commonest call of an
// app using tokens, and it needs nothing but memory: answered here synchronously, it
// skips the router, the middleware chain and an asynchronous answer, which cost about a
// fifth of its CPU (docs/benchmark.md). It is the same answer the app gives (the same
// checks, record, headers and log line, tested side by side); anything else, or any
// miss, returns null and the app answers, so this path can only ever be a shortcut.
import { credentialOf } from "./credentials";
import { loadConfig } from "../config/config";
import { SettingError } from "../config/parse";
import { freshPrincipal } from "../sessions/isolate-memory";
import { rememberedClaims } from "../tokens/access-token";
import { tokenStanding } from "../user-authority/principal-record";
import { directJsonAnswer, pathOf } from "../http/direct-answer";
import { requestIdOf } from "../http/request-id";
import { isNavigation } from "../http/security-headers";

const ROUTE = "/api/v1/users/me";

export function answerFromMemory(request: Request, env: Env): Response | null {
  try {
    return answer(request, env);
  } catch {
    // Whatever went wrong, the app answers it (in the error shape, with its headers and log).
    return null;
  }
}

function answer(request: Request, env: Env): Response | null {
  if (request.method !== "GET" || pathOf(request.url) !== ROUTE) return null;
  const config = loadConfig(env);
  // A bad setting, or Server-Timing asked for: the app answers (and reports either).
  if (config instanceof SettingError || config.serverTiming) return null;
  const credential = credentialOf(config, request.headers);
  if (credential?.kind !== "bearer") return null;
  const claims = rememberedClaims(config, credential.token);
  if (claims === null) return null;
  const record = freshPrincipal(claims.userId);
  // A family the record does not know yet, or a revoked one: the app decides.
  if (record === null || tokenStanding(record, claims.familyId, claims.issuedAt) !== "valid") return null;
  // A navigation gets the document headers (security-headers.ts): the app answers it.
  if (isNavigation(request)) return null;

  return directJsonAnswer(config, request, {
    requestId: requestIdOf(request.headers),
    route: ROUTE,
    body: record.user,
    principal: "token",
    started: Date.now(),
  });
}
