// Organizations under real concurrency: each organization's authority decides seats,
// acceptances, roles and its own deletion one at a time, so no race gets through.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { addMember, createOrg, invitationToken, verifiedPerson } from "./helpers/orgs";
import { uniqueEmail } from "./helpers/users";

describe("organization races", () => {
  it("10 racing invitations at 3 free seats create exactly 3; a replaced invitation takes no seat", async () => {
    const settings = { ORG_MAX_MEMBERS: "4" };
    const owner = await verifiedPerson(settings);
    const org = await createOrg(owner);
    const emails = Array.from({ length: 10 }, () => uniqueEmail());
    const answers = await Promise.all(
      emails.map((email) => owner.client.post(`/api/v1/orgs/${org.id}/invitations`, { json: { email, role: "member" } })),
    );
    const statuses = answers.map((answer) => answer.status).sort();
    expect(statuses).toEqual([201, 201, 201, 409, 409, 409, 409, 409, 409, 409]);
    const refused = answers.find((answer) => answer.status === 409) as Response;
    expect(await refused.json()).toMatchObject({ code: "seat_limit_reached" });
    const pending = (await (await owner.client.get(`/api/v1/orgs/${org.id}/invitations`)).json()) as { items: Array<{ email: string }> };
    expect(pending.items).toHaveLength(3);
    // Sending again to a pending address replaces it: still 3, and allowed at the limit.
    const again = await owner.client.post(`/api/v1/orgs/${org.id}/invitations`, {
      json: { email: pending.items[0]?.email, role: "admin" },
    });
    expect(again.status).toBe(201);
    expect(((await (await owner.client.get(`/api/v1/orgs/${org.id}/invitations`)).json()) as { items: unknown[] }).items).toHaveLength(3);
  });

  it("racing acceptances of one invitation admit the member once, and accepting never fails for seats", async () => {
    const settings = { ORG_MAX_MEMBERS: "2" };
    const owner = await verifiedPerson(settings);
    const invited = await verifiedPerson(settings);
    const org = await createOrg(owner);
    expect(
      (await owner.client.post(`/api/v1/orgs/${org.id}/invitations`, { json: { email: invited.user.email, role: "member" } })).status,
    ).toBe(201);
    // Every seat is taken now (the owner and the pending invitation).
    expect((await owner.client.post(`/api/v1/orgs/${org.id}/invitations`, { json: { email: uniqueEmail(), role: "member" } })).status).toBe(
      409,
    );
    const token = await invitationToken(invited.user.email);
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => invited.client.post("/api/v1/invitations/accept", { json: { token } })),
    );
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 400, 400, 400, 400, 400]);
    const members = (await (await owner.client.get(`/api/v1/orgs/${org.id}/members`)).json()) as { items: Array<{ user: { id: string } }> };
    expect(members.items.map((item) => item.user.id)).toEqual([owner.user.id, invited.user.id]);
  });

  it("two owners demoting each other at once leave exactly one owner", async () => {
    for (let round = 0; round < 3; round++) {
      const first = await verifiedPerson();
      const second = await verifiedPerson();
      const org = await createOrg(first);
      await addMember(first, org, second, "owner");
      const [a, b] = await Promise.all([
        first.client.patch(`/api/v1/orgs/${org.id}/members/${second.user.id}`, { json: { role: "member" } }),
        second.client.patch(`/api/v1/orgs/${org.id}/members/${first.user.id}`, { json: { role: "member" } }),
      ]);
      const statuses = [a.status, b.status].sort();
      // One demotion lands; the other is refused (the demoted owner is no owner any more: 403, or the last one: 422).
      expect(statuses[0]).toBe(200);
      expect([403, 422]).toContain(statuses[1]);
      const members = (await (await first.client.get(`/api/v1/orgs/${org.id}/members`)).json()) as { items: Array<{ role: string }> };
      expect(members.items.filter((item) => item.role === "owner")).toHaveLength(1);
    }
  });

  it("two owners removing each other at once leave exactly one owner", async () => {
    const first = await verifiedPerson();
    const second = await verifiedPerson();
    const org = await createOrg(first);
    await addMember(first, org, second, "owner");
    const answers = await Promise.all([
      first.client.delete(`/api/v1/orgs/${org.id}/members/${second.user.id}`),
      second.client.delete(`/api/v1/orgs/${org.id}/members/${first.user.id}`),
    ]);
    expect(answers.map((answer) => answer.status).sort()).toEqual([204, 404]);
    const survivor = answers[0]?.status === 204 ? first : second;
    const members = (await (await survivor.client.get(`/api/v1/orgs/${org.id}/members`)).json()) as { items: Array<{ role: string }> };
    expect(members.items).toEqual([expect.objectContaining({ role: "owner" })]);
  });

  it("a write by an admin sent after their demotion answered is refused, whatever was in flight", async () => {
    const owner = await verifiedPerson();
    const admin = await verifiedPerson();
    const org = await createOrg(owner);
    await addMember(owner, org, admin, "admin");
    let demotedAt = Number.POSITIVE_INFINITY;
    const writes: Array<Promise<{ sentAt: number; status: number }>> = [];
    const demotion = owner.client.patch(`/api/v1/orgs/${org.id}/members/${admin.user.id}`, { json: { role: "member" } }).then((answer) => {
      demotedAt = Date.now();
      return answer;
    });
    for (let i = 0; i < 12; i++) {
      const sentAt = Date.now();
      writes.push(
        admin.client
          .patch(`/api/v1/orgs/${org.id}`, { json: { name: `Renamed ${i}` } })
          .then((answer) => ({ sentAt, status: answer.status })),
      );
      await new Promise((resolve) => setTimeout(resolve, 15));
    }
    expect((await demotion).status).toBe(200);
    const results = await Promise.all(writes);
    for (const result of results) if (result.sentAt > demotedAt) expect(result.status).toBe(403);
    expect(results.some((result) => result.sentAt > demotedAt)).toBe(true);
    expect(results.every((result) => result.status === 200 || result.status === 403)).toBe(true);
  });

  it("deleting the organization racing an acceptance and a role change leaves nothing alive", async () => {
    for (let round = 0; round < 3; round++) {
      const owner = await verifiedPerson();
      const member = await verifiedPerson();
      const invited = await verifiedPerson();
      const org = await createOrg(owner);
      await addMember(owner, org, member);
      await owner.client.post(`/api/v1/orgs/${org.id}/invitations`, { json: { email: invited.user.email, role: "member" } });
      const token = await invitationToken(invited.user.email);
      const [deleted] = await Promise.all([
        owner.client.delete(`/api/v1/orgs/${org.id}`),
        invited.client.post("/api/v1/invitations/accept", { json: { token } }),
        owner.client.patch(`/api/v1/orgs/${org.id}/members/${member.user.id}`, { json: { role: "admin" } }),
      ]);
      expect(deleted?.status).toBe(204);
      for (const person of [owner, member, invited]) {
        expect((await person.client.get(`/api/v1/orgs/${org.id}`)).status).toBe(404);
        expect(((await (await person.client.get("/api/v1/orgs")).json()) as { items: unknown[] }).items).toEqual([]);
      }
      const rows = await env.DB.prepare(
        "SELECT (SELECT COUNT(*) FROM org_members WHERE org_id = ?1) + (SELECT COUNT(*) FROM organizations WHERE id = ?1) AS n",
      )
        .bind(org.id)
        .first<{ n: number }>();
      expect(rows?.n).toBe(0);
    }
  });
});
