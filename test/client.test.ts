import { describe, expect, it } from "vitest";
import { createAuthClient } from "../src/client";
import { callWorker, uniqueIp } from "./helpers/client";
import { strongPassword, uniqueEmail } from "./helpers/users";

/** The typed client, talking to the Worker inside workerd, with a cookie jar. */
function client(): { auth: ReturnType<typeof createAuthClient>; csrf: { token?: string } } {
  const cookies = new Map<string, string>();
  const csrf: { token?: string } = {};
  const ip = uniqueIp();
  const auth = createAuthClient("http://auth.example.test", {
    csrfToken: () => csrf.token,
    fetch: async (input: RequestInfo | URL, init?: RequestInit) => {
      const request = new Request(input as string, init);
      request.headers.set("CF-Connecting-IP", ip);
      if (cookies.size > 0) request.headers.set("Cookie", [...cookies].map(([k, v]) => `${k}=${v}`).join("; "));
      const response = await callWorker(request);
      for (const line of response.headers.getSetCookie()) {
        const [pair = ""] = line.split(";");
        const eq = pair.indexOf("=");
        cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
      }
      return response;
    },
  });
  return { auth, csrf };
}

describe("the typed client (hc)", () => {
  it("registers, signs in, reads and updates the profile with typed bodies and answers", async () => {
    const { auth, csrf } = client();
    const email = uniqueEmail();
    const password = strongPassword();
    const registered = await auth.api.v1.users.$post({ json: { email, password } });
    expect(registered.status).toBe(201);
    const user = await registered.json();
    const typedEmail: string = user.email;
    expect(typedEmail).toBe(email);

    const login = await auth.api.v1.auth.login.$post({ json: { email, password } });
    const session = await login.json();
    csrf.token = session.csrf_token;

    const me = await (await auth.api.v1.users.me.$get()).json();
    expect(me.id).toBe(user.id);
    const renamed = await auth.api.v1.users.me.$patch({ json: { name: "Typed" } });
    expect(renamed.status).toBe(200);
    expect((await renamed.json()).name).toBe("Typed");

    const key = await (await auth.api.v1["api-keys"].$post({ json: { name: "k", permissions: { user_profile: ["read"] } } })).json();
    const fetched = await auth.api.v1["api-keys"][":id"].$get({ param: { id: key.id } });
    expect((await fetched.json()).prefix).toBe(key.prefix);

    // @ts-expect-error: the body type comes from the handler's schema, so a wrong field type does not compile
    const refused = await auth.api.v1.users.me.$patch({ json: { name: 42 } });
    expect(refused.status).toBe(422);
  });
});
