import { z } from "zod";
import { emailField, newPasswordField, presentedPasswordField } from "../users/schemas";

const mailedToken = z.string().min(1).max(128);

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
