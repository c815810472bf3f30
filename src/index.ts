// Worker entry point: the HTTP app and the Durable Object classes it binds.
import { createApp } from "./app";
import { answerFromMemory } from "./auth/memory-answer";
import { runScheduled } from "./scheduled";

export { ApiKeyAuthority } from "./api-keys/authority/api-key-authority";
export { AuthService } from "./rpc/auth-service";
export { LoginThrottle } from "./throttle/authority/login-throttle";
export { UserAuthority } from "./user-authority/user-authority";

const app = createApp();

export default {
  // The one read answered from isolate memory without the router, else the app.
  fetch: (request: Request, env: Env, ctx: ExecutionContext) => answerFromMemory(request, env) ?? app.fetch(request, env, ctx),
  async scheduled(controller, env, ctx): Promise<void> {
    ctx.waitUntil(
      runScheduled(env, controller.cron).then((done) => console.log(JSON.stringify({ level: "info", event: "cleanup", ...done }))),
    );
  },
} satisfies ExportedHandler<Env>;
