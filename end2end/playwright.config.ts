import { defineConfig } from "@playwright/test";

// Six servers from the debug build of the server that `cargo test` made for the integration tests (the WASM
// and assets come from `cargo leptos build --frontend-only`): one on the embedded sample upstream, one whose
// upstream is a closed port, for the failure page, one on a 10 000-message fake upstream (fake-upstream.mjs), one that
// keeps nothing, on a 250-message fake upstream the tests can make fail and heal, and one that keeps a history
// (a SQLite file of this run) of a 150-message fake upstream the tests move on to its next period, and one whose
// 30-day billing cycle started ten days ago, on a fake upstream of the ten days before now. The others keep no
// history; the large one has no billing cycle or budget, the others the sample's (Leptos.toml). A seventh, on a
// 120-message fake upstream, is behind access control, with a real OpenID provider (oidc-provider.mjs) to sign
// in at; an eighth is the same behind an https front (https-proxy.mjs, a certificate made for the run), so that
// its cookies are Secure and `__Host-` ones.
// Chromium comes from Debian (Playwright cannot download its own here).
const binary = process.env.DASHBOARD_BINARY ?? "target/debug/credit-dashboard";
const serverEnv = (addr: string, upstream = "", extra: Record<string, string> = {}) => ({
  LEPTOS_SITE_ADDR: addr,
  // Another origin whose pages may read /usage: the fake upstream's page, in the CORS test.
  CORS_ALLOWED_ORIGINS: "http://127.0.0.1:3190",
  LEPTOS_SITE_ROOT: "target/site",
  UPSTREAM_BASE_URL: upstream,
  UPSTREAM_RETRY_BASE_MS: "10",
  DATABASE_URL: "",
  RUST_LOG: "warn",
  ...extra,
});

export const SAMPLE_URL = "http://127.0.0.1:3100";
export const FAILING_URL = "http://127.0.0.1:3101";
export const LARGE_URL = "http://127.0.0.1:3102";
export const LARGE_UPSTREAM_URL = "http://127.0.0.1:3190";
export const FLAKY_URL = "http://127.0.0.1:3103";
export const FLAKY_UPSTREAM_URL = "http://127.0.0.1:3191";
export const HISTORY_URL = "http://127.0.0.1:3104";
export const HISTORY_UPSTREAM_URL = "http://127.0.0.1:3192";
export const LIVE_URL = "http://127.0.0.1:3105";
export const LIVE_UPSTREAM_URL = "http://127.0.0.1:3193";
export const AUTH_URL = "http://127.0.0.1:3106";
export const AUTH_UPSTREAM_URL = "http://127.0.0.1:3195";
export const AUTH_HTTPS_URL = "https://127.0.0.1:3197";
export const OIDC_URL = "http://127.0.0.1:3194";
/// The live server's cycle: ten days ago, 00:00 UTC.
export const LIVE_CYCLE_START = new Date(new Date(new Date().toISOString().slice(0, 10) + "T00:00:00Z").getTime() - 10 * 86400_000);
// A new file each run: the test expects the history to start empty.
const historyFile = `target/e2e-history/${process.pid}-${Date.now()}.sqlite3`;
// The test provider's signing keys, new each run.
const oidcKeys = `target/e2e-oidc/${process.pid}-${Date.now()}`;

/// A server behind access control at `publicUrl`, signing in at the test provider.
const authEnv = (publicUrl: string) => ({
  AUTH_ISSUER: OIDC_URL,
  AUTH_CLIENT_ID: "dashboard",
  AUTH_CLIENT_SECRET: "dashboard-secret-of-at-least-32-bytes!!",
  PUBLIC_URL: publicUrl,
  AUTH_SESSION_SECRET: "a-session-secret-of-at-least-32-bytes-long",
  AUTH_ALLOWED_GROUPS: "billing",
});

