import { describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
import { TestClient } from "./helpers/client";
import { login, registerUser, strongPassword, uniqueEmail } from "./helpers/users";

const USER_KEYS = ["created_at", "email", "email_verified", "id", "is_superuser", "name", "oauth_providers", "username"];

describe("POST /api/v1/users (registration)", () => {
  it("creates a user and returns the contract's user object, never a hash", async () => {
    const email = uniqueEmail();
    const response = await new TestClient().post("/api/v1/users", {
      json: { email, password: strongPassword(), username: "Alice_01", name: "Alice" },
    });
    expect(response.status).toBe(201);
    const user = (await response.json()) as Record<string, unknown>;
    expect(Object.keys(user).sort()).toEqual(USER_KEYS);
    expect(user).toMatchObject({
      email,
      username: "Alice_01",
      name: "Alice",
      email_verified: false,
      is_superuser: false,
      oauth_providers: [],
    });
    expect(new Date(user.created_at as string).toISOString()).toBe(user.created_at);
    expect(JSON.stringify(user)).not.toContain("pbkdf2");
  });

  it("stores only a PBKDF2 hash of the password", async () => {
    const password = strongPassword();
    const user = await registerUser(new TestClient(), { password });
    const row = await env.DB.prepare("SELECT password_hash FROM users WHERE id = ?").bind(user.id).first<{ password_hash: string }>();
    expect(row?.password_hash).toMatch(/^\$pbkdf2-sha256\$r=6,i=100000,p=0\$/);
    expect(row?.password_hash).not.toContain(password);
  });

  it("treats email as case-insensitive and unique: 409 email_taken", async () => {
    const email = uniqueEmail();
    await registerUser(new TestClient(), { email });
    const response = await new TestClient().post("/api/v1/users", {
      json: { email: email.toUpperCase(), password: strongPassword() },
    });
    expect(response.status).toBe(409);
    expect(await response.json()).toMatchObject({ code: "email_taken" });
  });

  it("gives exactly one 201 when the same email registers twice at once", async () => {
    const email = uniqueEmail();
    const responses = await Promise.all(
      [0, 1, 2].map(() => new TestClient().post("/api/v1/users", { json: { email, password: strongPassword() } })),
    );
    expect(responses.map((response) => response.status).sort()).toEqual([201, 409, 409]);
  });

  it("refuses a username that is taken in any letter case with 409 username_taken", async () => {
    const username = `Bob${crypto.randomUUID().slice(0, 8)}`;
    await registerUser(new TestClient(), { username });
    const response = await new TestClient().post("/api/v1/users", {
      json: { email: uniqueEmail(), password: strongPassword(), username: username.toLowerCase() },
    });
    expect(response.status).toBe(409);
    expect(await response.json()).toMatchObject({ code: "username_taken" });
  });

  it("allows registration without a username", async () => {
    const response = await new TestClient().post("/api/v1/users", {
      json: { email: uniqueEmail(), password: strongPassword() },
    });
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({ username: null, name: null });
  });

  it.each([
    ["too short", "short7!"],
    ["too long", "x".repeat(129)],
    ["a common password", "password123"],
    ["a common password in other letter case", "Baseball1"],
  ])("rejects a password that is %s with 422", async (_label, password) => {
    const response = await new TestClient().post("/api/v1/users", { json: { email: uniqueEmail(), password } });
    expect(response.status).toBe(422);
    const body = (await response.json()) as { errors: Array<{ path: string }> };
    expect(body.errors.map((error) => error.path)).toContain("password");
  });

  it("accepts any characters with no composition rules, counting characters not bytes", async () => {
    const eightEmoji = "🔐🔑🗝️🔒🧩🎲🌵🪐";
    const response = await new TestClient().post("/api/v1/users", {
      json: { email: uniqueEmail(), password: "all lowercase words here" },
    });
    expect(response.status).toBe(201);
    const emoji = await new TestClient().post("/api/v1/users", { json: { email: uniqueEmail(), password: eightEmoji } });
    expect(emoji.status).toBe(201);
    const maxLength = await new TestClient().post("/api/v1/users", {
      json: { email: uniqueEmail(), password: "é".repeat(128) },
    });
    expect(maxLength.status).toBe(201);
  });

  it("rejects an invalid email and username with 422 naming the fields", async () => {
    const response = await new TestClient().post("/api/v1/users", {
      json: { email: "not-an-email", password: strongPassword(), username: "no spaces allowed" },
    });
    expect(response.status).toBe(422);
    const body = (await response.json()) as { errors: Array<{ path: string }> };
    expect(body.errors.map((error) => error.path).sort()).toEqual(["email", "username"]);
  });
});

describe("GET and PATCH /api/v1/users/me", () => {
  it("requires authentication: 401 not_authenticated", async () => {
    const response = await new TestClient().get("/api/v1/users/me");
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ detail: "Not authenticated", code: "not_authenticated" });
  });

  it("returns the signed-in user", async () => {
    const client = new TestClient();
    const user = await registerUser(client);
    await login(client, user);
    const response = await client.get("/api/v1/users/me");
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ id: user.id, email: user.email });
  });

  it("updates name and username and the change is visible on the next read", async () => {
    const client = new TestClient();
    const user = await registerUser(client);
    await login(client, user);
    const username = `new${crypto.randomUUID().slice(0, 8)}`;
    const patched = await client.patch("/api/v1/users/me", { json: { name: "New Name", username } });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({ name: "New Name", username });
    const read = await client.get("/api/v1/users/me");
    expect(await read.json()).toMatchObject({ name: "New Name", username });
  });

  it("refuses fields that cannot be changed here, such as email, with 422", async () => {
    const client = new TestClient();
    await login(client, await registerUser(client));
    const response = await client.patch("/api/v1/users/me", { json: { email: uniqueEmail() } });
    expect(response.status).toBe(422);
  });

  it("refuses a username another user has with 409", async () => {
    const client = new TestClient();
    const other = await registerUser(new TestClient());
    await login(client, await registerUser(client));
    const response = await client.patch("/api/v1/users/me", { json: { username: other.username.toUpperCase() } });
    expect(response.status).toBe(409);
    expect(await response.json()).toMatchObject({ code: "username_taken" });
  });
});
