import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";

// Applies migrations/ to the test D1 database once per test file (idempotent).
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
