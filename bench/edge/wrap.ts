// The bindings as the edge would serve them: every KV, D1 and Durable Object call, and
// every outbound fetch, waits its one-way delay there and back and is traced
// (bench/edge/trace.ts). Who calls (the Worker or an object) decides where the call
// starts from; the placement decides where it goes.
import { type Caller, WORKER, kvReadOneWayMs, oneWayMs, placement, regionOf, traced } from "./trace";

type Fn = (...args: unknown[]) => unknown;

function wrapKv(kv: KVNamespace, caller: Caller): KVNamespace {
  return new Proxy(kv, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      const read = prop === "get" || prop === "getWithMetadata" || prop === "list";
      const write = prop === "put" || prop === "delete";
      if (!read && !write) return value.bind(target);
      return (...args: unknown[]) => {
        const from = regionOf(caller);
        // A hot read comes from the cache near the caller; writes go to the central store.
        const where = read ? from : placement().kvHome;
        const delay = read ? kvReadOneWayMs() : oneWayMs(from, where);
        const call = { kind: "kv", label: `SESSIONS.${String(prop)}`, from: caller.tag, region: from, target: "SESSIONS", where } as const;
        // A hot read's published latency is the whole read: the local store's time is inside it.
        return traced(call, delay, () => Reflect.apply(value as Fn, target, args), { whole: read });
      };
    },
  });
}

/** A read goes to a replica; anything else (or anything unsure) to the primary. */
export function isRead(sql: string): boolean {
  return /^\s*(SELECT|WITH)\b/i.test(sql) && !/\b(INSERT|UPDATE|DELETE|REPLACE)\b/i.test(sql);
}

type Mode = "plain" | "session";
const realStatements = new WeakMap<object, D1PreparedStatement>();
const sqlOf = new WeakMap<object, string>();

function d1Call(caller: Caller, mode: Mode, reads: boolean, label: string) {
  const from = regionOf(caller);
  const where = placement();
  const replica = mode === "session" && reads && where.d1Replicas.includes(from);
  const to = replica ? from : where.d1Primary;
  const call = { kind: "d1", label, from: caller.tag, region: from, target: replica ? "DB:replica" : "DB:primary", where: to } as const;
  return { call, delay: oneWayMs(from, to) };
}

function brief(sql: string): string {
  return sql.replace(/\s+/g, " ").trim().slice(0, 60);
}

function wrapStatement(statement: D1PreparedStatement, sql: string, caller: Caller, mode: Mode): D1PreparedStatement {
  const proxy = new Proxy(statement, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      if (prop === "bind") {
        return (...args: unknown[]) => wrapStatement(Reflect.apply(value as Fn, target, args) as D1PreparedStatement, sql, caller, mode);
      }
      if (prop !== "first" && prop !== "all" && prop !== "run" && prop !== "raw") return value.bind(target);
      return (...args: unknown[]) => {
        const { call, delay } = d1Call(caller, mode, isRead(sql), `DB.${prop} ${brief(sql)}`);
        return traced(call, delay, () => Reflect.apply(value as Fn, target, args));
      };
    },
  });
  realStatements.set(proxy, statement);
  sqlOf.set(proxy, sql);
  return proxy;
}

type Preparer = Pick<D1Database, "prepare" | "batch">;

/** prepare and batch of a binding or of one of its sessions, traced. */
function preparer(real: Preparer, caller: Caller, mode: Mode) {
  return {
    prepare: (sql: string) => wrapStatement(real.prepare(sql), sql, caller, mode),
    batch: <T>(statements: D1PreparedStatement[]) => {
      const sqls = statements.map((statement) => sqlOf.get(statement) ?? "?");
      const unwrapped = statements.map((statement) => realStatements.get(statement) ?? statement);
      const { call, delay } = d1Call(caller, mode, sqls.every(isRead), `DB.batch[${sqls.length}] ${brief(sqls[0] ?? "")}`);
      return traced(call, delay, () => real.batch<T>(unwrapped));
    },
  };
}

