// D1 reports a unique violation only in its message text (drizzle wraps it in `cause`).
// Read here to tell which constraint failed; never logged (it quotes the parameters).

/** The `table.column` of a failed UNIQUE constraint, or null for any other error. */
export function uniqueViolation(error: unknown): string | null {
  return /UNIQUE constraint failed: (\w+\.\w+)/.exec(errorText(error))?.[1] ?? null;
}

function errorText(error: unknown): string {
  if (!(error instanceof Error)) return "";
  return `${error.message} ${error.cause === undefined ? "" : errorText(error.cause)}`;
}
