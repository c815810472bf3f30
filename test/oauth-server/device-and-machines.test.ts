// The device flow (RFC 8628), client credentials and introspection (RFC 7662), through
// oauth4webapi as a CLI, a machine client and a resource server would use them.
import * as oauth from "oauth4webapi";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { makeAdmin } from "../helpers/admin";
import { TestClient } from "../helpers/client";
import { login, registerUser } from "../helpers/users";
import { OAUTH_SETTINGS, clientOptions, discover, postForm, registerDcrClient } from "../helpers/oauth-server";

const MCP_RESOURCE = "https://mcp.example.test/mcp";
const SETTINGS = { ...OAUTH_SETTINGS, OAUTH_SERVER_RESOURCES: MCP_RESOURCE };
const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";

async function deviceClient(as: oauth.AuthorizationServer) {
  return registerDcrClient(as, { grant_types: [DEVICE_GRANT, "refresh_token"], redirect_uris: [] }, SETTINGS);
}

describe("the device authorization grant", () => {
  it("lets a CLI sign in with a code typed on /device after the user consents", async () => {
    const as = await discover(SETTINGS);
    expect(as.device_authorization_endpoint).toBe("http://auth.example.test/oauth2/device_authorization");
    const cli = await deviceClient(as);
    const started = await oauth.processDeviceAuthorizationResponse(
      as,
      cli.client,
      await oauth.deviceAuthorizationRequest(
        as,
        cli.client,
        cli.auth,
        { scope: "openid offline_access", resource: MCP_RESOURCE },
        clientOptions(SETTINGS),
      ),
    );
    expect(started.user_code).toMatch(/^[BCDFGHJKMNPQRSTVWXZ2]{4}-[BCDFGHJKMNPQRSTVWXZ2]{4}$/);
    expect(started.verification_uri_complete).toContain(started.user_code);

    const browser = new TestClient({ settings: SETTINGS });
    const user = await registerUser(browser);
    await login(browser, user);
    const lookup = await browser.post("/api/v1/oauth2/device/lookup", { json: { user_code: started.user_code.toLowerCase() } });
    expect(lookup.status).toBe(200);
    const { request } = (await lookup.json()) as { request: string };
    const view = (await (await browser.get(`/api/v1/oauth2/requests/${request}`)).json()) as {
      client: { redirect_host: null; verified: boolean };
    };
    expect(view.client).toMatchObject({ redirect_host: null, verified: false });
    const decided = await browser.post(`/api/v1/oauth2/requests/${request}/decision`, { json: { allow: true } });
    expect(await decided.json()).toEqual({ redirect_to: null });

    const tokens = await oauth.processDeviceCodeResponse(
      as,
      cli.client,
      await oauth.deviceCodeGrantRequest(as, cli.client, cli.auth, started.device_code, clientOptions(SETTINGS)),
    );
    expect(tokens.refresh_token).toBeTypeOf("string");
    const claims = JSON.parse(atob(tokens.access_token.split(".")[1] as string)) as { aud: string; sub: string };
    expect(claims).toMatchObject({ aud: `${MCP_RESOURCE}`, sub: user.id });
    // The approval is handed out once.
    const again = await oauth.deviceCodeGrantRequest(as, cli.client, cli.auth, started.device_code, clientOptions(SETTINGS));
    expect(again.status).toBe(400);
  });

  it("answers authorization_pending, then slow_down to a device polling faster than the interval, and access_denied once the user denies", async () => {
    const as = await discover(SETTINGS);
    const cli = await deviceClient(as);
    const started = (await (
      await postForm("/oauth2/device_authorization", { client_id: cli.client.client_id }, { settings: SETTINGS })
    ).json()) as {
      device_code: string;
      user_code: string;
    };
    const poll = async () => {
      const response = await postForm(
        "/oauth2/token",
        { grant_type: DEVICE_GRANT, device_code: started.device_code, client_id: cli.client.client_id },
        { settings: SETTINGS },
      );
      return { status: response.status, ...((await response.json()) as { error: string }) };
    };
    expect(await poll()).toMatchObject({ status: 400, error: "authorization_pending" });
    expect(await poll()).toMatchObject({ status: 400, error: "slow_down" });
    const browser = new TestClient({ settings: SETTINGS });
    await login(browser, await registerUser(browser));
    const { request } = (await (await browser.post("/api/v1/oauth2/device/lookup", { json: { user_code: started.user_code } })).json()) as {
      request: string;
    };
    await browser.post(`/api/v1/oauth2/requests/${request}/decision`, { json: { allow: false } });
    // A decision is not held back by the interval: the device learns of the denial on its next poll.
    // Contract v1.2: access_denied is a 403.
    expect(await poll()).toMatchObject({ status: 403, error: "access_denied" });
    expect(await poll()).toMatchObject({ status: 403, error: "access_denied" });
  });

  it("refuses an unknown user code with invalid_grant", async () => {
    const browser = new TestClient({ settings: SETTINGS });
    await login(browser, await registerUser(browser));
    const response = await browser.post("/api/v1/oauth2/device/lookup", { json: { user_code: "BCDF-GHJK" } });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: "invalid_grant" });
  });
});

