// Turnstile's widget on the service's own pages: shown only when the service asks for it
// (GET /api/v1/auth/challenge names a site key and the routes that need a token), rendered
// into each form's `.challenge` container whose data-action is one of them, and sent as
// `turnstile_token`. A token is good once: the widget is reset after every submit.
import { api } from "/shared/api.js";

const SCRIPT = "https://challenges.cloudflare.com/turnstile/v0/api.js?render=explicit";
let settings = null;
let loaded = null;

function asked(action) {
  if (settings?.site_key == null) return false;
  return settings.routes.includes(action) || (action === "login" && settings.login_after_failures !== null);
}

/** Reads the service's challenge settings and, when it asks for one, renders the widget into each container. */
export async function setupChallenges() {
  const result = await api("GET", "/api/v1/auth/challenge");
  settings = result.status === 200 ? result.data : null;
  const containers = [...document.querySelectorAll(".challenge")].filter((container) => asked(container.dataset.action));
  if (containers.length === 0) return;
  loaded ??= new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = SCRIPT;
    script.async = true;
    script.onload = resolve;
    script.onerror = () => reject(new Error("the challenge could not be loaded"));
    document.head.append(script);
  });
  await loaded;
  for (const container of containers) {
    container.dataset.widget = window.turnstile.render(container, { sitekey: settings.site_key, action: container.dataset.action });
  }
}

/**
 * `body` with the form's challenge token for `action` (the form's only one when not named),
 * when its widget is shown; the widget is reset for the next submit.
 */
export function withChallenge(form, body, action) {
  const container = form.querySelector(action === undefined ? ".challenge" : `.challenge[data-action="${action}"]`);
  const id = container?.dataset.widget;
  if (id === undefined) return body;
  const token = window.turnstile.getResponse(id);
  window.turnstile.reset(id);
  return token ? { ...body, turnstile_token: token } : body;
}
