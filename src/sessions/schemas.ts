import { z } from "zod";
import { loginIdentifierField, presentedPasswordField } from "../users/schemas";

/** Form posts send booleans as text ("true", "on", "1"). */
const formBoolean = z.union([
  z.boolean(),
  z.enum(["true", "false", "on", "off", "1", "0"]).transform((value) => ["true", "on", "1"].includes(value)),
]);

/** `username` may hold an email too: OAuth2 password-form clients only have that field. */
export const loginBody = z
  .object({
    username: loginIdentifierField.optional(),
    email: loginIdentifierField.optional(),
    password: presentedPasswordField,
    remember_me: formBoolean.optional().default(false),
  })
  .refine((body) => body.username !== undefined || body.email !== undefined, {
    message: "Send username or email",
    path: ["username"],
  });

export const logoutAllQuery = z.object({
  keep_current: z.enum(["true", "false"]).optional().default("false"),
});
