// The signed-in user's own profile: the change in D1, then the copy the authority caches.
import { ApiError } from "../http/errors";
import type { Services } from "../services/services";
import { authorityFor } from "../sessions/authority-client";
import { type ProfileChanges, updateUserProfile } from "../users/user-store";
import { type PublicUser, toPublicUser } from "../users/user-view";

/** Changes name, username or email of a user, and refreshes what the authority caches. */
export async function updateProfile(services: Services, current: PublicUser, changes: ProfileChanges): Promise<PublicUser> {
  const result = await updateUserProfile(services.db, current.id, changes);
  if (result === "username_taken") throw new ApiError("username_taken", "This username is taken");
  if (result === null || result === "email_taken") throw new ApiError("not_found", "User not found");
  const user = toPublicUser(result, current.oauth_providers);
  // Cached sessions carry a copy of the user; refresh them so reads see the change.
  await authorityFor(services.authority, user.id).updateUser(user);
  return user;
}
