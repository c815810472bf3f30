// Ceiling: the configured password hash alone (the service's own hashing code).
import { hashPassword, verifyPassword } from "../../src/passwords/hash";

let stored: Promise<string> | undefined;

export default {
  async fetch(): Promise<Response> {
    stored ??= hashPassword("bench password for the ceiling");
    return Response.json({ ok: await verifyPassword("bench password for the ceiling", await stored) });
  },
};
