import { expect } from "vitest";
import { type Settings, TestClient } from "./client";

export interface TestUser {
  id: string;
  email: string;
  username: string;
  password: string;
}

export function uniqueEmail(): string {
  return `user-${crypto.randomUUID()}@example.com`;
}

export function strongPassword(): string {
  return `Correct-Horse-${crypto.randomUUID()}`;
}

/** Registers a fresh user through the API. */
export async function registerUser(client: TestClient, overrides: Partial<TestUser> = {}): Promise<TestUser> {
  const email = overrides.email ?? uniqueEmail();
  const password = overrides.password ?? strongPassword();
  const username = overrides.username ?? `u${crypto.randomUUID().replace(/-/g, "").slice(0, 20)}`;
  const response = await client.post("/api/v1/users", { json: { email, password, username } });
  expect(response.status).toBe(201);
  const user = (await response.json()) as { id: string };
  return { id: user.id, email, username, password };
}

/** Logs the client in with a session cookie. */
export async function login(client: TestClient, user: TestUser, extra: Record<string, unknown> = {}): Promise<Response> {
  const response = await client.post("/api/v1/auth/login", {
    json: { email: user.email, password: user.password, ...extra },
  });
  expect(response.status).toBe(200);
  return response;
}

export interface TokenPair {
  access_token: string;
  token_type: string;
  expires_in: number;
  refresh_token: string;
  refresh_expires_in: number;
}

/** Signs the user in for tokens (password grant). */
export async function tokensFor(user: TestUser, settings: Settings = {}): Promise<TokenPair> {
  const response = await new TestClient({ settings }).post("/api/v1/auth/token", {
    json: { email: user.email, password: user.password },
  });
  expect(response.status).toBe(200);
  return (await response.json()) as TokenPair;
}
