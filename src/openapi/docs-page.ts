// GET /docs: the page that mounts Scalar's API reference (public/docs/scalar.js, served
// from this origin) on /openapi.json. Without JavaScript, and for anything that reads
// the HTML itself, it lists every route with its summary.

type Json = Record<string, any>;

const escape = (text: string): string => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

export function renderDocsPage(document: Json): string {
  const rows: string[] = [];
  for (const [path, methods] of Object.entries(document.paths as Json)) {
    for (const [method, operation] of Object.entries(methods as Json)) {
      rows.push(`<li><code>${method.toUpperCase()} ${escape(path)}</code>: ${escape((operation as Json).summary ?? "")}</li>`);
    }
  }
  const title = `${escape(document.info.title)} API reference`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="icon" href="data:,">
</head>
<body>
<noscript>
<h1>${title}</h1>
<p>The interactive reference needs JavaScript. The OpenAPI 3.1 document: <a href="/openapi.json">/openapi.json</a>.</p>
<ul>
${rows.join("\n")}
</ul>
</noscript>
<div id="reference"></div>
<script src="/docs/scalar.js"></script>
<script src="/docs/reference.js"></script>
</body>
</html>`;
}
