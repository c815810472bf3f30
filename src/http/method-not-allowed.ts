import type { Hono } from "hono";
import type { HttpEnv } from "./http-env";

const cache = new WeakMap<object, Array<{ method: string; pattern: RegExp }>>();

/**
 * The methods registered for a path that was requested with another one, so an
 * unknown method gets 405 with Allow rather than 404. Null when no route has the path.
 */
export function methodNotAllowed(app: Hono<any>, method: string, path: string): string[] | null {
  let routes = cache.get(app);
  if (routes === undefined) {
    routes = app.routes
      .filter((route) => route.method !== "ALL")
      .map((route) => ({ method: route.method, pattern: patternOf(route.path) }));
    cache.set(app, routes);
  }
  const methods = new Set(routes.filter((route) => route.pattern.test(path)).map((route) => route.method));
  if (methods.size === 0 || methods.has(method)) return null;
  if (methods.has("GET")) methods.add("HEAD");
  return [...methods].sort();
}

function patternOf(path: string): RegExp {
  const source = path
    .split("/")
    .map((part) => (part.startsWith(":") ? "[^/]+" : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
    .join("/");
  return new RegExp(`^${source.replace(/\/$/, "")}/?$`);
}
