// The organization fixture of `npm run bench`: a user whose address is proven (through the
// seeder, as `wrangler d1 execute` would mark it), signed in with a cookie session that
// acts in an organization they made.
import { randomUUID } from "node:crypto";

async function expectOk(response, status, what) {
  if (response.status !== status) throw new Error(`${what}: ${response.status} ${await response.text()}`);
  return response;
}

export async function orgFixture(base, seederUrl) {
  const email = `bench-org-${randomUUID()}@bench.test`;
  const password = `bench-password-${randomUUID()}`;
  const json = { "Content-Type": "application/json", "CF-Connecting-IP": "198.51.100.11" };
  await expectOk(
    await fetch(`${base}/api/v1/users`, { method: "POST", headers: json, body: JSON.stringify({ email, password }) }),
    201,
    "register",
  );
  await expectOk(await fetch(`${seederUrl}/verify?email=${encodeURIComponent(email)}`, { method: "POST" }), 200, "verify");
  const login = await expectOk(
    await fetch(`${base}/api/v1/auth/login`, { method: "POST", headers: json, body: JSON.stringify({ email, password }) }),
    200,
    "login",
  );
  const { csrf_token: csrf } = await login.json();
  const cookie = login.headers
    .getSetCookie()
    .map((line) => line.split(";")[0])
    .join("; ");
  const session = { ...json, Cookie: cookie, "X-CSRF-Token": csrf };
  const created = await fetch(`${base}/api/v1/orgs`, { method: "POST", headers: session, body: JSON.stringify({ name: "Bench" }) });
  const { id } = await (await expectOk(created, 201, "organization")).json();
  const active = await fetch(`${base}/api/v1/auth/active-org`, { method: "POST", headers: session, body: JSON.stringify({ org_id: id }) });
  await expectOk(active, 200, "active organization");
  return { cookie, orgId: id };
}
