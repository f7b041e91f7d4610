// An OpenID provider for the tests (panva's oidc-provider): people sign in on its development login page (any
// name, any password), the dashboard is a confidential client of the authorization code flow with PKCE, and the
// reporter clients get JWT access tokens (RFC 9068) from the client credentials grant.
// Configuration, from the environment:
//   OIDC_PORT             port on 127.0.0.1 (0 or unset: a free one); the issuer is http://127.0.0.1:PORT
//   OIDC_DASHBOARD_URL    the dashboard's public URL; OIDC_DASHBOARD_URLS: several, comma-separated (replicas,
//                         test servers); each one's /auth/callback is a redirect URI, its /auth/signed-out a post-logout one
//   OIDC_AUDIENCE         the audience of the access tokens (default: the first dashboard URL)
//   OIDC_DASHBOARD_SECRET the dashboard client's secret
//   OIDC_KEYS_DIR         where the signing keys are kept (jwks.json), with signing.pem and signing.kid, the key
//                         that signs, for tests that make tokens of their own; OIDC_ROTATE=1 adds a new key first
//   OIDC_PEOPLE_FILE      JSON read at every ID token and UserInfo answer, {"alice": {"groups": []}}: claims that
//                         replace a login's own (a test removes someone from a group while they are signed in)
// Clients: dashboard (OIDC_DASHBOARD_SECRET; it gets a refresh token at sign-in), reporter (reporter-secret, scope
// usage:read), reporter-no-scope (reporter-no-scope-secret, other:read only), reporter-brief
// (reporter-brief-secret, tokens of 2 seconds) and metrics-scraper (metrics-scraper-secret, metrics:read).
// Logins starting with alice are in the group billing, with bob in sales, with carol in billing as UserInfo
// says (not in the ID token); others in none. Every login's email is <login>@example.test, verified except for
// logins starting with uma; logins starting with gina carry Google's hosted domain hd=acme.example, with erin
// Entra's tenant tid=tenant-42.
// Prints `ready http://127.0.0.1:PORT` once it listens.
// Usage: node end2end/oidc-provider.mjs
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import Provider from "oidc-provider";

// oidc-provider prints its notices with console.info: stdout carries only the ready line.
console.info = (...args) => console.error(...args);

const env = process.env;
const trimSlash = (url) => url.trim().replace(/\/+$/, "");
const dashboardUrls = [env.OIDC_DASHBOARD_URL, ...(env.OIDC_DASHBOARD_URLS ?? "").split(",")]
  .filter((url) => url && url.trim())
  .map(trimSlash);
if (dashboardUrls.length === 0) {
  console.error("OIDC_DASHBOARD_URL or OIDC_DASHBOARD_URLS is required");
  process.exit(2);
}
if (!env.OIDC_KEYS_DIR) {
  console.error("OIDC_KEYS_DIR is required");
  process.exit(2);
}
const audience = env.OIDC_AUDIENCE || dashboardUrls[0];
const dashboardSecret = env.OIDC_DASHBOARD_SECRET || "dashboard-secret-of-at-least-32-bytes!!";

function newKey() {
  const { privateKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { ...privateKey.export({ format: "jwk" }), kid: crypto.randomBytes(8).toString("hex"), alg: "RS256", use: "sig" };
}

// Written whole then renamed, so that a reader never sees half a file.
function writeFile(file, text) {
  fs.writeFileSync(`${file}.tmp`, text, { mode: 0o600 });
  fs.renameSync(`${file}.tmp`, file);
}

/// The keys of the last run, so that tokens issued before a restart still verify; with OIDC_ROTATE=1, a new key
/// first (the one that signs) and the old ones still published.
function loadKeys(dir) {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, "jwks.json");
  let keys = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, "utf8")).keys : [];
  if (keys.length === 0 || env.OIDC_ROTATE === "1") {
    keys = [newKey(), ...keys];
    writeFile(file, JSON.stringify({ keys }, null, 2) + "\n");
  }
  const signing = crypto.createPrivateKey({ key: keys[0], format: "jwk" });
  writeFile(path.join(dir, "signing.pem"), signing.export({ type: "pkcs8", format: "pem" }));
  writeFile(path.join(dir, "signing.kid"), keys[0].kid);
  return keys;
}

