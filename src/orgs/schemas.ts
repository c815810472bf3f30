// Request bodies and queries of the organization routes.
import { z } from "zod";
import { emailField } from "../users/schemas";
import { SLUG } from "./org-names";

const name = z.string().trim().min(1).max(100);
const slug = z.string().regex(SLUG, "1 to 48 lower-case letters, digits or hyphens, starting and ending with a letter or digit");
const ROLE = /^[a-z][a-z0-9_-]{0,31}$/;
const role = z.string().regex(ROLE, "A role name: lower-case letters, digits, '_' or '-', starting with a letter");
const NAME = "(\\*|[a-z0-9][a-z0-9_.-]{0,63})";
const permission = z.string().regex(new RegExp(`^${NAME}:${NAME}$`), "A permission is resource:action ('*' for any)");

export const createOrgBody = z.object({ name, slug: slug.optional() });

export const updateOrgBody = z
  .object({ name: name.optional(), slug: slug.optional() })
  .refine((body) => body.name !== undefined || body.slug !== undefined, { message: "Send name or slug", path: ["name"] });

/** A query parameter sent empty (`?limit=&cursor=`) is one not sent. */
export const unlessEmpty = <T extends z.ZodTypeAny>(schema: T) => z.preprocess((value) => (value === "" ? undefined : value), schema);

export const membersQuery = z.object({
  limit: unlessEmpty(z.coerce.number().int().min(1).max(100).default(50)),
  cursor: unlessEmpty(
    z
      .string()
      .regex(/^\d{1,15}$/, "A cursor from next_cursor")
      .optional(),
  ),
});

export const roleBody = z.object({ role });

export const inviteBody = z.object({ email: emailField, role: role.default("member") });

/** Any string: a token of the wrong shape or length is an invalid invitation (400), never a 422. */
export const acceptBody = z.object({ token: z.string().max(100_000) });

export const putRoleBody = z.object({
  permissions: z
    .array(permission)
    .max(100)
    .transform((list) => [...new Set(list)]),
});

export const roleName = role;

export const activeOrgBody = z.object({ org_id: z.string().max(100).nullable() });
