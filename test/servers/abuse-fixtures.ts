// What the loopback range API (abuse-services.ts) knows, shared with the tests in workerd.

/** Passwords the stand-in range API knows as breached. */
export const BREACHED = ["breached-but-long-password-1"];
/** Passwords whose hash appears only as padding (count 0): never breached. */
export const PADDED = ["padded-but-fine-password-2"];
