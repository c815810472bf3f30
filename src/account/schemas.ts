import { z } from "zod";
import { emailField, newPasswordField, presentedPasswordField } from "../users/schemas";

/** Any string: an unknown or malformed link token is the route's 401 invalid_token, not a 422 (contract v1.2). */
const mailedToken = z.string();

export const changePasswordBody = z
  .object({ current_password: presentedPasswordField, new_password: newPasswordField })
  .refine((body) => body.current_password !== body.new_password, {
    message: "The new password must differ from the current one",
    path: ["new_password"],
  });

export const deleteAccountBody = z.object({ password: presentedPasswordField.optional() });

export const confirmVerificationBody = z.object({ token: mailedToken });

export const resetRequestBody = z.object({ email: emailField });

export const resetConfirmBody = z.object({ token: mailedToken, new_password: newPasswordField });

export const eventsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  before: z.iso.datetime({ message: "Use an ISO 8601 timestamp" }).optional(),
});
