// The service with its bindings wrapped to count storage operations (bench build only;
// never deployed). GET /__bench/ops returns the counts since the last call and resets.
import worker, {
  ApiKeyAuthority as RealApiKeyAuthority,
  AuthService as RealAuthService,
  LoginThrottle as RealLoginThrottle,
  OrgAuthority as RealOrgAuthority,
  UserAuthority as RealUserAuthority,
} from "../src/index";

// Device authorizations (the OAuth server's device flow) make no call the counts follow.
export { DeviceAuthorization } from "../src/index";

const counts = { kvRead: 0, kvWrite: 0, d1Query: 0, doCall: 0 };
const wrapped = new WeakMap<object, Env>();

function countedKv(kv: KVNamespace): KVNamespace {
  return new Proxy(kv, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        if (prop === "get" || prop === "getWithMetadata" || prop === "list") counts.kvRead += 1;
        if (prop === "put" || prop === "delete") counts.kvWrite += 1;
        return value.apply(target, args);
      };
    },
  });
}

function countedD1(d1: D1Database): D1Database {
  return new Proxy(d1, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        // One prepared statement is one query (run alone or in a batch).
        if (prop === "prepare" || prop === "exec") counts.d1Query += 1;
        return value.apply(target, args);
      };
    },
  });
}

function countedNamespace(namespace: DurableObjectNamespace): DurableObjectNamespace {
  return new Proxy(namespace, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        const result = value.apply(target, args);
        if (prop !== "getByName" && prop !== "get") return result;
        return new Proxy(result as object, {
          get(stub, method) {
            const member = Reflect.get(stub, method);
            if (typeof member !== "function") return member;
            return (...callArgs: unknown[]) => {
              counts.doCall += 1;
              // Reflect.apply: `.apply` on an RPC stub would itself be an RPC call.
              return Reflect.apply(member as (...a: unknown[]) => unknown, stub, callArgs);
            };
          },
        });
      };
    },
  });
}

function counted(env: Env): Env {
  let result = wrapped.get(env);
  if (result === undefined) {
    result = {
      ...env,
      SESSIONS: countedKv(env.SESSIONS),
      DB: countedD1(env.DB),
      USER_AUTHORITY: countedNamespace(env.USER_AUTHORITY as DurableObjectNamespace),
      LOGIN_THROTTLE: countedNamespace(env.LOGIN_THROTTLE as DurableObjectNamespace),
      API_KEYS: countedNamespace(env.API_KEYS as DurableObjectNamespace),
      ORG_AUTHORITY: countedNamespace(env.ORG_AUTHORITY as DurableObjectNamespace),
    } as Env;
    wrapped.set(env, result);
  }
  return result;
}

export class UserAuthority extends RealUserAuthority {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, counted(env));
  }
}

export class LoginThrottle extends RealLoginThrottle {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, counted(env));
  }
}

export class ApiKeyAuthority extends RealApiKeyAuthority {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, counted(env));
  }
}

export class OrgAuthority extends RealOrgAuthority {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, counted(env));
  }
}

/** The RPC entrypoint (a resource server's token check), counted as the HTTP routes are. */
export class AuthService extends RealAuthService {
  constructor(ctx: ExecutionContext, env: Env) {
    super(ctx, counted(env));
  }
}

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    if (new URL(request.url).pathname === "/__bench/ops") {
      const snapshot = { ...counts };
      counts.kvRead = counts.kvWrite = counts.d1Query = counts.doCall = 0;
      return Response.json(snapshot);
    }
    return worker.fetch(request, counted(env), ctx);
  },
} satisfies ExportedHandler<Env>;
