// Refresh rotation (one statement in the user's authority) racing the user's other
// write paths: a password change, a logout-all and an account deletion. Whatever order
// the authority sees them in, no refresh token of the family works afterwards.
import { describe, expect, it } from "vitest";
import { TestClient } from "./helpers/client";
import { type TestUser, login, registerUser, strongPassword, tokensFor } from "./helpers/users";

async function refresh(token: string): Promise<Response> {
  return new TestClient().post("/api/v1/auth/refresh", { json: { refresh_token: token } });
}

/** Fires 4 refreshes of one token together with `write`, then checks that every token the family ever had is dead. */
async function raceRefreshes(user: TestUser, write: (owner: TestClient) => Promise<Response>, expected: number): Promise<void> {
  const owner = new TestClient();
  await login(owner, user);
  const pair = await tokensFor(user);
  const [written, ...refreshes] = await Promise.all([write(owner), ...Array.from({ length: 4 }, () => refresh(pair.refresh_token))]);
  expect(written.status).toBe(expected);
  const handedOut = [pair.refresh_token];
  for (const answer of refreshes) {
    expect([200, 401]).toContain(answer.status);
    if (answer.status === 200) handedOut.push(((await answer.json()) as { refresh_token: string }).refresh_token);
  }
  for (const token of new Set(handedOut)) expect((await refresh(token)).status).toBe(401);
}

describe("refresh racing the user's other writes", () => {
  it("leaves no working refresh token when refreshes race a password change (3 rounds)", async () => {
    for (let round = 0; round < 3; round++) {
      const user = await registerUser(new TestClient());
      await raceRefreshes(
        user,
        (owner) => owner.post("/api/v1/users/me/password", { json: { current_password: user.password, new_password: strongPassword() } }),
        200,
      );
    }
  });

  it("leaves no working refresh token when refreshes race a logout-all (3 rounds)", async () => {
    for (let round = 0; round < 3; round++) {
      const user = await registerUser(new TestClient());
      await raceRefreshes(user, (owner) => owner.post("/api/v1/auth/logout-all"), 200);
    }
  });

  it("leaves no working refresh token when refreshes race the account's deletion (3 rounds)", async () => {
    for (let round = 0; round < 3; round++) {
      const user = await registerUser(new TestClient());
      await raceRefreshes(user, (owner) => owner.delete("/api/v1/users/me", { json: { password: user.password } }), 204);
    }
  });
});
