// A sign-in that started elsewhere on this origin and comes back: the OAuth
// authorization endpoint (a third-party app asked) or the /device page. Only those two
// paths of this origin are followed; anything else in ?return_to= is ignored, so no link
// can make this page an open redirect.
const FOLLOWED = /^\/(oauth2\/authorize\?|device(\?|$))/;
/** A sign-in this recent counts as the fresh one the authorization asked for (it returns with max_age=60). */
const FRESH_MS = 60_000;

export function returnTarget(query) {
  const path = query.get("return_to");
  if (path === null || !FOLLOWED.test(path) || path.includes("\\")) return null;
  return { path, reauth: query.get("reauth") === "1", stepUp: query.get("step_up") === "aal2" };
}

/** Why the signed-in user must sign in again before going back, or null when they may go now. */
export function signInAgainReason(target, session) {
  const signedInAt = Math.max(
    Date.parse(session.auth_time),
    session.reauthenticated_at === null ? 0 : Date.parse(session.reauthenticated_at),
  );
  if (target.stepUp && session.aal < 2)
    return "The app asks for a second factor: sign in again with your password and your second factor (or a passkey).";
  if (target.reauth && Date.now() - signedInAt > FRESH_MS) return "The app asks you to sign in again before it continues.";
  return null;
}
