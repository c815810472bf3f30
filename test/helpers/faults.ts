// Fault injection for tests: wrappers around the real bindings (KV, D1, the Durable
// Object namespaces) that fail chosen calls and pass every other call to the real
// binding underneath. A client sees them through `client.bindings = faults.bindings()`.
import { env } from "cloudflare:workers";

/** How a failing call fails, as the platform would report it. */
export type FaultKind =
  | "error" // a plain error (KV or D1 unreachable)
  | "retryable" // a transient platform error (the runtime marks it retryable)
  | "overloaded" // the object is overloaded: must not be retried
  | "reset"; // the object was reset mid-call, after the call's work landed

export interface FaultRule {
  /** Method names that fail (KV get/put, D1 first/all/run/raw/batch, a Durable Object's RPC method); all when absent. */
  methods?: string[];
  kind?: FaultKind;
  /** How many matching calls fail; every one when absent. */
  times?: number;
  /** D1 only: only statements whose SQL matches fail (a batch fails if one of its statements does). */
  sql?: RegExp;
}

type BindingName = "SESSIONS" | "DB" | "USER_AUTHORITY" | "API_KEYS" | "LOGIN_THROTTLE";

export function platformError(kind: FaultKind): Error {
  const error = new Error(`injected fault: ${kind}`);
  if (kind === "retryable" || kind === "reset") Object.assign(error, { retryable: true });
  if (kind === "overloaded") Object.assign(error, { overloaded: true });
  return error;
}

export class Faults {
  /** Calls seen per `BINDING.method`, failed or not. */
  readonly calls = new Map<string, number>();
  readonly failed = new Map<string, number>();
  private readonly rules = new Map<BindingName, FaultRule>();

  fail(binding: BindingName, rule: FaultRule = {}): this {
    this.rules.set(binding, rule);
    return this;
  }

  heal(): this {
    this.rules.clear();
    return this;
  }

  count(binding: BindingName, method: string): number {
    return this.calls.get(`${binding}.${method}`) ?? 0;
  }

  bindings(): Partial<Env> {
    return {
      SESSIONS: this.wrapObject("SESSIONS", env.SESSIONS),
      DB: this.wrapD1(env.DB),
      USER_AUTHORITY: this.wrapNamespace("USER_AUTHORITY", env.USER_AUTHORITY),
      API_KEYS: this.wrapNamespace("API_KEYS", env.API_KEYS),
      LOGIN_THROTTLE: this.wrapNamespace("LOGIN_THROTTLE", env.LOGIN_THROTTLE),
    };
  }

  /** The fault for this call, if it is to fail (and counts it). */
  private take(binding: BindingName, method: string, sql: string[] = []): FaultKind | null {
    const name = `${binding}.${method}`;
    this.calls.set(name, (this.calls.get(name) ?? 0) + 1);
    const rule = this.rules.get(binding);
    if (rule === undefined || (rule.methods !== undefined && !rule.methods.includes(method))) return null;
    if (rule.sql !== undefined && !sql.some((query) => rule.sql?.test(query))) return null;
    if (rule.times !== undefined) {
      if (rule.times <= 0) return null;
      rule.times -= 1;
    }
    this.failed.set(name, (this.failed.get(name) ?? 0) + 1);
    return rule.kind ?? "error";
  }

  private async run(binding: BindingName, method: string, call: () => unknown, sql?: string[]): Promise<unknown> {
    const fault = this.take(binding, method, sql);
    if (fault === null) return call();
    if (fault === "reset") {
      await call();
      throw platformError(fault);
    }
    throw platformError(fault);
  }

  private wrapObject<T extends object>(binding: BindingName, target: T): T {
    return new Proxy(target, {
      get: (object, property) => {
        const value = Reflect.get(object, property) as unknown;
        if (typeof value !== "function" || typeof property !== "string") return value;
        return (...args: unknown[]) =>
          this.run(binding, property, () => Reflect.apply(value as (...a: unknown[]) => unknown, object, args));
      },
    });
  }

  private wrapNamespace<T extends object>(binding: BindingName, namespace: T): T {
    const stubFor = (stub: object) => this.wrapObject(binding, stub);
    return new Proxy(namespace, {
      get: (object, property) => {
        if (property === "getByName" || property === "get") {
          return (...args: unknown[]) =>
            stubFor(Reflect.apply(Reflect.get(object, property) as (...a: unknown[]) => object, object, args) as object);
        }
        const value = Reflect.get(object, property) as unknown;
        return typeof value === "function"
          ? (...args: unknown[]) => Reflect.apply(value as (...a: unknown[]) => unknown, object, args)
          : value;
      },
    });
  }

  /** D1: statements fail when run (first/all/run/raw), and batch fails as a whole; the real statements go to the real batch. */
  private wrapD1(db: D1Database): D1Database {
    const real = new WeakMap<object, D1PreparedStatement>();
    const queries = new WeakMap<object, string>();
    const wrapStatement = (statement: D1PreparedStatement, query: string): D1PreparedStatement => {
      const proxy = new Proxy(statement, {
        get: (object, property) => {
          const value = Reflect.get(object, property) as unknown;
          if (typeof value !== "function") return value;
          if (property === "bind") return (...args: unknown[]) => wrapStatement(object.bind(...args), query);
          if (typeof property === "string" && ["first", "all", "run", "raw"].includes(property)) {
            return (...args: unknown[]) =>
              this.run("DB", property, () => Reflect.apply(value as (...a: unknown[]) => unknown, object, args), [query]);
          }
          return (...args: unknown[]) => Reflect.apply(value as (...a: unknown[]) => unknown, object, args);
        },
      });
      real.set(proxy, statement);
      queries.set(proxy, query);
      return proxy;
    };
    return new Proxy(db, {
      get: (object, property) => {
        if (property === "prepare") return (query: string) => wrapStatement(object.prepare(query), query);
        if (property === "batch") {
          return (statements: D1PreparedStatement[]) =>
            this.run(
              "DB",
              "batch",
              () => object.batch(statements.map((statement) => real.get(statement) ?? statement)),
              statements.map((statement) => queries.get(statement) ?? ""),
            );
        }
        const value = Reflect.get(object, property) as unknown;
        return typeof value === "function"
          ? (...args: unknown[]) => Reflect.apply(value as (...a: unknown[]) => unknown, object, args)
          : value;
      },
    });
  }
}
