import { Hono } from "hono";
import type { AppEnv } from "../auth/app-env";
import { buildOpenApiDocument } from "../openapi/document";

let document: Record<string, unknown> | undefined;

/** Built once per isolate: the document depends only on the code. */
function openApi(): Record<string, unknown> {
  document ??= buildOpenApiDocument();
  return document;
}

export const docsRoutes = new Hono<AppEnv>();

docsRoutes.get("/openapi.json", (c) => {
  c.header("Cache-Control", "public, max-age=300");
  return c.json(openApi());
});
