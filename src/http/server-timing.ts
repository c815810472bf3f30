// SERVER_TIMING=true: every answer carries a Server-Timing header with the time of each
// call the Worker made to a binding while answering (KV, D1, a Durable Object), in
// order, and the total: what a request cost at the edge,
// seen from a browser's devtools or `npm run probe`. Names only, never an identifier,
// key or value. Off by default: a timing side channel is not served unless asked for.
// Calls the Worker's objects make inside themselves show in their object's time.

/** The hops of one request. */
export class ServerTiming {
  private readonly hops: Array<{ name: string; ms: number }> = [];
  private readonly started = performance.now();

  /** Times one call; its promise is returned unchanged. */
  time<T>(name: string, call: () => Promise<T>): Promise<T> {
    const start = performance.now();
    const done = (): void => {
      this.hops.push({ name, ms: performance.now() - start });
    };
    return call().then(
      (value) => {
        done();
        return value;
      },
      (error: unknown) => {
        done();
        throw error;
      },
    );
  }

  header(): string {
    const entries = this.hops.map((hop) => `${hop.name};dur=${hop.ms.toFixed(1)}`);
    entries.push(`total;dur=${(performance.now() - this.started).toFixed(1)}`);
    return entries.join(", ");
  }
}

/** The bindings the Worker uses, each call timed into `timing`. */
export function timedEnv(env: Env, timing: ServerTiming): Env {
  return {
    ...env,
    SESSIONS: timedMethods(env.SESSIONS, timing, "kv"),
    DB: timedD1(env.DB, timing),
    USER_AUTHORITY: timedNamespace(env.USER_AUTHORITY, timing),
    LOGIN_THROTTLE: timedNamespace(env.LOGIN_THROTTLE, timing),
    API_KEYS: timedNamespace(env.API_KEYS, timing),
  } as Env;
}

function timedMethods<T extends object>(target: T, timing: ServerTiming, hop: string): T {
  return new Proxy(target, {
    get(object, property) {
      const value = Reflect.get(object, property, object) as unknown;
      if (typeof value !== "function") return value;
      const method = value as (...args: unknown[]) => unknown;
      return (...args: unknown[]) => timing.time(hop, () => Promise.resolve(method.apply(object, args)));
    },
  });
}

/** D1: a statement is timed when it runs (first, all, run, raw), a batch or exec as one call. */
function timedD1(db: D1Database, timing: ServerTiming): D1Database {
  const statement = (prepared: D1PreparedStatement): D1PreparedStatement =>
    new Proxy(prepared, {
      get(object, property) {
        const value = Reflect.get(object, property, object) as unknown;
        if (typeof value !== "function") return value;
        const method = value as (...args: unknown[]) => unknown;
        if (property === "bind") return (...args: unknown[]) => statement(method.apply(object, args) as D1PreparedStatement);
        return (...args: unknown[]) => timing.time("d1", () => Promise.resolve(method.apply(object, args)));
      },
    });
  return new Proxy(db, {
    get(object, property) {
      const value = Reflect.get(object, property, object) as unknown;
      if (typeof value !== "function") return value;
      const method = value as (...args: unknown[]) => unknown;
      if (property === "prepare") return (query: string) => statement(method.call(object, query) as D1PreparedStatement);
      if (property === "batch" || property === "exec")
        return (...args: unknown[]) => timing.time("d1", () => Promise.resolve(method.apply(object, args)));
      return method.bind(object);
    },
  });
}

/**
 * A Durable Object namespace: each call on a stub it makes is timed as `do`, whichever
 * kind of object it is (a login for an unknown name calls a throttle where a known
 * account's calls its authority: the header must not tell them apart).
 */
function timedNamespace<T extends object>(namespace: T, timing: ServerTiming): T {
  return new Proxy(namespace, {
    get(object, property) {
      const value = Reflect.get(object, property, object) as unknown;
      if (typeof value !== "function") return value;
      const method = value as (...args: unknown[]) => unknown;
      if (property !== "getByName" && property !== "get") return method.bind(object);
      return (...args: unknown[]) => {
        const stub = method.apply(object, args) as object;
        return new Proxy(stub, {
          get(inner, name) {
            const member = Reflect.get(inner, name) as unknown;
            if (typeof member !== "function" || typeof name !== "string" || name === "then" || name === "fetch") return member;
            // Reflect.apply: `.apply` on an RPC stub would itself be an RPC call.
            return (...callArgs: unknown[]) =>
              timing.time("do", () => Promise.resolve(Reflect.apply(member as (...a: unknown[]) => unknown, inner, callArgs)));
          },
        });
      };
    },
  });
}
