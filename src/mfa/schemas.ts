import { z } from "zod";
import { presentedPasswordField } from "../users/schemas";

const name = z.string().trim().min(1).max(64).optional();
const code = z.string().trim().min(1).max(64);
/** Any string: an unknown or malformed mfa_token is 401 invalid_token, not a 422 (contract v1.2). */
const mfaToken = z.string();

/** A WebAuthn response (RegistrationResponseJSON or AuthenticationResponseJSON): the shape is checked here, the content by the verifier. */
const credentialResponse = z.looseObject({
  id: z.string().min(1).max(1024),
  rawId: z.string().min(1).max(1024),
  type: z.literal("public-key"),
  response: z.looseObject({ clientDataJSON: z.string().min(1).max(8192) }),
  clientExtensionResults: z.record(z.string(), z.unknown()).optional().default({}),
});

export const enrollTotpBody = z.object({ name });
export const confirmTotpBody = z.object({ code });
export const registrationVerifyBody = z.object({
  response: credentialResponse.extend({
    response: z.looseObject({ clientDataJSON: z.string().min(1).max(8192), attestationObject: z.string().min(1).max(65536) }),
  }),
  name,
});

const assertionResponse = credentialResponse.extend({
  response: z.looseObject({
    clientDataJSON: z.string().min(1).max(8192),
    authenticatorData: z.string().min(1).max(8192),
    signature: z.string().min(1).max(2048),
    userHandle: z.string().max(1024).optional(),
  }),
});

/** A second factor: a TOTP or recovery code, or a passkey assertion. */
const secondFactor = z.discriminatedUnion("method", [
  z.object({ method: z.enum(["totp", "recovery_code"]), code }),
  z.object({ method: z.literal("webauthn"), response: assertionResponse }),
]);

/** `mfa_token` may instead come in the challenge cookie an OAuth redirect set. */
export const verifyBody = z.intersection(z.object({ mfa_token: mfaToken.optional() }), secondFactor);
export const challengeBody = z.object({ mfa_token: mfaToken.optional(), method: z.literal("webauthn") });
export const passkeyLoginBody = z.object({
  response: assertionResponse,
  transport: z.enum(["cookie", "token"]).optional().default("cookie"),
});
export const reauthenticateBody = z.union([z.object({ password: presentedPasswordField }), secondFactor]);
