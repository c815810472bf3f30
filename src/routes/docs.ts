import { Hono } from "hono";
import type { AppEnv } from "../auth/app-env";
import { renderDocsPage } from "../openapi/docs-page";
import { buildOpenApiDocument } from "../openapi/document";
import { DOCS_CSP } from "./pages";

let document: Record<string, unknown> | undefined;
let page: string | undefined;

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

for (const path of ["/docs", "/docs/"]) {
  docsRoutes.get(path, (c) => {
    page ??= renderDocsPage(openApi());
    c.header("Content-Security-Policy", DOCS_CSP);
    // Revalidated on every load, as the pages are, so a deploy's page and scripts arrive together.
    c.header("Cache-Control", "no-cache");
    return c.html(page);
  });
}
