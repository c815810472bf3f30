// Floor of `GET /users/me` with a bearer token: the least the contract asks of the path
// when the token was checked before in this isolate (as the service remembers a token's
// signature check and the user's principal per isolate): find both, check the token
// against the user's revocations (their not-before time and live token families, as the
// contract's logout-all and password change require), answer the user with the API's
// headers. Like any Worker of the whole contract it answers this one route only (method
// and path), takes an X-API-Key before a bearer token (a key is another credential), and
// allows the CORS_ORIGINS (none here) to read the answer. No framework, no signature
// check, no revocation read.
import { answer, refused } from "./answer.js";

const remembered = new Map();
const ROUTE = "/api/v1/users/me";
/** The contract's CORS_ORIGINS: none in the bench. */
const CORS_ORIGINS = new Set();

export default {
  fetch(request) {
    const url = request.url;
    if (request.method !== "GET" || url.slice(url.indexOf("/", url.indexOf("//") + 2)) !== ROUTE) return refused("not_found", 404);
    if (request.headers.has("X-API-Key")) return refused("not_this_path", 400);
    const authorization = request.headers.get("Authorization");
    if (authorization === null || !authorization.startsWith("Bearer ")) return refused("not_authenticated");
    const token = authorization.slice(7);
    let principal = remembered.get(token);
    if (principal === undefined) {
      const familyId = crypto.randomUUID();
      principal = {
        expiresAt: Date.now() + 1_800_000,
        familyId,
        issuedAt: Date.now(),
        revocations: { notBefore: Date.now() - 60_000, families: [crypto.randomUUID(), familyId] },
        user: {
          id: crypto.randomUUID(),
          email: "floor@bench.test",
          username: null,
          name: null,
          email_verified: false,
          is_superuser: false,
          oauth_providers: [],
          created_at: new Date().toISOString(),
        },
      };
      remembered.set(token, principal);
    }
    if (Date.now() >= principal.expiresAt) return refused("invalid_token");
    const { revocations } = principal;
    if (principal.issuedAt < revocations.notBefore || !revocations.families.includes(principal.familyId)) return refused("invalid_token");
    const origin = request.headers.get("Origin");
    if (origin === null || !CORS_ORIGINS.has(origin)) return answer(principal.user);
    return answer(principal.user, 200, { "Access-Control-Allow-Origin": origin, "Access-Control-Allow-Credentials": "true" });
  },
};
