// Input rules for user fields, shared by every route that takes them.
import { z } from "zod";
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, isCommonPassword, passwordLength } from "../passwords/policy";
import { checkEmail, emailKey, hasInvisibleCharacters } from "../lib/email-address";

/** An address being set or named (registration, reset request, admin): its canonical form, or a 422 (lib/email-address.ts). */
export const emailField = z
  .string()
  .describe("Stored trimmed, in Unicode NFC, the domain lower-cased; control and invisible characters are refused")
  .transform((value, ctx) => {
    const checked = checkEmail(value);
    if (checked.ok) return checked.email;
    ctx.addIssue({ code: "custom", message: checked.message });
    return z.NEVER;
  });

/**
 * A login identifier (an email or a username), as typed: looked up by its normalized key.
 * Characters no address or username can hold are a 422, as they are at registration.
 */
export const loginIdentifierField = z
  .string()
  .trim()
  .min(1)
  .max(254)
  .refine((identifier) => !hasInvisibleCharacters(identifier), { message: "Must not contain control or invisible characters" });

export const usernameField = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9_.-]{2,32}$/, "Username must be 2 to 32 letters, digits, '.', '_' or '-'");

export const nameField = z.string().trim().max(100, "Name must be at most 100 characters");

/** A password being set (registration, change, reset). */
export const newPasswordField = z
  .string()
  .refine((password) => passwordLength(password) >= MIN_PASSWORD_LENGTH, {
    message: `Password must be at least ${MIN_PASSWORD_LENGTH} characters`,
  })
  .refine((password) => passwordLength(password) <= MAX_PASSWORD_LENGTH, {
    message: `Password must be at most ${MAX_PASSWORD_LENGTH} characters`,
  })
  .refine((password) => !isCommonPassword(password), {
    message: "This password is too common; choose another",
  });

/** A password being checked: only bounded, so a megabyte of text never reaches the hash. */
export const presentedPasswordField = z.string().min(1, "Password is required").max(1024, "Password is too long");

export const registerBody = z.object({
  email: emailField,
  password: newPasswordField,
  username: usernameField.nullish(),
  name: nameField.nullish(),
});

export const updateProfileBody = z
  .object({
    name: nameField.nullable().optional(),
    username: usernameField.optional(),
  })
  .strict();

/** The unique key of an address (users.email_normalized); see lib/email-address.ts. */
export function normalizeEmail(email: string): string {
  return emailKey(email);
}

export function normalizeUsername(username: string): string {
  return username.trim().toLowerCase();
}
