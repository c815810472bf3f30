// The error rules of the contract: one status per code, one shape for every error, a
// failing dependency is a 503 with Retry-After (never a 500, never a pass).
import { describe, expect, it } from "vitest";
import { ApiError, statusOf, validationError } from "../src/http/errors";
import { TestClient } from "./helpers/client";

/** The contract's list (api-contract.md, Conventions): code → status. */
const CONTRACT: Record<string, number> = {
  invalid_credentials: 401,
  not_authenticated: 401,
  session_expired: 401,
  invalid_token: 401,
  token_reused: 401,
  invalid_api_key: 401,
  csrf_failed: 403,
  forbidden: 403,
  insufficient_scope: 403,
  not_found: 404,
  method_not_allowed: 405,
  email_taken: 409,
  username_taken: 409,
  account_exists: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  too_many_attempts: 429,
  rate_limited: 429,
  provider_not_configured: 404,
  oauth_failed: 400,
  invalid_grant: 400,
  mfa_required: 401,
  invalid_mfa_code: 401,
  reauthentication_required: 403,
  account_disabled: 403,
  service_unavailable: 503,
};

describe("error codes", () => {
  it("answer every contract code with the contract's status", () => {
    for (const [code, status] of Object.entries(CONTRACT)) {
      const error = new ApiError(code as keyof typeof CONTRACT & Parameters<typeof statusOf>[0], "x");
      expect({ code: error.code, status: error.status }).toEqual({ code, status });
    }
  });

  it("send invalid_request as 400 for a malformed request and 422 for a refused one, each from its own kind", () => {
    expect(new ApiError("invalid_request", "x")).toMatchObject({ code: "invalid_request", status: 400 });
    expect(new ApiError("invalid_input", "x")).toMatchObject({ code: "invalid_request", status: 422 });
    const validation = validationError([{ path: "email", message: "Required" }]);
    expect(validation.toJSON()).toEqual({
      detail: "The request body is not valid",
      code: "invalid_request",
      errors: [{ path: "email", message: "Required" }],
    });
    expect(validation.status).toBe(422);
  });

  it("put Retry-After on every 503", () => {
    expect(new ApiError("service_unavailable", "x").headers["Retry-After"]).toBe("1");
  });
});

describe("a provider that cannot be reached", () => {
  it("makes an OAuth start a 503 service_unavailable with Retry-After, not a 5xx of another kind", async () => {
    const client = new TestClient({
      settings: {
        OAUTH_OIDC_PROVIDERS: "down",
        OAUTH_DOWN_ISSUER: "http://127.0.0.1:9",
        OAUTH_DOWN_CLIENT_ID: "down-client",
        OAUTH_DOWN_CLIENT_SECRET: "down-secret",
      },
    });
    const response = await client.get("/api/v1/auth/oauth/down?mode=json");
    expect(response.status).toBe(503);
    expect(response.headers.get("Retry-After")).toBe("1");
    expect(await response.json()).toEqual({ detail: expect.stringContaining("unavailable"), code: "service_unavailable" });
    // Nothing was started: no binding cookie for a login that cannot happen.
    expect(client.lastSetCookies.some((line) => line.includes("oauth_binding"))).toBe(false);
  });
});
