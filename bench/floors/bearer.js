// Floor of `GET /users/me` with a bearer token: the least the contract asks of the path
// when the token was checked before in this isolate (as the service remembers a token's
// signature check and the user's principal per isolate): find both, answer the user with
// the API's headers. No framework, no signature check, no revocation read.
import { answer, refused } from "./answer.js";

const remembered = new Map();

export default {
  fetch(request) {
    const authorization = request.headers.get("Authorization");
    if (authorization === null || !authorization.startsWith("Bearer ")) return refused("not_authenticated");
    const token = authorization.slice(7);
    let principal = remembered.get(token);
    if (principal === undefined) {
      principal = {
        expiresAt: Date.now() + 1_800_000,
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
    return answer(principal.user);
  },
};
