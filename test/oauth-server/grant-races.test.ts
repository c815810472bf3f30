// A grant's writes racing each other and the user's other writes, with real concurrency:
// whatever order the user's authority sees them in, a revoked grant leaves no live token,
// concurrent refreshes converge on one pair, and a code redeemed twice at once issues
// tokens once.
import { describe, expect, it } from "vitest";
import { makeAdmin } from "../helpers/admin";
import type { TestClient } from "../helpers/client";
import type { TestUser } from "../helpers/users";
import { strongPassword } from "../helpers/users";
import {
  OAUTH_SETTINGS,
  type RegisteredClient,
  type TokenJson,
  authorizeInBrowser,
  discover,
  redeemCode,
  refreshWith,
  registerDcrClient,
  userInfoStatus,
} from "../helpers/oauth-server";
import type { Settings } from "../helpers/client";

interface Connected {
  registered: RegisteredClient;
  browser: TestClient;
  user: TestUser;
  tokens: TokenJson;
}

async function connect(settings: Settings = OAUTH_SETTINGS): Promise<Connected> {
  const registered = await registerDcrClient(await discover(settings), {}, settings);
  const authorized = await authorizeInBrowser(registered, { settings });
  const tokens = (await (await redeemCode(registered, authorized)).json()) as TokenJson;
  return { registered, browser: authorized.browser, user: authorized.user, tokens };
}

/** Fires 4 refreshes of one token together with `write`; afterwards no token the grant ever had may work. */
async function raceRefreshes(grant: Connected, write: () => Promise<Response>, expected: number): Promise<void> {
  const [written, ...refreshes] = await Promise.all([
    write(),
    ...Array.from({ length: 4 }, () => refreshWith(grant.registered, grant.tokens.refresh_token as string)),
  ]);
  expect(written.status).toBe(expected);
  const refreshTokens = [grant.tokens.refresh_token as string];
  const accessTokens = [grant.tokens.access_token];
  for (const answer of refreshes) {
    expect([200, 400]).toContain(answer.status);
    if (answer.status !== 200) continue;
    const body = (await answer.json()) as TokenJson;
    refreshTokens.push(body.refresh_token as string);
    accessTokens.push(body.access_token);
  }
  for (const token of new Set(accessTokens)) expect(await userInfoStatus(token)).toBe(401);
  for (const token of new Set(refreshTokens)) expect((await refreshWith(grant.registered, token)).status).not.toBe(200);
}

describe("grant races", () => {
  it("converges concurrent refreshes of one grant from two places on one pair inside the window", async () => {
    const grant = await connect();
    const answers = await Promise.all(Array.from({ length: 6 }, () => refreshWith(grant.registered, grant.tokens.refresh_token as string)));
    const bodies = (await Promise.all(answers.map((answer) => answer.json()))) as TokenJson[];
    expect(answers.every((answer) => answer.status === 200)).toBe(true);
    expect(new Set(bodies.map((body) => body.refresh_token)).size).toBe(1);
    expect(new Set(bodies.map((body) => body.access_token.split(".").slice(0, 2).join("."))).size).toBe(1);
  });

  it("issues tokens once for a code redeemed twice at once, and leaves none alive", async () => {
    for (let round = 0; round < 3; round++) {
      const registered = await registerDcrClient(await discover());
      const authorized = await authorizeInBrowser(registered);
      const answers = await Promise.all([redeemCode(registered, authorized), redeemCode(registered, authorized)]);
      const ok = answers.filter((answer) => answer.status === 200);
      expect(ok).toHaveLength(1);
      // The second use ended what the first issued (RFC 6749 §4.1.2), whichever came first.
      const tokens = (await ok[0]?.json()) as TokenJson;
      expect(await userInfoStatus(tokens.access_token)).toBe(401);
    }
  });

  it("leaves no live token when refreshes race the user's revocation of the app (3 rounds)", async () => {
    for (let round = 0; round < 3; round++) {
      const grant = await connect();
      const { items } = (await (await grant.browser.get("/api/v1/users/me/connected-apps")).json()) as {
        items: Array<{ grant_id: string }>;
      };
      await raceRefreshes(grant, () => grant.browser.delete(`/api/v1/users/me/connected-apps/${items[0]?.grant_id}`), 204);
    }
  });

  it("leaves no live token when refreshes race a logout-all, a password change or the account's deletion", async () => {
    const logoutAll = await connect();
    await raceRefreshes(logoutAll, () => logoutAll.browser.post("/api/v1/auth/logout-all"), 200);
    const changed = await connect();
    await raceRefreshes(
      changed,
      () =>
        changed.browser.post("/api/v1/users/me/password", {
          json: { current_password: changed.user.password, new_password: strongPassword() },
        }),
      200,
    );
    const deleted = await connect();
    await raceRefreshes(deleted, () => deleted.browser.delete("/api/v1/users/me", { json: { password: deleted.user.password } }), 204);
  });

  it("leaves no live token when refreshes race an admin disabling the user", async () => {
    const admin = await makeAdmin(OAUTH_SETTINGS);
    const grant = await connect(admin.client.settings);
    await raceRefreshes(grant, () => admin.client.patch(`/api/v1/admin/users/${grant.user.id}`, { json: { disabled: true } }), 200);
  });

  it("never lets a code's redemption racing a logout-all yield a live token", async () => {
    for (let round = 0; round < 3; round++) {
      const registered = await registerDcrClient(await discover());
      const authorized = await authorizeInBrowser(registered);
      const [redeemed, loggedOut] = await Promise.all([
        redeemCode(registered, authorized),
        authorized.browser.post("/api/v1/auth/logout-all"),
      ]);
      expect(loggedOut.status).toBe(200);
      if (redeemed.status === 200) {
        const tokens = (await redeemed.json()) as TokenJson;
        expect(await userInfoStatus(tokens.access_token)).toBe(401);
      } else {
        expect(await redeemed.json()).toMatchObject({ error: "invalid_grant" });
      }
    }
  });
});
