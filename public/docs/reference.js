// Mounts Scalar's API reference (scalar.js, served from this origin) on /openapi.json.
// Nothing is loaded from elsewhere: no web fonts, no telemetry, no AI agent, and the
// "try it" client sends its requests straight to this origin (no proxy).
window.Scalar.createApiReference("#reference", {
  url: "/openapi.json",
  withDefaultFonts: false,
  telemetry: false,
  agent: { disabled: true },
  proxyUrl: "",
  persistAuth: false,
  showDeveloperTools: "never",
  defaultOpenFirstTag: true,
  operationTitleSource: "summary",
});
