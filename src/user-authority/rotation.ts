// The refresh-rotation rule as a pure decision, so it can be read (and tested) apart
// from storage. The UserAuthority gathers the facts and carries out the verdict.
import { constantTimeEqual } from "../lib/crypto";

export interface RotationFacts {
  /** The family's current refresh-token hash, or null when the family is unknown, expired or not a token family. */
  currentHash: string | null;
  presentedHash: string;
  /** When the presented token was rotated out of this family, if it was. */
  rotatedOutAt: number | null;
  /** The pair handed out the last time the presented token was rotated, while it is kept. */
  replayable: boolean;
  now: number;
  graceMs: number;
}

export type RotationVerdict = "rotate" | "replay" | "reuse" | "invalid";

export function decideRotation(facts: RotationFacts): RotationVerdict {
  if (facts.currentHash === null) return "invalid";
  if (constantTimeEqual(facts.currentHash, facts.presentedHash)) return "rotate";
  if (facts.rotatedOutAt === null) return "invalid";
  if (facts.replayable) return "replay";
  // Inside the grace period but the pair is gone (the object restarted): refuse this
  // call without punishing the family; the first response holds a valid pair.
  if (facts.now - facts.rotatedOutAt <= facts.graceMs) return "invalid";
  return "reuse";
}
