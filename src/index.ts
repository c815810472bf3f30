// Worker entry point: the HTTP app and the Durable Object classes it binds.
import { createApp } from "./app";
import { runScheduled } from "./scheduled";

export { ApiKeyAuthority } from "./api-keys/authority/api-key-authority";
export { AuthService } from "./rpc/auth-service";
export { LoginThrottle } from "./throttle/authority/login-throttle";
export { UserAuthority } from "./user-authority/user-authority";

const app = createApp();

export default {
  fetch: app.fetch,
  async scheduled(controller, env, ctx): Promise<void> {
    ctx.waitUntil(
      runScheduled(env, controller.cron).then((done) => console.log(JSON.stringify({ level: "info", event: "cleanup", ...done }))),
    );
  },
} satisfies ExportedHandler<Env>;
