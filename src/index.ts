// Worker entry point: the HTTP app and the Durable Object classes it binds.
import { createApp } from "./app";
import { answerDirectly } from "./auth/direct-answers";
import { answerFromMemory } from "./auth/memory-answer";
import { runScheduled } from "./scheduled";

export { ApiKeyAuthority } from "./api-keys/authority/api-key-authority";
export { AuthService } from "./rpc/auth-service";
export { DeviceAuthorization } from "./oauth-server/device/device-authority";
export { OrgAuthority } from "./orgs/authority/org-authority";
export { LoginThrottle } from "./throttle/authority/login-throttle";
export { UserAuthority } from "./user-authority/user-authority";

const app = createApp();

export default {
  // The bearer read answered from isolate memory, four hot requests answered directly
  // (each only when it is the common case), else the app.
  fetch(request: Request, env: Env, ctx: ExecutionContext): Response | Promise<Response> {
    const remembered = answerFromMemory(request, env);
    if (remembered !== null) return remembered;
    const direct = answerDirectly(request, env, ctx);
    if (direct === null) return app.fetch(request, env, ctx);
    return direct.then((response) => response ?? app.fetch(request, env, ctx));
  },
  async scheduled(controller, env, ctx): Promise<void> {
    ctx.waitUntil(
      runScheduled(env, controller.cron).then((done) => console.log(JSON.stringify({ level: "info", event: "cleanup", ...done }))),
    );
  },
} satisfies ExportedHandler<Env>;