function wrapD1(d1: D1Database, caller: Caller): D1Database {
  const plain = preparer(d1, caller, "plain");
  const withSession = (constraint?: string) => {
    // Locally a binding may lack sessions: the plain binding stands in, still classified.
    const real = typeof d1.withSession === "function" ? d1.withSession(constraint) : null;
    const session = preparer(real ?? d1, caller, "session");
    return { ...session, getBookmark: () => real?.getBookmark() ?? null };
  };
  return new Proxy(d1, {
    get(target, prop) {
      if (prop === "prepare" || prop === "batch") return plain[prop];
      if (prop === "withSession") return withSession;
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      if (prop !== "exec") return value.bind(target);
      return (sql: string) => {
        const { call, delay } = d1Call(caller, "plain", false, `DB.exec ${brief(sql)}`);
        return traced(call, delay, () => Reflect.apply(value, target, [sql]));
      };
    },
  });
}

function wrapStub(stub: object, callee: Caller, caller: Caller): object {
  return new Proxy(stub, {
    get(target, method) {
      const member = Reflect.get(target, method);
      // Symbol members (Symbol.dispose) are local: no call to the object.
      if (typeof member !== "function" || typeof method !== "string") return member;
      return (...args: unknown[]) => {
        const from = regionOf(caller);
        const where = regionOf(callee);
        const label = `${callee.namespace}.${String(method)}`;
        const call = { kind: "do", label, from: caller.tag, region: from, target: callee.tag, where } as const;
        // Reflect.apply: `.apply` on an RPC stub would itself be an RPC call.
        return traced(call, oneWayMs(from, where), () => Reflect.apply(member as Fn, target, args));
      };
    },
  });
}

/** Names of ids made here, for objects reached with get(id). */
const idNames = new Map<string, string>();

export function objectCaller(namespace: string, id: DurableObjectId): Caller {
  const name = id.name ?? idNames.get(id.toString()) ?? id.toString();
  return { tag: `${namespace}:${name}`, namespace, name };
}

function wrapNamespace<T extends object>(binding: string, namespace: T, caller: Caller): T {
  return new Proxy(namespace, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        const result = Reflect.apply(value, target, args) as object;
        if (prop === "idFromName") idNames.set(String(result), String(args[0]));
        if (prop === "getByName")
          return wrapStub(result, { tag: `${binding}:${String(args[0])}`, namespace: binding, name: String(args[0]) }, caller);
        if (prop === "get") return wrapStub(result, objectCaller(binding, args[0] as DurableObjectId), caller);
        return result;
      };
    },
  });
}

const wrappedEnvs = new WeakMap<object, Map<string, Env>>();

/** The env as `caller` sees it at the edge (one per caller, so drizzle's cache by binding holds). */
export function edgeEnv(env: Env, caller: Caller): Env {
  let byCaller = wrappedEnvs.get(env);
  if (byCaller === undefined) wrappedEnvs.set(env, (byCaller = new Map()));
  let result = byCaller.get(caller.tag);
  if (result === undefined) {
    result = {
      ...env,
      SESSIONS: wrapKv(env.SESSIONS, caller),
      DB: wrapD1(env.DB, caller),
      USER_AUTHORITY: wrapNamespace("USER_AUTHORITY", env.USER_AUTHORITY, caller),
      LOGIN_THROTTLE: wrapNamespace("LOGIN_THROTTLE", env.LOGIN_THROTTLE, caller),
      API_KEYS: wrapNamespace("API_KEYS", env.API_KEYS, caller),
      ORG_AUTHORITY: wrapNamespace("ORG_AUTHORITY", env.ORG_AUTHORITY, caller),
    };
    byCaller.set(caller.tag, result);
  }
  return result;
}

/** Outbound calls (identity providers) leave from the Worker, to the provider's region. */
export function traceFetch(): void {
  const real = globalThis.fetch;
  globalThis.fetch = (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const method = init?.method ?? (input instanceof Request ? input.method : "GET");
    const from = regionOf(WORKER);
    const where = placement().provider;
    const label = `fetch ${method} ${url.pathname}`;
    const call = { kind: "provider", label, from: WORKER.tag, region: from, target: url.host, where } as const;
    return traced(call, oneWayMs(from, where), () => real(input, init));
  };
}
