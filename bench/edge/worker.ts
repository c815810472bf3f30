// The service as the edge harness serves it (bench build only; never deployed): every
// binding wrapped with the latency of a placement scenario and traced (bench/edge/wrap.ts),
// in the Worker and in each Durable Object, whose calls start from the object's home (its
// alarms' calls are marked as background work: no request waits for them).
//   POST /__edge/config  the RTT table, the placement, or a fixed delay per hop (tests)
//   GET  /__edge/trace   waits until no traced call is in flight, then returns and clears
//                        the calls and the requests' boundaries
//   GET  /__edge/shared  whether a Durable Object runs with the Worker's module instance
//   GET  /__edge/resource-check, /__edge/org-check  a consumer's check over AUTH_SELF (below)
import worker, {
  ApiKeyAuthority as RealApiKeyAuthority,
  AuthService as RealAuthService,
  LoginThrottle as RealLoginThrottle,
  OrgAuthority as RealOrgAuthority,
  UserAuthority as RealUserAuthority,
} from "../../src/index";
import { type EdgeConfig, moduleInstance, WORKER, asAlarm, drainTrace, requestStarted, setConfig } from "./trace";
import { edgeEnv, objectCaller, traceFetch } from "./wrap";

// Device authorizations (the OAuth server's device flow) make no binding calls of their own to wrap.
export { DeviceAuthorization } from "../../src/index";

traceFetch();

export class UserAuthority extends RealUserAuthority {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, edgeEnv(env, objectCaller("USER_AUTHORITY", ctx.id)));
  }

  override alarm(): Promise<void> {
    return asAlarm(() => super.alarm());
  }
}

export class LoginThrottle extends RealLoginThrottle {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, edgeEnv(env, objectCaller("LOGIN_THROTTLE", ctx.id)));
  }

  /** The module instance this object runs with (GET /__edge/shared). */
  edgeModuleInstance(): string {
    return moduleInstance();
  }

  override alarm(): Promise<void> {
    return asAlarm(() => super.alarm());
  }
}

export class ApiKeyAuthority extends RealApiKeyAuthority {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, edgeEnv(env, objectCaller("API_KEYS", ctx.id)));
  }

  override alarm(): Promise<void> {
    return asAlarm(() => super.alarm());
  }
}

export class OrgAuthority extends RealOrgAuthority {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, edgeEnv(env, objectCaller("ORG_AUTHORITY", ctx.id)));
  }

  override alarm(): Promise<void> {
    return asAlarm(() => super.alarm());
  }
}

/** The RPC entrypoint, its calls traced as the Worker's (a service binding runs beside its caller). */
export class AuthService extends RealAuthService {
  constructor(ctx: ExecutionContext, env: Env) {
    super(ctx, edgeEnv(env, WORKER));
  }
}

/** What a resource server's check asks for (bench/oauth.mjs: BENCH_RESOURCE). */
const RESOURCE_CHECK = { resource: "https://mcp.bench.invalid/mcp", scopes: ["email"] };

/** A resource server's token check over the service binding to this Worker's own AuthService (AUTH_SELF). */
async function resourceCheck(request: Request, env: Env): Promise<Response> {
  const token = (request.headers.get("Authorization") ?? "").replace(/^Bearer /, "");
  const self = (env as unknown as { AUTH_SELF: Service<RealAuthService> }).AUTH_SELF;
  const answer = await self.verifyOAuthToken(token, RESOURCE_CHECK);
  return Response.json(answer, { status: "active" in answer && answer.active ? 200 : 401 });
}

/**
 * An app's read guarded by edge-auth/hono's requireOrgPermission: the request's own
 * credential (cookie or bearer) checked over AUTH_SELF for `members:read` in its active organization.
 */
async function orgCheck(request: Request, env: Env): Promise<Response> {
  const self = (env as unknown as { AUTH_SELF: Service<RealAuthService> }).AUTH_SELF;
  const answer = await self.authenticate(request, { org: { permission: { resource: "members", action: "read" } } });
  return Response.json(answer, { status: answer.authenticated ? 200 : answer.status });
}

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/__edge/config" && request.method === "POST") {
      setConfig((await request.json()) as EdgeConfig);
      return new Response(null, { status: 204 });
    }
    if (url.pathname === "/__edge/shared") {
      const probe = env.LOGIN_THROTTLE.getByName("edge:probe") as unknown as { edgeModuleInstance(): Promise<string> };
      return Response.json({ shared: (await probe.edgeModuleInstance()) === moduleInstance() });
    }
    if (url.pathname === "/__edge/trace") {
      const quiet = Number(url.searchParams.get("quiet") ?? "5");
      return Response.json(await drainTrace(quiet));
    }
    const responded = requestStarted(request.method, url.pathname);
    try {
      if (url.pathname === "/__edge/resource-check") return await resourceCheck(request, env);
      if (url.pathname === "/__edge/org-check") return await orgCheck(request, env);
      return await worker.fetch(request, edgeEnv(env, WORKER), ctx);
    } finally {
      responded();
    }
  },
} satisfies ExportedHandler<Env>;
