// Client ID Metadata Documents on loopback (draft-ietf-oauth-client-id-metadata-document):
// GET /clients/<name>.json answers a document whose client_id is its own URL. Names pick
// a behaviour: "app" a public client, "secret" one that claims a secret (refused), "big"
// a body over 5 KiB, "redirect" a 302 elsewhere, "slow" an answer after 6 s.
import { createServer, type Server } from "node:http";

export async function startClientMetadata(): Promise<{ url: string; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  const url = `http://127.0.0.1:${address.port}`;
  server.on("request", (req, res) => {
    const path = new URL(req.url ?? "/", url).pathname;
    const clientId = `${url}${path}`;
    const json = (value: unknown): void => {
      res.writeHead(200, { "Content-Type": "application/json", "Cache-Control": "max-age=60" });
      res.end(JSON.stringify(value));
    };
    const document = {
      client_id: clientId,
      client_name: "Metadata Document App",
      redirect_uris: ["http://127.0.0.1:8123/callback"],
      grant_types: ["authorization_code", "refresh_token"],
      token_endpoint_auth_method: "none",
    };
    if (path.startsWith("/clients/app")) return json(document);
    if (path.startsWith("/clients/secret"))
      return json({ ...document, token_endpoint_auth_method: "client_secret_basic", client_secret: "x" });
    if (path.startsWith("/clients/big")) return json({ ...document, padding: "x".repeat(6000) });
    if (path.startsWith("/clients/redirect")) {
      res.writeHead(302, { Location: `${url}/clients/app.json` });
      return res.end();
    }
    if (path.startsWith("/clients/slow")) {
      setTimeout(() => json(document), 6_000).unref();
      return;
    }
    res.writeHead(404);
    res.end();
  });
  return { url, server };
}
