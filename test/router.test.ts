// The app's router remembers each method and path's match (src/http/router.ts): what it
// remembers must be exactly what the trie finds, per path, however many paths it has seen.
import { describe, expect, it } from "vitest";
import { RememberingRouter } from "../src/http/router";

function routes(): RememberingRouter<string> {
  const router = new RememberingRouter<string>();
  router.add("ALL", "*", "frame");
  router.add("GET", "/oauth/providers", "providers");
  router.add("GET", "/oauth/:provider", "start");
  router.add("DELETE", "/keys/:id", "revoke");
  return router;
}

/** The handlers and parameters of a match, whatever the router's result shape. */
function found(router: RememberingRouter<string>, method: string, path: string): Array<[string, Record<string, string>]> {
  const [handlers] = router.match(method, path);
  return handlers.map(([handler, params]) => [handler, { ...(params as Record<string, string>) }]);
}

describe("the remembering router", () => {
  it("matches a static segment beside a parameter, and each path with its own parameters", () => {
    const router = routes();
    expect(found(router, "GET", "/oauth/providers")).toEqual([
      ["frame", {}],
      ["providers", {}],
      ["start", { provider: "providers" }],
    ]);
    expect(found(router, "GET", "/oauth/github")).toEqual([
      ["frame", {}],
      ["start", { provider: "github" }],
    ]);
    expect(found(router, "DELETE", "/keys/a")).toEqual([
      ["frame", {}],
      ["revoke", { id: "a" }],
    ]);
    expect(found(router, "DELETE", "/keys/b")).toEqual([
      ["frame", {}],
      ["revoke", { id: "b" }],
    ]);
    expect(found(router, "GET", "/keys/a")).toEqual([["frame", {}]]);
  });

  it("answers a path it has seen with the same match, and stays right past the paths it remembers", () => {
    const router = routes();
    const first = router.match("GET", "/oauth/github");
    expect(router.match("GET", "/oauth/github")).toBe(first);
    // What no route has, and very long paths, are matched afresh every time.
    expect(router.match("GET", "/nope")).not.toBe(router.match("GET", "/nope"));
    const long = `/oauth/${"x".repeat(300)}`;
    expect(router.match("GET", long)).not.toBe(router.match("GET", long));
    expect(found(router, "GET", long)).toEqual([
      ["frame", {}],
      ["start", { provider: "x".repeat(300) }],
    ]);
    for (let i = 0; i < 2_000; i++) {
      expect(found(router, "DELETE", `/keys/k${i}`)).toEqual([
        ["frame", {}],
        ["revoke", { id: `k${i}` }],
      ]);
    }
    expect(found(router, "GET", "/oauth/github")).toEqual([
      ["frame", {}],
      ["start", { provider: "github" }],
    ]);
  });
});
