-- Organizations (docs/concepts/organizations.md). Each organization's own authority (the
-- OrgAuthority Durable Object, named by the organization's id) decides its membership,
-- roles, invitations and seat count; these tables are its records, for listing a user's
-- organizations and for the admin's search. The slug is unique here: like an email
-- address, a name two organizations cannot share.
CREATE TABLE organizations (
  id TEXT PRIMARY KEY NOT NULL,
  name TEXT NOT NULL,
  slug TEXT NOT NULL,
  created_at TEXT NOT NULL
);

CREATE UNIQUE INDEX organizations_slug_unique ON organizations (slug);

-- One row per membership, written by the organization's authority after each decision.
CREATE TABLE org_members (
  org_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  role TEXT NOT NULL,
  joined_at TEXT NOT NULL,
  PRIMARY KEY (org_id, user_id)
);

CREATE INDEX org_members_user ON org_members (user_id);
