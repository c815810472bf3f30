// The OAuth tables' rows as SQLite hands them out (schema.ts).
export type CodeRow = {
  id: string;
  secret_hash: string;
  session_id: string;
  request: string;
  aal: number;
  amr: string;
  auth_time: number;
  epoch: number;
  created_at: number;
  expires_at: number;
  used_at: number | null;
  grant_id: string | null;
};

export type GrantListRow = {
  id: string;
  client_id: string;
  client_name: string;
  scopes: string;
  resources: string;
  granted_at: number;
  /** The grant's session row: created_at is the sign-in it came from (its auth_time). */
  created_at: number;
  last_activity: number;
  idle_ms: number;
  absolute_expires_at: number;
};
