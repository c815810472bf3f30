// Ceiling: the cheapest possible Worker answer.
export default {
  fetch() {
    return Response.json({ status: "ok" });
  },
};
