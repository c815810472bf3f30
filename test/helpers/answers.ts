// For tests that hold an answer given outside the app (the memory answer, the direct
// answers) to the app's own: one env object per simulated isolate, the headers to compare,
// and the request log lines printed.
import { env } from "cloudflare:workers";
import { vi } from "vitest";

/** One env object for every call, as in a deployed isolate: the config and the memory are per env. */
export function isolateEnv(settings: Record<string, string> = {}): Env {
  return { ...env, ...settings } as Env;
}

/** Every header but the request id (new per answer) and `except` (workerd gives them sorted by name). */
export function headersOf(response: Response, except: string[] = []): Array<[string, string]> {
  return [...response.headers].filter(([name]) => name !== "x-request-id" && !except.includes(name));
}

/** The request log lines `run` prints, without the fields that differ per request (id, duration). */
export async function logLines(run: () => unknown): Promise<Array<Record<string, unknown>>> {
  const lines: string[] = [];
  const spy = vi.spyOn(console, "log").mockImplementation((line: unknown) => void lines.push(String(line)));
  try {
    await run();
  } finally {
    spy.mockRestore();
  }
  return lines
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((entry) => entry.event === "request")
    .map(({ request_id: _id, duration_ms: _ms, ...rest }) => rest);
}
