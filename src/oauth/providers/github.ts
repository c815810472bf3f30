// GitHub (OAuth 2.0, not OpenID Connect): the user from GET /user, the email only when
// it is the primary address and verified, from GET /user/emails.
import { CodeExchangeError, buildAuthorizationUrl, exchangeCode } from "../arctic";
import { OAuthFailure, type OAuthProvider, type ProviderIdentity, fetchJson } from "./provider";

interface GitHubUser {
  id: number;
  login: string;
  name: string | null;
}

interface GitHubEmail {
  email: string;
  primary: boolean;
  verified: boolean;
}

export function githubProvider(options: { webUrl: string; apiUrl: string }): OAuthProvider {
  const api = (path: string, accessToken: string): Promise<unknown> =>
    fetchJson(
      `${options.apiUrl}${path}`,
      {
        headers: {
          Authorization: `Bearer ${accessToken}`,
          Accept: "application/vnd.github+json",
          "X-GitHub-Api-Version": "2022-11-28",
          "User-Agent": "edge-auth",
        },
      },
      "github_api",
    );
  return {
    name: "github",
    async authorizationUrl(client, request) {
      return buildAuthorizationUrl(`${options.webUrl}/login/oauth/authorize`, client, {
        state: request.state,
        codeVerifier: request.codeVerifier,
        scopes: ["read:user", "user:email"],
      });
    },
    async identify(client, code, request): Promise<ProviderIdentity> {
      let accessToken: string;
      try {
        ({ accessToken } = await exchangeCode(`${options.webUrl}/login/oauth/access_token`, client, code, request.codeVerifier));
      } catch (error) {
        throw new OAuthFailure(error instanceof CodeExchangeError ? error.reason : "token_error");
      }
      // Side by side: one round trip to GitHub's API instead of two.
      const [user, emails] = (await Promise.all([api("/user", accessToken), api("/user/emails", accessToken)])) as [
        GitHubUser,
        GitHubEmail[],
      ];
      if (typeof user?.id !== "number") throw new OAuthFailure("github_user_invalid");
      const primary = Array.isArray(emails) ? emails.find((email) => email.primary && email.verified) : undefined;
      return {
        providerUserId: String(user.id),
        email: primary?.email ?? null,
        emailVerified: primary !== undefined,
        name: user.name ?? user.login,
      };
    },
  };
}
