// The messages this service sends. Plain text: nothing to render, nothing to inject.

export function verifyEmailMessage(to: string, link: string): { to: string; subject: string; text: string } {
  return {
    to,
    subject: "Confirm your email address",
    text: `Confirm your email address by opening this link within 24 hours:\n\n${link}\n\nIf you did not ask for this, ignore this message.`,
  };
}

export function magicLinkMessage(to: string, link: string, minutes: number): { to: string; subject: string; text: string } {
  return {
    to,
    subject: "Your sign-in link",
    text: `To sign in, open this link within ${minutes} minutes:\n\n${link}\n\nIt works once. If you did not ask for it, ignore this message: nobody can sign in without it.`,
  };
}

export function emailCodeMessage(to: string, code: string, minutes: number): { to: string; subject: string; text: string } {
  return {
    to,
    subject: "Your sign-in code",
    text: `Your sign-in code is ${code}. It works once, within ${minutes} minutes.\n\nIf you did not ask for it, ignore this message: nobody can sign in without it.`,
  };
}

export function passwordResetMessage(to: string, link: string): { to: string; subject: string; text: string } {
  return {
    to,
    subject: "Reset your password",
    text: `Someone asked to reset the password of your account. To choose a new password, open this link within 30 minutes:\n\n${link}\n\nIf it was not you, ignore this message: your password stays as it is.`,
  };
}

export function passwordChangedMessage(to: string, how: "changed" | "reset"): { to: string; subject: string; text: string } {
  return {
    to,
    subject: "Your password was changed",
    text: `The password of your account was ${how}, and every other sign-in was ended.\n\nIf this was not you, reset your password now and review your account's security events.`,
  };
}

export function newDeviceMessage(
  to: string,
  device: { browser: string; os: string },
  location: { country: string | null; city: string | null },
  ip: string,
): { to: string; subject: string; text: string } {
  const where = [location.city, location.country].filter((part) => part !== null).join(", ") || "an unknown location";
  return {
    to,
    subject: "New sign-in to your account",
    text: `Your account was signed in from a new device: ${device.browser} on ${device.os}, from ${where} (IP ${ip}).\n\nIf this was you, there is nothing to do. If not, change your password and sign out everywhere.`,
  };
}

const FACTOR_CHANGES = {
  mfa_enabled: ["A second factor was added to your account", "A second factor was added to your account"],
  mfa_disabled: ["A second factor was removed from your account", "A second factor was removed from your account"],
  recovery_codes_regenerated: [
    "New recovery codes were made",
    "New recovery codes were made for your account; the old ones no longer work",
  ],
  recovery_code_used: ["A recovery code was used", "A recovery code was used to sign in to your account"],
} as const;

export function factorChangeMessage(
  to: string,
  change: keyof typeof FACTOR_CHANGES,
  factorName: string | null,
): { to: string; subject: string; text: string } {
  const [subject, what] = FACTOR_CHANGES[change];
  const named = factorName === null ? "" : ` (${factorName})`;
  return {
    to,
    subject,
    text: `${what}${named}.\n\nIf this was not you, sign in, end your other sessions, change your password and review your second factors.`,
  };
}

export function orgInvitationMessage(
  to: string,
  orgName: string,
  link: string,
  ttlMs: number,
): { to: string; subject: string; text: string } {
  const days = Math.round(ttlMs / 86_400_000);
  return {
    to,
    subject: `You are invited to join ${orgName}`,
    text: `You are invited to join the organization "${orgName}". To accept, sign in with this email address and open this link within ${days} days:\n\n${link}\n\nIf you do not know this organization, ignore this message.`,
  };
}
