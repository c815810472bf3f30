// The user object of the contract: the only shape in which a user leaves the service.
// Never a password hash.
import type { UserRow } from "../db/schema";

export interface PublicUser {
  id: string;
  email: string;
  username: string | null;
  name: string | null;
  email_verified: boolean;
  is_superuser: boolean;
  oauth_providers: string[];
  created_at: string;
}

export function toPublicUser(row: UserRow, oauthProviders: string[] = []): PublicUser {
  return {
    id: row.id,
    email: row.email,
    username: row.username,
    name: row.name,
    email_verified: row.emailVerified,
    is_superuser: row.isSuperuser,
    oauth_providers: oauthProviders,
    created_at: row.createdAt,
  };
}