/// A test's changes to people, read anew at every answer (written whole, then renamed, by the test).
function peopleOverrides() {
  if (!env.OIDC_PEOPLE_FILE) return {};
  try {
    return JSON.parse(fs.readFileSync(env.OIDC_PEOPLE_FILE, "utf8"));
  } catch (error) {
    if (error.code === "ENOENT") return {};
    throw error;
  }
}

function groupsOf(login) {
  if (login.startsWith("alice")) return ["billing"];
  if (login.startsWith("bob")) return ["sales"];
  return [];
}

const reporter = (clientId, secret, scope) => ({
  client_id: clientId,
  client_secret: secret,
  grant_types: ["client_credentials"],
  response_types: [],
  redirect_uris: [],
  scope,
});

// The confirmation of a logout, submitted at once by the page itself: a browser test follows the redirects to
// the dashboard without a click. A client without JavaScript posts the form (xsrf and logout=yes) itself.
async function logoutSource(ctx, form) {
  const script = "document.forms[0].submit()";
  // oidc-provider sends no Content-Security-Policy; if one is ever set, the script's hash must be allowed.
  ctx.body = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Sign out</title></head>
<body>
${form.replace("</form>", '<input type="hidden" name="logout" value="yes"/><button type="submit">Sign out</button></form>')}
<script>${script}</script>
</body></html>`;
}

async function postLogoutSuccessSource(ctx) {
  ctx.body = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Signed out</title></head><body><p>Signed out.</p></body></html>`;
}

/// The dashboard is first-party: its grant covers whatever it asks for, so signing in is one form, not two
/// (no consent page).
async function loadExistingGrant(ctx) {
  const { oidc } = ctx;
  const grantId = oidc.result?.consent?.grantId || oidc.session.grantIdFor(oidc.client.clientId);
  let grant = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
  if (oidc.client.clientId !== "dashboard") return grant;
  if (!grant || grant.accountId !== oidc.account.accountId) {
    grant = new oidc.provider.Grant({ accountId: oidc.account.accountId, clientId: oidc.client.clientId });
  }
  grant.addOIDCScope([...oidc.requestParamOIDCScopes].join(" "));
  grant.addOIDCClaims([...oidc.requestParamClaims]);
  for (const [indicator, server] of Object.entries(oidc.resourceServers)) {
    const scopes = [...oidc.requestParamScopes].filter((scope) => server.scopes.has(scope));
    if (scopes.length > 0) grant.addResourceScope(indicator, scopes.join(" "));
  }
  await grant.save();
  return grant;
}

