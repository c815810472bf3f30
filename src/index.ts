// Worker entry point: the HTTP app and the Durable Object classes it binds.
import { createApp } from "./app";

export { ApiKeyAuthority } from "./api-keys/api-key-authority";
export { LoginThrottle } from "./throttle/login-throttle";
export { UserAuthority } from "./sessions/user-authority";

const app = createApp();

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
