// The decisions `npm run deploy` makes from wrangler.toml alone (scripts/deploy.mjs runs
// the commands): which vars a deployment gets, which secrets those settings require, and
// which settings must be set (in the vars, or as secrets) for the service to start.

/**
 * The [vars] a deploy uses: the environment's own table replaces the top-level one
 * (wrangler does not merge vars). Null when the environment does not exist.
 */
export function deployedVars(toml, envName) {
  const section = envName === null ? "[vars]" : `[env.${envName}.vars]`;
  const start = toml.indexOf(`\n${section}\n`);
  if (start === -1) return envName !== null && !toml.includes(`[env.${envName}`) ? null : {};
  const vars = {};
  for (const line of toml.slice(start + section.length + 2).split("\n")) {
    if (line.startsWith("[")) break;
    const match = /^\s*([A-Z0-9_]+)\s*=\s*"([^"]*)"/.exec(line);
    if (match) vars[match[1]] = match[2];
  }
  return vars;
}

/** The secrets these settings need, each with why. */
export function requiredSecrets(vars) {
  const required = [["SECRET_KEY", "signs sessions' CSRF tokens, challenges and HS256 tokens; production refuses to start without it"]];
  if (vars.MAIL_PROVIDER === "resend") required.push(["MAIL_API_KEY", "MAIL_PROVIDER is resend"]);
  if (vars.ALGORITHM !== undefined && vars.ALGORITHM !== "HS256") required.push(["JWT_SIGNING_KEYS", `ALGORITHM is ${vars.ALGORITHM}`]);
  const providers = (vars.OAUTH_OIDC_PROVIDERS ?? "")
    .split(",")
    .map((name) => name.trim())
    .filter(Boolean);
  for (const builtIn of ["GOOGLE", "GITHUB"]) if (vars[`OAUTH_${builtIn}_CLIENT_ID`] !== undefined) providers.push(builtIn.toLowerCase());
  for (const provider of providers) {
    required.push([`OAUTH_${provider.toUpperCase()}_CLIENT_SECRET`, `the ${provider} OAuth provider is configured`]);
  }
  return required;
}

/**
 * The settings these vars leave unset that the service refuses to start without (the
 * config loader's rules), each with why: they may still be set as secrets.
 */
export function unsetSettings(vars) {
  const environment = (vars.ENVIRONMENT ?? "production").toLowerCase();
  if (environment === "development" || environment === "test") return [];
  const required = [["APP_BASE_URL", `where mailed links point and the passkeys' RP ID; ${environment} refuses to start without it`]];
  if (String(vars.OAUTH_SERVER_ENABLED).toLowerCase() === "true" && vars.OAUTH_REDIRECT_BASE_URL === undefined) {
    required.push([
      "OAUTH_ISSUER",
      `the OAuth server's one issuer; ${environment} refuses to start the server without it (or OAUTH_REDIRECT_BASE_URL)`,
    ]);
  }
  return required.filter(([name]) => vars[name] === undefined);
}

/** The refusal: each missing setting with where to set it. */
export function missingSettingsMessage(missing, envName, target) {
  const table = envName === null ? "[vars]" : `[env.${envName}.vars]`;
  return [
    `refusing to deploy to ${target}: ${missing.length === 1 ? "a required setting is" : "required settings are"} missing.`,
    ...missing.map(([name, why]) => `  ${name} (${why}):\n    add ${name} = "https://..." under ${table} in wrangler.toml`),
  ].join("\n");
}

/** The refusal: each missing secret with the exact command that sets it. */
export function missingSecretsMessage(missing, envName, target) {
  const put = (name) => `npx wrangler secret put ${name}${envName === null ? "" : ` --env ${envName}`}`;
  return [
    `refusing to deploy to ${target}: ${missing.length === 1 ? "a required secret is" : "required secrets are"} missing.`,
    ...missing.map(
      ([name, why]) => `  ${name} (${why}):\n    ${name === "SECRET_KEY" ? `openssl rand -base64 48 | ${put(name)}` : put(name)}`,
    ),
  ].join("\n");
}
