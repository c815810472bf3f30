import { z } from "zod";
import { emailField, nameField, newPasswordField, usernameField } from "../users/schemas";

const limit = z.coerce.number().int().min(1).max(100).optional().default(20);
const cursor = z.string().min(1).max(512).optional();

export const userListQuery = z.object({ query: z.string().trim().max(254).optional(), limit, cursor });

export const createUserBody = z
  .object({
    email: emailField,
    password: newPasswordField.optional(),
    username: usernameField.nullish(),
    name: nameField.nullish(),
    email_verified: z.boolean().optional().default(false),
    is_superuser: z.boolean().optional().default(false),
  })
  .strict();

export const updateUserBody = z
  .object({
    email: emailField.optional(),
    username: usernameField.nullable().optional(),
    name: nameField.nullable().optional(),
    email_verified: z.boolean().optional(),
    is_superuser: z.boolean().optional(),
    disabled: z.boolean().optional(),
  })
  .strict();

export const throttleClearBody = z
  .object({ identifier: z.string().trim().min(1).max(254).optional(), ip: z.string().trim().min(2).max(64).optional() })
  .strict()
  .refine((body) => body.identifier !== undefined || body.ip !== undefined, { message: "Send identifier or ip", path: ["identifier"] });

export const auditQuery = z.object({
  user_id: z.string().uuid().optional(),
  type: z
    .string()
    .regex(/^[a-z_]{1,64}$/)
    .optional(),
  limit,
  before: cursor,
});

export const statsQuery = z.object({ days: z.coerce.number().int().min(1).max(90).default(30) });
