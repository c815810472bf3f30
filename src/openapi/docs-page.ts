// GET /docs: a readable reference page rendered from the OpenAPI document, with no
// script and nothing loaded from elsewhere.

type Json = Record<string, any>;

const escape = (text: string): string => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

export function renderDocsPage(document: Json): string {
  const sections: string[] = [];
  for (const [path, methods] of Object.entries(document.paths as Json)) {
    for (const [method, op] of Object.entries(methods as Json)) {
      const security = (op.security as Json[]).map((option) => Object.keys(option).join(" + ")).join(" or ") || "none";
      const params = (op.parameters as Json[])
        .map((param) => `<li><code>${escape(param.name)}</code> (${param.in}${param.required ? ", required" : ""})</li>`)
        .join("");
      const body = op.requestBody?.content?.["application/json"];
      const responses = Object.entries(op.responses as Json)
        .map(
          ([status, response]) =>
            `<li><b>${status}</b> ${escape((response as Json).description ?? String((response as Json).$ref ?? "").replace("#/components/responses/", ""))}</li>`,
        )
        .join("");
      sections.push(`<section id="${escape(op.operationId)}">
<h3><span class="m ${method}">${method.toUpperCase()}</span> <code>${escape(path)}</code></h3>
<p>${escape(op.summary ?? "")}${op.description ? ` ${escape(op.description)}` : ""}</p>
<p><b>Auth:</b> ${escape(security)}</p>
${params ? `<p><b>Parameters</b></p><ul>${params}</ul>` : ""}
${body ? `<details><summary>Request body</summary><pre>${escape(JSON.stringify(body.example ?? body.schema, null, 2))}</pre></details>` : ""}
<p><b>Responses</b></p><ul>${responses}</ul>
</section>`);
    }
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(document.info.title)} API reference</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:960px;margin:2rem auto;padding:0 1rem;color:#1b1f24}
section{border-top:1px solid #d0d7de;padding:.5rem 0}
code,pre{font-family:ui-monospace,monospace;font-size:13px}pre{background:#f6f8fa;padding:.75rem;overflow:auto}
.m{display:inline-block;min-width:4.5rem;padding:0 .4rem;border-radius:4px;color:#fff;font-size:12px;text-align:center}
.get{background:#0969da}.post{background:#1a7f37}.patch{background:#9a6700}.delete{background:#cf222e}
</style></head><body>
<h1>${escape(document.info.title)} API reference</h1>
<p>${escape(document.info.description)}</p>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).</p>
${sections.join("\n")}
</body></html>`;
}
