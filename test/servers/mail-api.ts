// A transactional mail API on loopback (Resend's POST /emails shape), for the mail retry
// tests: it answers 503 while its mode is "down", and records what it accepted.
// POST /__mode {mode: "up" | "down"}; GET /__sent?to=<address> lists accepted messages.
import { createServer, type Server } from "node:http";
import { readBody } from "./read-body";

export async function startMailApi(): Promise<{ url: string; server: Server }> {
  let mode: "up" | "down" = "up";
  const sent: Array<{ to: string[]; subject: string; text: string }> = [];
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  const url = `http://127.0.0.1:${address.port}`;
  server.on("request", async (req, res) => {
    const path = new URL(req.url ?? "/", url);
    const body = await readBody(req);
    const json = (status: number, value: unknown): void => {
      res.writeHead(status, { "Content-Type": "application/json" });
      res.end(JSON.stringify(value));
    };
    if (path.pathname === "/__mode") {
      mode = (JSON.parse(body) as { mode: "up" | "down" }).mode;
      return json(200, { mode });
    }
    if (path.pathname === "/__sent")
      return json(
        200,
        sent.filter((message) => message.to.includes(path.searchParams.get("to") ?? "")),
      );
    if (path.pathname === "/emails" && req.method === "POST") {
      if (mode === "down") return json(503, { error: "unavailable" });
      sent.push(JSON.parse(body) as { to: string[]; subject: string; text: string });
      return json(200, { id: String(sent.length) });
    }
    return json(404, {});
  });
  return { url, server };
}
