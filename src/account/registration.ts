// Creating an account, and the per-IP hourly limit that registration shares with every
// request that sends mail (each costs a password hash or a message).
import { refuseBreached } from "../passwords/pwned";
import { pwnedDeps } from "./account-service";
import { ApiError, tooManyAttempts } from "../http/errors";
import { hashPassword } from "../passwords/hash";
import type { Services } from "../services/services";
import { takeHourlySlot } from "../throttle/login-guard";
import { insertUser } from "../users/user-store";
import { type PublicUser, toPublicUser } from "../users/user-view";

/** Takes one of this client IP's hourly slots (REGISTRATION_MAX_PER_HOUR), or refuses with 429. */
export async function limitPerIp(services: Pick<Services, "throttle" | "config" | "ip">): Promise<void> {
  const slot = await takeHourlySlot(services.throttle, services.ip, services.config.registrationMaxPerHour);
  if (!slot.allowed) throw tooManyAttempts("ip_hourly", slot.retryAfterSeconds);
}

export async function register(
  services: Services,
  input: { email: string; username?: string | null | undefined; name?: string | null | undefined; password: string },
): Promise<PublicUser> {
  // Each registration costs a password hash (~70 ms of CPU): limited per client IP, exactly.
  await limitPerIp(services);
  await refuseBreached(pwnedDeps(services), input.password);
  const passwordHash = await hashPassword(input.password, { pepper: services.config.passwordPepper });
  const result = await insertUser(services.db, {
    email: input.email,
    username: input.username ?? null,
    name: input.name ?? null,
    passwordHash,
    emailVerified: false,
  });
  if (result === "email_taken") throw new ApiError("email_taken", "An account with this email already exists");
  if (result === "username_taken") throw new ApiError("username_taken", "This username is taken");
  return toPublicUser(result);
}
