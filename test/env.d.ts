import type { D1Migration } from "cloudflare:test";

declare global {
  namespace Cloudflare {
    interface Env {
      TEST_MIGRATIONS: D1Migration[];
      /** examples/mcp-server, served by its own Worker (vitest.config.ts). */
      MCP_EXAMPLE: Fetcher;
      /** The loopback server of Client ID Metadata Documents. */
      TEST_CLIENT_METADATA: string;
      TEST_ABUSE: string;
    }
  }
}
