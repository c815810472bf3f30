// Input rules for user fields, shared by every route that takes them.
import { z } from "zod";
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, isCommonPassword, passwordLength } from "../passwords/policy";

export const emailField = z
  .string()
  .trim()
  .max(254, "Email must be at most 254 characters")
  .regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, "Enter a valid email address");

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

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export function normalizeUsername(username: string): string {
  return username.trim().toLowerCase();
}