function configuration(keys) {
  return {
    jwks: { keys },
    clients: [
      {
        client_id: "dashboard",
        client_secret: dashboardSecret,
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
        token_endpoint_auth_method: "client_secret_basic",
        redirect_uris: dashboardUrls.map((url) => `${url}/auth/callback`),
        post_logout_redirect_uris: dashboardUrls.map((url) => `${url}/auth/signed-out`),
      },
      reporter("reporter", "reporter-secret", "usage:read"),
      // Allowed another scope only: its tokens lack usage:read.
      reporter("reporter-no-scope", "reporter-no-scope-secret", "other:read"),
      // Its tokens expire after 2 seconds (see getResourceServerInfo).
      reporter("reporter-brief", "reporter-brief-secret", "usage:read"),
      reporter("metrics-scraper", "metrics-scraper-secret", "metrics:read"),
    ],
    async findAccount(ctx, id) {
      return {
        accountId: id,
        // Logins starting with carol are in billing, said by UserInfo only (as some providers leave groups out
        // of the ID token).
        async claims(use) {
          const groups = id.startsWith("carol") ? (use === "userinfo" ? ["billing"] : undefined) : groupsOf(id);
          const hd = id.startsWith("gina") ? "acme.example" : undefined;
          const tid = id.startsWith("erin") ? "tenant-42" : undefined;
          const own = { sub: id, email: `${id}@example.test`, email_verified: !id.startsWith("uma"), groups, hd, tid };
          return { ...own, ...(peopleOverrides()[id] ?? {}) };
        },
      };
    },
    // usage:read and other:read are listed here too, so that a client's `scope` limits which it may ask for.
    scopes: ["openid", "email", "groups", "usage:read", "other:read", "metrics:read"],
    claims: { openid: ["sub", "hd", "tid", "org"], email: ["email", "email_verified"], groups: ["groups"] },
    // The dashboard gets a refresh token at sign-in (without offline_access, which would need a consent page),
    // to check the person's groups again while the session lasts.
    issueRefreshToken: (ctx, client) => client.grantTypeAllowed("refresh_token"),
    // The granted claims go into the ID token too: the dashboard reads the groups there, not from userinfo.
    conformIdTokenClaims: false,
    loadExistingGrant,
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: true },
      clientCredentials: { enabled: true },
      introspection: { enabled: false },
      rpInitiatedLogout: { enabled: true, logoutSource, postLogoutSuccessSource },
      resourceIndicators: {
        enabled: true,
        // Every access token is for a resource server, hence a JWT: the dashboard's audience unless the client
        // asks for another (resource=...), which a test uses to present a token of the wrong audience.
        // The dashboard's own sign-in gets no resource: its access token is the provider's, for UserInfo.
        defaultResource: (ctx, client, oneOf) =>
          client?.clientId === "dashboard" ? undefined : oneOf ? (oneOf.includes(audience) ? audience : oneOf[0]) : audience,
        useGrantedResource: () => true,
        getResourceServerInfo: (ctx, resource, client) => ({
          scope: "usage:read other:read metrics:read",
          audience: resource,
          accessTokenFormat: "jwt",
          accessTokenTTL: client?.clientId === "reporter-brief" ? 2 : 600,
          jwt: { sign: { alg: "RS256" } },
        }),
      },
    },
    ttl: {
      AccessToken: (ctx, token) => token.resourceServer?.accessTokenTTL ?? 600,
      ClientCredentials: (ctx, token) => token.resourceServer?.accessTokenTTL ?? 600,
      AuthorizationCode: 60,
      IdToken: 600,
      RefreshToken: 3600,
      Interaction: 600,
      Session: 3600,
      Grant: 3600,
    },
    // Distinct from any name the dashboard may give its own cookies: cookies do not tell ports apart, and the
    // provider and the dashboards all live on 127.0.0.1.
    cookies: {
      keys: ["test-cookie-key-one-of-the-oidc-provider", "test-cookie-key-two-of-the-oidc-provider"],
      names: { session: "op_session", interaction: "op_interaction", resume: "op_interaction_resume" },
    },
    clientBasedCORS: () => false,
    renderError(ctx, out) {
      ctx.type = "html";
      ctx.body = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Error</title></head><body><p id="error">${escapeHtml(out.error)}</p>
<p id="error_description">${escapeHtml(out.error_description ?? "")}</p></body></html>`;
    },
  };
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const keys = loadKeys(env.OIDC_KEYS_DIR);
let handler = (request, response) => {
  response.statusCode = 503;
  response.end();
};
// Listening first, so that with OIDC_PORT=0 the issuer can name the port the system chose.
const server = http.createServer((request, response) => handler(request, response));
server.on("error", (error) => {
  console.error(error);
  process.exit(1);
});
server.listen(Number(env.OIDC_PORT ?? 0), "127.0.0.1", () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, configuration(keys));
  provider.proxy = false;
  // The development login page loads a web font from Google: the tests must not reach the Internet.
  provider.use(async (ctx, next) => {
    await next();
    if (typeof ctx.body === "string" && ctx.response.is("html")) {
      ctx.body = ctx.body.replace(/@import url\(https:\/\/fonts\.googleapis\.com[^)]*\);?/g, "");
    }
  });
  provider.on("server_error", (ctx, error) => console.error("server_error", error));
  for (const event of ["authorization.error", "grant.error", "end_session.error", "userinfo.error"]) {
    provider.on(event, (ctx, error) =>
      console.error(event, error.error ?? error.name, error.error_description ?? error.message));
  }
  handler = provider.callback();
  console.log(`ready ${issuer}`);
});

for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => process.exit(0));
