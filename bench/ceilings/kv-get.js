// Ceiling: one KV read (the same namespace the service caches sessions in).
export default {
  async fetch(_request, env) {
    return Response.json({ value: await env.SESSIONS.get("bench:ceiling", "json") });
  },
};
