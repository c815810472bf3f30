// Starts the loopback identity providers the OAuth tests talk to (in Node, before the
// workerd test pool), and hands their addresses to vitest.config.ts through provide().
import type { TestProject } from "vitest/node";
import { GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET, startFakeGitHub } from "../servers/fake-github";
import { startOidcProvider } from "../servers/oidc-idp";
import { startMailApi } from "../servers/mail-api";
import { startRogueIdp } from "../servers/rogue-idp";
import { startClientMetadata } from "../servers/client-metadata";
import { startAbuseServices } from "../servers/abuse-services";

export const TEST_BASE_URL = "http://auth.example.test";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const callback = (name: string): string => `${TEST_BASE_URL}/api/v1/auth/oauth/callback/${name}`;
  const generic = await startOidcProvider({
    clientId: "edge-auth-test",
    clientSecret: "generic-test-secret",
    redirectUris: [callback("testidp")],
  });
  const google = await startOidcProvider({
    clientId: "google-test-client.apps.googleusercontent.com",
    clientSecret: "google-test-secret",
    redirectUris: [callback("google")],
  });
  const github = await startFakeGitHub();
  const rogue = await startRogueIdp();
  const mail = await startMailApi();
  const metadata = await startClientMetadata();
  const abuse = await startAbuseServices();
  project.provide("oauthServers", {
    genericIssuer: generic.issuer,
    googleIssuer: google.issuer,
    githubUrl: github.url,
    githubClientId: GITHUB_CLIENT_ID,
    githubClientSecret: GITHUB_CLIENT_SECRET,
    rogueIssuer: rogue.issuer,
    mailApiUrl: mail.url,
    clientMetadataUrl: metadata.url,
    abuseUrl: abuse.url,
  });
  return async () => {
    const all = [generic, google, github, rogue, mail, metadata, abuse];
    for (const { server } of all) server.closeAllConnections();
    await Promise.all(all.map(({ server }) => new Promise((resolve) => server.close(resolve))));
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    oauthServers: {
      genericIssuer: string;
      googleIssuer: string;
      githubUrl: string;
      githubClientId: string;
      githubClientSecret: string;
      rogueIssuer: string;
      mailApiUrl: string;
      clientMetadataUrl: string;
      abuseUrl: string;
    };
  }
}
