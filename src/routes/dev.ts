// /api/v1/dev: the development outbox (MAIL_PROVIDER=dev, outside production only).
import { Hono } from "hono";
import type { AppEnv } from "../auth/app-env";
import { isDevelopmentEnvironment } from "../config/config";
import { ApiError } from "../http/errors";
import { readOutbox } from "../mail/outbox";

export const devRoutes = new Hono<AppEnv>();

devRoutes.get("/outbox", async (c) => {
  const config = c.get("config");
  if (config.mail.provider !== "dev" || !isDevelopmentEnvironment(config.environment)) throw new ApiError("not_found", "Not found");
  return c.json({ items: await readOutbox(c.env.DB, c.req.query("to")) });
});
