// The app's router: Hono's TrieRouter, with each match remembered per method and path.
// Hono's default (SmartRouter) tries RegExpRouter first, which refuses a static segment
// beside a parameter (`/oauth/providers` and `/oauth/:provider`, both in the contract),
// and falls back to TrieRouter, whose search walked the trie on every request (about 5%
// of a bearer check's CPU). A match depends only on the method and the path, and Hono
// only reads it, so a remembered one serves every later request of that path.
import type { Result, Router } from "hono/router";
import { TrieRouter } from "hono/router/trie-router";

/** Paths remembered per isolate: the hot ones are a handful; unknown paths only refill the map. */
const REMEMBERED = 512;
/** Longer paths are matched every time: a key must not hold a long URL in memory. */
const LONGEST_REMEMBERED = 256;

export class RememberingRouter<T> implements Router<T> {
  readonly name = "RememberingRouter";
  readonly #router = new TrieRouter<T>();
  /** Handlers of every path (the request frame, the services): a match of only these found no route. */
  readonly #everywhere = new Set<T>();
  /** Method, then path: no key is built per request. */
  readonly #matches = new Map<string, Map<string, Result<T>>>();
  #remembered = 0;

  add(method: string, path: string, handler: T): void {
    if (path === "*" || path === "/*") this.#everywhere.add(handler);
    this.#router.add(method, path, handler);
  }

  match(method: string, path: string): Result<T> {
    const remembered = this.#matches.get(method)?.get(path);
    if (remembered !== undefined) return remembered;
    const match = this.#router.match(method, path);
    // Only routes are remembered: a scanner's unknown paths never push the hot ones out.
    if (path.length <= LONGEST_REMEMBERED && match[0].some(([handler]) => !this.#everywhere.has(handler)))
      this.#remember(method, path, match);
    return match;
  }

  #remember(method: string, path: string, match: Result<T>): void {
    // Routes with parameters (an id per key or session) still fill the map: it starts over.
    if (++this.#remembered > REMEMBERED) {
      this.#matches.clear();
      this.#remembered = 1;
    }
    let paths = this.#matches.get(method);
    if (paths === undefined) {
      paths = new Map();
      this.#matches.set(method, paths);
    }
    // A copy: the path is a slice of the request's URL, query string included, which the
    // key would otherwise keep alive.
    paths.set(path.split("").join(""), match);
  }
}
