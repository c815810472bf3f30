import type { Context } from "hono";
import { database } from "../db/client";
import type { AppEnv } from "../env";
import { createMailer } from "../mail/mailer";
import type { AccountDeps } from "./account-service";

export function accountDeps(c: Context<AppEnv>): AccountDeps {
  const config = c.get("config");
  return {
    db: database(c.env.DB),
    d1: c.env.DB,
    config,
    authority: c.env.USER_AUTHORITY,
    keys: c.env.API_KEYS,
    throttle: c.env.LOGIN_THROTTLE,
    mailer: createMailer(config, c.env.DB),
    waitUntil: (promise) => c.executionCtx.waitUntil(promise),
    linkBase: config.appBaseUrl ?? new URL(c.req.url).origin,
  };
}
