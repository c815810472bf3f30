// Who an id in the audit log or a user's events is: the account's email, asked once per
// id while the console is open (GET /api/v1/admin/users/:id), else the whole id (an
// account deleted since, or a lookup that failed). Each is a link to the user's page.
import { api } from "/shared/api.js";
import { el } from "/shared/dom.js";

const emails = new Map();

/** Looks up every id not known yet, in parallel. */
export async function learnPeople(ids) {
  const unknown = [...new Set(ids)].filter((id) => id !== null && id !== undefined && !emails.has(id));
  await Promise.all(
    unknown.map(async (id) => {
      const result = await api("GET", `/api/v1/admin/users/${encodeURIComponent(id)}`);
      emails.set(id, result.status === 200 ? result.data.email : null);
    }),
  );
}

/** A link to the user's page, named by their email (the whole id in its title). */
export function personLink(id) {
  const name = emails.get(id) ?? id;
  return el("a", { href: `#/users/${encodeURIComponent(id)}`, class: "clip", title: name === id ? id : `${name} (${id})` }, name);
}
