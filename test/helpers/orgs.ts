import { expect } from "vitest";
import { type Settings, TestClient } from "./client";
import { linkToken, outbox } from "./mail";
import { type TestUser, login, registerUser } from "./users";

export interface Person {
  client: TestClient;
  user: TestUser;
}

/** A user with a proven address, signed in with a cookie session (after the proof: it ends earlier sessions). */
export async function verifiedPerson(settings: Settings = {}): Promise<Person> {
  const client = new TestClient({ settings });
  const user = await registerUser(client);
  await login(client, user);
  expect((await client.post("/api/v1/auth/verify-email/request")).status).toBe(202);
  const token = await linkToken(user.email, "/verify-email");
  expect((await new TestClient().post("/api/v1/auth/verify-email/confirm", { json: { token } })).status).toBe(200);
  const signedIn = new TestClient({ settings });
  await login(signedIn, user);
  return { client: signedIn, user };
}

export interface OrgJson {
  id: string;
  name: string;
  slug: string;
  created_at: string;
  role: string;
}

export async function createOrg(owner: Person, body: Record<string, unknown> = {}): Promise<OrgJson> {
  const response = await owner.client.post("/api/v1/orgs", { json: { name: "Acme", ...body } });
  expect(response.status).toBe(201);
  return (await response.json()) as OrgJson;
}

/** The newest invitation token mailed to `to`. */
export async function invitationToken(to: string): Promise<string> {
  for (const message of await outbox(to)) {
    const match = /\/accept-invitation\?token=([A-Za-z0-9_.-]+)/.exec(message.body);
    if (match?.[1] !== undefined) return match[1];
  }
  throw new Error(`no invitation mailed to ${to}`);
}

/** Invites `person` with `role` and has them accept: they are a member afterwards. */
export async function addMember(owner: Person, org: OrgJson, person: Person, role = "member"): Promise<void> {
  const sent = await owner.client.post(`/api/v1/orgs/${org.id}/invitations`, { json: { email: person.user.email, role } });
  expect(sent.status).toBe(201);
  const accepted = await person.client.post("/api/v1/invitations/accept", { json: { token: await invitationToken(person.user.email) } });
  expect(accepted.status).toBe(200);
}
