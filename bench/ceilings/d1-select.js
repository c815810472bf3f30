// Ceiling: one D1 select by primary key (the service's users table).
export default {
  async fetch(_request, env) {
    const row = await env.DB.prepare("SELECT * FROM users WHERE id = ?").bind(env.USER_ID).first();
    return Response.json({ row });
  },
};
