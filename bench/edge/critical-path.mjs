// The critical path of one request in the edge harness's trace: how many remote round
// trips the answer waited for, one after another. Calls made side by side count once;
// calls still running after the answer (waitUntil) do not count. `round_trips` are the
// Worker's own calls, a Durable Object call counting one; `inside_trips` are the calls an
// object awaited while answering, along the same critical path (today only the KV
// deletes of a revocation, which an authority makes before it answers by design). The
// latency the harness reports includes both.
//
// An event: { kind: "kv" | "d1" | "do" | "provider", label, from, target, rtt, start, end,
// background? }, where `from` is "worker" or the calling object's tag, a Durable Object
// call's `target` is the called object's tag, start/end are sequence numbers (ordering
// only), and `background` marks an object's alarm work (never inside a request's answer).

/** Sequential round trips: every storage and object call; providers are counted apart. */
const roundTrip = (event) => (event.kind === "provider" ? 0 : 1);
const primaryD1 = (event) => (event.kind === "d1" && event.target === "DB:primary" ? 1 : 0);
const provider = (event) => (event.kind === "provider" ? 1 : 0);
/** For the chain shown: the most round trips, then the most provider calls, then the longest injected delays. */
const shown = (event) => 1e9 * roundTrip(event) + 1e6 * provider(event) + (event.rtt ?? 0);

function describe(event) {
  return event.kind === "d1" && event.target === "DB:replica" ? `${event.label} (replica)` : event.label;
}

/**
 * The heaviest sequence of calls among `calls` where each ends before the next starts,
 * a Durable Object call weighing its own hop plus the heaviest sequence of its calls.
 */
function longest(calls, all, weigh, nest = true) {
  const sorted = [...calls].sort((a, b) => a.end - b.end);
  const best = [];
  for (const [i, call] of sorted.entries()) {
    let own = weigh(call);
    let inner = [];
    if (call.kind === "do" && nest) {
      const nested = all.filter(
        (event) => event.from === call.target && !event.background && event.start > call.start && event.end < call.end,
      );
      const found = longest(nested, all, weigh, nest);
      own += found.total;
      inner = found.chain;
    }
    let previous = null;
    for (let j = 0; j < i; j++) {
      if (sorted[j].end < call.start && (previous === null || best[j].total > best[previous].total)) previous = j;
    }
    const label = inner.length === 0 ? describe(call) : `${describe(call)} { ${inner.join(" -> ")} }`;
    const before = previous === null ? { total: 0, chain: [] } : best[previous];
    best.push({ total: before.total + own, chain: [...before.chain, label] });
  }
  return best.reduce((top, entry) => (entry.total > top.total ? entry : top), { total: 0, chain: [] });
}

/**
 * The critical path of the request whose arrival and answer have the sequence numbers
 * `start` and `responded`: its round trips, those to D1's primary, its sequential
 * provider calls, and the chain of calls behind the round trips.
 */
export function criticalPath(events, { start, responded }) {
  const during = events.filter((event) => event.start > start && event.end < responded);
  const top = during.filter((event) => event.from === "worker");
  const own = longest(top, during, roundTrip, false).total;
  return {
    round_trips: own,
    inside_trips: longest(top, during, roundTrip).total - own,
    d1_primary_trips: longest(top, during, primaryD1).total,
    provider_calls: longest(top, during, provider).total,
    chain: longest(top, during, shown).chain,
  };
}