describe("machine clients and resource servers", () => {
  it("issues client_credentials tokens for an admin's allowed resource, and introspects them for a registered resource server", async () => {
    const admin = await makeAdmin(SETTINGS);
    const machine = await admin.client.post("/api/v1/admin/oauth-clients", {
      json: {
        name: "Billing job",
        type: "confidential",
        grant_types: ["client_credentials"],
        resources: [MCP_RESOURCE],
        scopes: ["profile"],
      },
    });
    expect(machine.status).toBe(201);
    const machineClient = (await machine.json()) as { client_id: string; client_secret: string };
    const server = await admin.client.post("/api/v1/admin/oauth-clients", {
      json: {
        name: "MCP server",
        type: "confidential",
        grant_types: ["client_credentials"],
        introspection: true,
        resources: [MCP_RESOURCE],
      },
    });
    const serverClient = (await server.json()) as { client_id: string; client_secret: string };
    const as = await discover(admin.client.settings);
    const options = clientOptions(admin.client.settings);
    const tokens = await oauth.processClientCredentialsResponse(
      as,
      { client_id: machineClient.client_id },
      await oauth.clientCredentialsGrantRequest(
        as,
        { client_id: machineClient.client_id },
        oauth.ClientSecretBasic(machineClient.client_secret),
        { resource: MCP_RESOURCE },
        options,
      ),
    );
    const introspected = await oauth.processIntrospectionResponse(
      as,
      { client_id: serverClient.client_id },
      await oauth.introspectionRequest(
        as,
        { client_id: serverClient.client_id },
        oauth.ClientSecretBasic(serverClient.client_secret),
        tokens.access_token,
        options,
      ),
    );
    expect(introspected).toMatchObject({
      active: true,
      sub: machineClient.client_id,
      client_id: machineClient.client_id,
      aud: MCP_RESOURCE,
    });
    // A resource the admin did not allow, and introspection by a client that is not a resource server, are refused.
    const other = await postForm(
      "/oauth2/token",
      { grant_type: "client_credentials", resource: "https://elsewhere.example/api" },
      {
        settings: admin.client.settings,
        headers: { Authorization: `Basic ${btoa(`${machineClient.client_id}:${machineClient.client_secret}`)}` },
      },
    );
    expect(await other.json()).toMatchObject({ error: "invalid_target" });
    const notServer = await postForm(
      "/oauth2/introspect",
      { token: tokens.access_token },
      {
        settings: admin.client.settings,
        headers: { Authorization: `Basic ${btoa(`${machineClient.client_id}:${machineClient.client_secret}`)}` },
      },
    );
    expect(notServer.status).toBe(401);
    // A public DCR client may not use client_credentials at all.
    const publicClient = await registerDcrClient(as, {}, admin.client.settings);
    const refused = await postForm(
      "/oauth2/token",
      { grant_type: "client_credentials", client_id: publicClient.client.client_id },
      { settings: admin.client.settings },
    );
    expect(await refused.json()).toMatchObject({ error: "unauthorized_client" });

    // A resource server's check over RPC, where no request names the service's origin:
    // with neither OAUTH_ISSUER nor OAUTH_REDIRECT_BASE_URL set, the provider's own
    // signature stands for the issuer; with OAUTH_ISSUER set, a token of another issuer is refused.
    const { createExecutionContext } = await import("cloudflare:test");
    const { AuthService } = await import("../../src/rpc/auth-service");
    const rpc = (settings: Record<string, string | undefined>) =>
      new AuthService(createExecutionContext(), { ...env, ...admin.client.settings, ...settings } as Env).verifyOAuthToken(
        tokens.access_token,
        { resource: MCP_RESOURCE },
      );
    expect(await rpc({ OAUTH_REDIRECT_BASE_URL: undefined })).toMatchObject({ active: true, sub: machineClient.client_id });
    expect(await rpc({ OAUTH_REDIRECT_BASE_URL: undefined, OAUTH_ISSUER: "https://elsewhere.example" })).toEqual({
      active: false,
      status: 401,
      error: "invalid_token",
    });
  });
});
