// A loopback stand-in for GitHub's OAuth and REST endpoints, speaking GitHub's real
// response formats (authorize redirect, access_token JSON, /user, /user/emails).
// Which GitHub user signs in is set per flow: POST /__users {state, user, emails}.
import { createHash, randomBytes } from "node:crypto";
import { type Server, createServer } from "node:http";
import { readBody } from "./read-body";

interface GitHubUser {
  id: number;
  login: string;
  name: string | null;
  email: string | null;
}

interface GitHubEmail {
  email: string;
  primary: boolean;
  verified: boolean;
  visibility: "public" | "private" | null;
}

interface Grant {
  user: GitHubUser;
  emails: GitHubEmail[];
  codeChallenge: string | null;
  redirectUri: string;
}

export const GITHUB_CLIENT_ID = "github-test-client";
export const GITHUB_CLIENT_SECRET = "github-test-secret";

export async function startFakeGitHub(): Promise<{ url: string; server: Server }> {
  const byState = new Map<string, { user: GitHubUser; emails: GitHubEmail[] }>();
  const byCode = new Map<string, Grant>();
  const byToken = new Map<string, Grant>();

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { "Content-Type": "application/json; charset=utf-8" });
      res.end(JSON.stringify(body));
    };
    if (req.method === "POST" && url.pathname === "/__users") {
      const body = JSON.parse(await readBody(req)) as { state: string; user: GitHubUser; emails: GitHubEmail[] };
      byState.set(body.state, { user: body.user, emails: body.emails });
      return json(204, {});
    }
    if (req.method === "GET" && url.pathname === "/login/oauth/authorize") {
      const state = url.searchParams.get("state") ?? "";
      const account = byState.get(state);
      const redirectUri = url.searchParams.get("redirect_uri") ?? "";
      if (url.searchParams.get("client_id") !== GITHUB_CLIENT_ID || account === undefined) {
        res.writeHead(404);
        return res.end("unknown client or state");
      }
      const code = randomBytes(10).toString("hex");
      byCode.set(code, { ...account, codeChallenge: url.searchParams.get("code_challenge"), redirectUri });
      res.writeHead(302, { Location: `${redirectUri}?code=${code}&state=${encodeURIComponent(state)}` });
      return res.end();
    }
    if (req.method === "POST" && url.pathname === "/login/oauth/access_token") {
      const form = new URLSearchParams(await readBody(req));
      const basic = req.headers.authorization?.startsWith("Basic ")
        ? Buffer.from(req.headers.authorization.slice(6), "base64").toString().split(":")
        : [form.get("client_id"), form.get("client_secret")];
      const grant = byCode.get(form.get("code") ?? "");
      if (basic[0] !== GITHUB_CLIENT_ID || basic[1] !== GITHUB_CLIENT_SECRET) {
        return json(200, {
          error: "incorrect_client_credentials",
          error_description: "The client_id and/or client_secret passed are incorrect.",
        });
      }
      if (grant === undefined) {
        return json(200, { error: "bad_verification_code", error_description: "The code passed is incorrect or expired." });
      }
      byCode.delete(form.get("code") ?? "");
      const verifier = form.get("code_verifier");
      if (grant.codeChallenge !== null) {
        const expected = verifier === null ? "" : createHash("sha256").update(verifier).digest("base64url");
        if (expected !== grant.codeChallenge) {
          return json(200, { error: "bad_verification_code", error_description: "The code_verifier does not match." });
        }
      }
      const token = `gho_${randomBytes(18).toString("hex")}`;
      byToken.set(token, grant);
      return json(200, { access_token: token, token_type: "bearer", scope: "read:user,user:email" });
    }
    const grant = byToken.get(req.headers.authorization?.replace(/^(Bearer|token) /, "") ?? "");
    if (req.method === "GET" && (url.pathname === "/user" || url.pathname === "/user/emails")) {
      if (grant === undefined) return json(401, { message: "Bad credentials", documentation_url: "https://docs.github.com/rest" });
      if (req.headers["user-agent"] === undefined) return json(403, { message: "Request forbidden by administrative rules." });
      if (url.pathname === "/user") {
        return json(200, { ...grant.user, avatar_url: "https://avatars.example/u", type: "User", site_admin: false });
      }
      return json(200, grant.emails);
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return { url: `http://127.0.0.1:${address.port}`, server };
}
