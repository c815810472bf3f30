// Checks a real response against the route's documented schemas (src/openapi/routes.ts).
// TestClient calls this for every response of the test suite, so any answer that
// strays from /openapi.json fails the test that received it.
import type { RouteSpec } from "../../src/openapi/route-spec";
import { oauthError } from "../../src/openapi/oauth-server-schemas";
import { errorResponse } from "../../src/openapi/response-schemas";
import { routeErrors } from "../../src/openapi/route-errors";
import { ROUTES } from "../../src/openapi/routes";

const compiled = (ROUTES as readonly RouteSpec[]).map((route) => ({
  route,
  pattern: new RegExp(`^${route.path.replace(/:[A-Za-z_]+/g, "[^/]+")}/?$`),
}));

const errors = new Map((ROUTES as readonly RouteSpec[]).map((route) => [route, routeErrors(route)]));

export async function checkDocumented(method: string, url: string, response: Response): Promise<void> {
  if (method === "HEAD" || method === "OPTIONS") return;
  const path = new URL(url).pathname;
  const route = compiled.find((entry) => entry.route.method === method.toLowerCase() && entry.pattern.test(path))?.route;
  if (route === undefined) return; // an undocumented path: the 404/405 shape is checked below
  const status = response.status;
  const text = await response.text();
  const isJson = response.headers.get("Content-Type")?.includes("application/json") ?? false;
  const body: unknown = text === "" || !isJson ? undefined : JSON.parse(text);
  const fail = (why: string): never => {
    throw new Error(`${method} ${path} answered ${status}, which ${why}: ${text.slice(0, 300)}`);
  };
  if (status >= 400 && route.oauth !== undefined) {
    // An OAuth endpoint (RFC 6749 §5.2): {error, error_description}; the authorization endpoint may show a page.
    if (!isJson && route.oauth.errorPage === true && status === 400) return;
    const parsed = oauthError.safeParse(body);
    if (!parsed.success) fail(`does not match RFC 6749's error shape (${parsed.error.message})`);
    const code = (body as { error: string }).error;
    if (!(errors.get(route)?.get(status)?.includes(code) ?? false)) fail(`with error ${code} is not a documented error of this route`);
    return;
  }
  if (status >= 400) {
    const parsed = errorResponse.safeParse(body);
    if (!parsed.success) fail(`does not match the documented error shape (${parsed.error.message})`);
    const code = (body as { code: string }).code;
    if (!(errors.get(route)?.get(status)?.includes(code) ?? false)) fail(`with code ${code} is not a documented error of this route`);
    return;
  }
  const answer = [route.ok, ...(route.alternatives ?? [])].find((candidate) => candidate.status === status);
  if (answer === undefined) fail(`is not a documented status`);
  if (answer?.schema !== undefined) {
    const parsed = answer.schema.safeParse(body);
    if (!parsed.success) fail(`does not match the documented schema (${parsed.error.message})`);
  }
}
