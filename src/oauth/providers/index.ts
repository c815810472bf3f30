// The configured providers by name. A new provider: write its file (see provider.ts)
// and map its settings kind here.
import type { ProviderSettings } from "../../config/oauth-settings";
import { githubProvider } from "./github";
import { oidcProvider } from "./oidc";
import type { OAuthProvider } from "./provider";

export function providerFor(settings: ProviderSettings): OAuthProvider {
  switch (settings.kind) {
    case "google": {
      const issuer = settings.issuer ?? "https://accounts.google.com";
      const acceptedIssuers = issuer === "https://accounts.google.com" ? [issuer, "accounts.google.com"] : [issuer];
      return oidcProvider({ name: "google", issuer, acceptedIssuers });
    }
    case "github":
      return githubProvider({
        webUrl: settings.githubUrl ?? "https://github.com",
        apiUrl: settings.githubApiUrl ?? "https://api.github.com",
      });
    case "oidc":
      return oidcProvider({ name: settings.name, issuer: settings.issuer ?? "" });
  }
}