export default defineConfig({
  testDir: "./tests",
  timeout: 30_000,
  retries: 0,
  workers: 2,
  reporter: [["list"]],
  use: {
    baseURL: SAMPLE_URL,
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    },
    screenshot: "only-on-failure",
  },
  webServer: [
    {
      command: binary,
      cwd: "..",
      url: `${SAMPLE_URL}/healthz`,
      env: serverEnv("127.0.0.1:3100"),
      reuseExistingServer: false,
      timeout: 60_000,
    },
    {
      command: binary,
      cwd: "..",
      url: `${FAILING_URL}/healthz`,
      env: serverEnv("127.0.0.1:3101", "http://127.0.0.1:9"),
      reuseExistingServer: false,
      timeout: 60_000,
    },
    {
      command: "node fake-upstream.mjs 3190 10000",
      url: `${LARGE_UPSTREAM_URL}/messages/current-period`,
      reuseExistingServer: false,
      timeout: 30_000,
    },
    {
      command: binary,
      cwd: "..",
      url: `${LARGE_URL}/healthz`,
      env: serverEnv("127.0.0.1:3102", LARGE_UPSTREAM_URL, { BILLING_CYCLE_ANCHOR: "", BILLING_INTERVAL: "", CREDIT_BUDGET: "" }),
      reuseExistingServer: false,
      timeout: 60_000,
    },
    {
      command: "node fake-upstream.mjs 3191 250",
      url: `${FLAKY_UPSTREAM_URL}/messages/current-period`,
      reuseExistingServer: false,
      timeout: 30_000,
    },
    {
      command: binary,
      cwd: "..",
      url: `${FLAKY_URL}/healthz`,
      env: serverEnv("127.0.0.1:3103", FLAKY_UPSTREAM_URL, { KEPT_PERIOD_TTL_MS: "0", UPSTREAM_RETRIES: "0" }),
      reuseExistingServer: false,
      timeout: 60_000,
    },
    {
      command: "node fake-upstream.mjs 3192 150",
      url: `${HISTORY_UPSTREAM_URL}/messages/current-period`,
      reuseExistingServer: false,
      timeout: 30_000,
    },
    {
      command: binary,
      cwd: "..",
      url: `${HISTORY_URL}/healthz`,
      env: serverEnv("127.0.0.1:3104", HISTORY_UPSTREAM_URL, { DATABASE_URL: `sqlite://${historyFile}`, KEPT_PERIOD_TTL_MS: "300" }),
      reuseExistingServer: false,
      timeout: 60_000,
    },
    {
      command: "node fake-upstream.mjs 3193 200 recent",
      url: `${LIVE_UPSTREAM_URL}/messages/current-period`,
      reuseExistingServer: false,
      timeout: 30_000,
    },
    {
      command: binary,
      cwd: "..",
      url: `${LIVE_URL}/healthz`,
      env: serverEnv("127.0.0.1:3105", LIVE_UPSTREAM_URL, {
        BILLING_CYCLE_ANCHOR: LIVE_CYCLE_START.toISOString(),
        BILLING_INTERVAL: "30",
        CREDIT_BUDGET: "4000",
      }),
      reuseExistingServer: false,
      timeout: 60_000,
    },
    {
      // A real OpenID provider (oidc-provider.mjs) for the server behind access control.
      command: "node oidc-provider.mjs",
      url: `${OIDC_URL}/.well-known/openid-configuration`,
      env: { OIDC_PORT: "3194", OIDC_DASHBOARD_URLS: `${AUTH_URL},${AUTH_HTTPS_URL}`, OIDC_KEYS_DIR: `../${oidcKeys}` },
      reuseExistingServer: false,
      timeout: 30_000,
    },
    {
      command: "node fake-upstream.mjs 3195 120",
      url: `${AUTH_UPSTREAM_URL}/messages/current-period`,
      reuseExistingServer: false,
      timeout: 30_000,
    },
    {
      command: binary,
      cwd: "..",
      url: `${AUTH_URL}/healthz`,
      env: serverEnv("127.0.0.1:3106", AUTH_UPSTREAM_URL, authEnv(AUTH_URL)),
      reuseExistingServer: false,
      timeout: 60_000,
    },
    {
      command: binary,
      cwd: "..",
      url: "http://127.0.0.1:3107/healthz",
      env: serverEnv("127.0.0.1:3107", AUTH_UPSTREAM_URL, authEnv(AUTH_HTTPS_URL)),
      reuseExistingServer: false,
      timeout: 60_000,
    },
    {
      command: "node https-proxy.mjs 3197 127.0.0.1:3107",
      url: `${AUTH_HTTPS_URL}/healthz`,
      ignoreHTTPSErrors: true,
      reuseExistingServer: false,
      timeout: 30_000,
    },
  ],
});
