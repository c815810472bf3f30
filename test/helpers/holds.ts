// Deterministic interleavings for race tests: the real bindings, wrapped so that one
// request stops at a chosen call until the test lets it go. The competing request runs
// for real in between, so the test hits the exact window a race would need.
import { env } from "cloudflare:workers";

export interface Hold {
  /** Resolves once `count` calls are waiting at the hold (or, with `orAfterMs`, when that time is up). */
  reached(count: number, orAfterMs?: number): Promise<void>;
  release(): void;
  readonly released: Promise<void>;
  arrive(): void;
}

/** Settings that swap bindings of the Worker under test for held ones. */
export function withBindings(bindings: Record<string, unknown>): Record<string, string> {
  return bindings as Record<string, string>;
}

export function hold(): Hold {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let arrived = 0;
  return {
    released,
    release,
    arrive: () => void (arrived += 1),
    async reached(count: number, orAfterMs?: number): Promise<void> {
      for (let waited = 0; arrived < count; waited += 10) {
        if (orAfterMs !== undefined && waited >= orAfterMs) return;
        if (waited > 20_000) throw new Error(`only ${arrived} of ${count} calls reached the hold`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
  };
}

function bound(target: object, property: string | symbol): unknown {
  const value = Reflect.get(target, property);
  return typeof value === "function" ? value.bind(target) : value;
}

/**
 * A Durable Object namespace whose stubs hold `method` (after it ran, when `after`) until
 * the hold is released.
 */
// biome-ignore lint/suspicious/noExplicitAny: any Durable Object class
export function namespaceHolding<T extends DurableObjectNamespace<any>>(
  namespace: T,
  method: string,
  gate: Hold,
  when: "before" | "after" = "before",
): T {
  return new Proxy(namespace as object, {
    get(target, property) {
      if (property !== "getByName") return bound(target, property);
      return (name: string) => {
        const stub = (target as { getByName(name: string): object }).getByName(name);
        return new Proxy(stub, {
          get(inner, key) {
            // An RPC stub answers every property name with a remote method: call through, never bind.
            if (key !== method)
              return (...args: unknown[]) => (inner as unknown as Record<string | symbol, (...a: unknown[]) => unknown>)[key]!(...args);
            return async (...args: unknown[]) => {
              const call = (): Promise<unknown> =>
                (inner as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[method]!(...args);
              if (when === "after") {
                const result = await call();
                gate.arrive();
                await gate.released;
                return result;
              }
              gate.arrive();
              await gate.released;
              return call();
            };
          },
        });
      };
    },
  }) as T;
}

/**
 * The real D1, holding every statement whose SQL matches `pattern` (before it runs, or
 * after) until released; a batch is held as a whole when one of its statements matches.
 */
export function d1Holding(pattern: RegExp, gate: Hold, when: "before" | "after" = "before"): D1Database {
  const sqlOf = new WeakMap<object, string>();
  const wrapStatement = (statement: D1PreparedStatement, sql: string): D1PreparedStatement => {
    const wrapped = new Proxy(statement, {
      get(target, property) {
        if (property === "bind") return (...values: unknown[]) => wrapStatement(target.bind(...values), sql);
        if (!["first", "all", "run", "raw"].includes(String(property)) || !pattern.test(sql)) return bound(target, property);
        return async (...args: unknown[]) => {
          const run = (): Promise<unknown> =>
            (target as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[String(property)]!(...args);
          const result = when === "after" ? await run() : undefined;
          gate.arrive();
          await gate.released;
          return when === "after" ? result : run();
        };
      },
    });
    sqlOf.set(wrapped, sql);
    return wrapped;
  };
  return new Proxy(env.DB, {
    get(target, property) {
      if (property === "prepare") return (sql: string) => wrapStatement(target.prepare(sql), sql);
      if (property === "batch")
        return async (statements: D1PreparedStatement[]) => {
          if (!statements.some((statement) => pattern.test(sqlOf.get(statement) ?? ""))) return target.batch(statements);
          const result = when === "after" ? await target.batch(statements) : undefined;
          gate.arrive();
          await gate.released;
          return when === "after" ? result : target.batch(statements);
        };
      return bound(target, property);
    },
  });
}
