/**
 * The authorization flow for one MCP server: discovery, client identity, consent, the
 * loopback callback (or a pasted redirect), the code exchange — and the unattended
 * `client_credentials` grant. One call runs one flow and returns the stored token.
 *
 * Follows the MCP authorization specification (2025-11-25) and the RFCs it names.
 * @module
 */
import { generateSelfSignedCertificate } from "./cert.ts";
import { parseRedirectInput, startCallbackServer } from "./callback.ts";
import type { CallbackServer } from "./callback.ts";
import type { OAuthContext, OAuthTarget } from "./context.ts";
import { canonicalResourceUri, discover } from "./discovery.ts";
import type { AuthorizationServerMetadata, Discovery } from "./discovery.ts";
import { OAuthError } from "./errors.ts";
import { oauthFetch } from "./http.ts";
import { assertS256Supported, createPkce, randomState } from "./pkce.ts";
import { resolveClient } from "./registration.ts";
import type { BearerChallenge } from "./www_authenticate.ts";
import type { StoredClient, StoredToken } from "./store.ts";
import {
  buildAuthorizationUrl,
  buildTokenRequest,
  processCallbackParams,
  processTokenResponse,
} from "./token.ts";
import type { TokenSet } from "./token.ts";
import { openBrowser } from "./browser.ts";
import { selectScopes, unionScopes } from "./scopes.ts";

/** What prompted this flow. */
export interface AuthorizeRequest {
  /** The server's Bearer challenge (from a 401 or 403), if there was one. */
  challenge?: BearerChallenge;
  /** Scopes already held, united with the challenge's on a step-up (403 insufficient_scope). */
  heldScopes?: string[];
  /** True for a step-up: the challenge's scope adds to the held scopes. */
  stepUp?: boolean;
}

/** Runs one authorization for `target` and returns the token it stored. */
export async function authorize(
  ctx: OAuthContext,
  target: OAuthTarget,
  request: AuthorizeRequest = {},
): Promise<StoredToken> {
  try {
    const token = await authorizeOnce(ctx, target, request);
    ctx.onAuthEvent?.({
      server: target.server,
      issuer: token.issuer,
      scopes: token.scopes,
      outcome: "signed_in",
    });
    return token;
  } catch (error) {
    const declined = error instanceof OAuthError && error.code === "oauth.declined";
    ctx.onAuthEvent?.({ server: target.server, outcome: declined ? "declined" : "failed" });
    throw error;
  }
}

async function authorizeOnce(
  ctx: OAuthContext,
  target: OAuthTarget,
  request: AuthorizeRequest,
): Promise<StoredToken> {
  const discovery = await discover(target.serverUrl, request.challenge, {
    ...ctx.http,
    cache: ctx.metadataCache,
    server: target.server,
  });
  const meta = discovery.authorizationServer;
  const scopes = chooseScopes(target, discovery, request);
  const token = target.oauth?.grantType === "client_credentials"
    ? await clientCredentials(ctx, target, discovery, scopes)
    : await authorizationCode(ctx, target, discovery, scopes);
  const stored: StoredToken = {
    ...token.set,
    issuer: meta.issuer,
    tokenEndpoint: meta.token_endpoint,
    tokenEndpointAuthMethod: token.client.tokenEndpointAuthMethod,
    clientId: token.client.clientId,
    resource: discovery.resource,
    revocationEndpoint: meta.revocation_endpoint,
  };
  await ctx.store.saveToken(target.serverUrl, stored);
  return stored;
}

/**
 * Scopes to request (MCP 2025-11-25 "Scope Selection Strategy", lib/oauth/scopes.ts); on a
 * step-up, the held scopes plus the challenge's (MCP "Step-Up Authorization Flow").
 */
function chooseScopes(
  target: OAuthTarget,
  discovery: Discovery,
  request: AuthorizeRequest,
): string[] {
  const selected = selectScopes({
    config: target.oauth?.scopes,
    challenge: request.challenge?.scope,
    resourceScopes: discovery.protectedResource?.scopes_supported,
    serverScopes: discovery.authorizationServer.scopes_supported,
  });
  if (!request.stepUp) return selected;
  return selectScopes({
    config: unionScopes(request.heldScopes, request.challenge?.scope, selected),
    serverScopes: discovery.authorizationServer.scopes_supported,
  });
}

interface IssuedToken {
  set: TokenSet;
  client: StoredClient;
}

/** The authorization code grant with PKCE, a loopback callback and the user's consent. */
async function authorizationCode(
  ctx: OAuthContext,
  target: OAuthTarget,
  discovery: Discovery,
  scopes: string[],
): Promise<IssuedToken> {
  const meta = discovery.authorizationServer;
  assertS256Supported(meta, { force: target.oauth?.pkce === "force", server: target.server });
  const state = randomState();
  const callback = await openCallback(ctx, target, state);
  try {
    const redirectUri = redirectUriFor(target, callback);
    const { client } = await resolveClient({
      meta,
      oauth: target.oauth,
      redirectUri,
      scope: scopes.length ? scopes.join(" ") : undefined,
      store: ctx.store,
      server: target.server,
      http: ctx.http,
    });
    const pkce = await createPkce();
    const authorizationUrl = buildAuthorizationUrl({
      meta,
      clientId: client.clientId,
      redirectUri,
      state,
      codeChallenge: pkce.challenge,
      scope: scopes.length ? scopes.join(" ") : undefined,
      resource: discovery.resource,
    }).toString();

    const answer = await ctx.elicitation.confirmSignIn({
      server: target.server,
      serverUrl: target.serverUrl,
      issuer: meta.issuer,
      scopes,
      authorizationUrl,
    });
    if (answer !== "accept") {
      ctx.declined.add(canonicalResourceUri(target.serverUrl));
      throw declinedError(target);
    }

    const params = await waitForRedirect(ctx, target, callback, authorizationUrl, state);
    const { code } = processCallbackParams(params, {
      expectedState: state,
      expectedIssuer: meta.issuer,
      issRequired: meta.authorization_response_iss_parameter_supported === true,
      server: target.server,
    });
    const set = await requestToken(
      ctx,
      target,
      meta,
      client,
      {
        type: "authorization_code",
        code,
        redirectUri,
        codeVerifier: pkce.verifier,
      },
      discovery.resource,
      scopes,
    );
    ctx.elicitation.notify(`Signed in to ${target.server}.`);
    return { set, client };
  } finally {
    await callback.close();
  }
}

/** The `client_credentials` grant (RFC 6749 §4.4) for unattended agents: no user, no browser. */
async function clientCredentials(
  ctx: OAuthContext,
  target: OAuthTarget,
  discovery: Discovery,
  scopes: string[],
): Promise<IssuedToken> {
  const meta = discovery.authorizationServer;
  const { client } = await resolveClient({
    meta,
    oauth: target.oauth,
    redirectUri: "",
    scope: scopes.length ? scopes.join(" ") : undefined,
    store: ctx.store,
    server: target.server,
    http: ctx.http,
  });
  const set = await requestToken(
    ctx,
    target,
    meta,
    client,
    {
      type: "client_credentials",
      scope: scopes.length ? scopes.join(" ") : undefined,
    },
    discovery.resource,
    scopes,
  );
  return { set, client };
}

/** Sends a token request and validates the response. */
export async function requestToken(
  ctx: OAuthContext,
  target: OAuthTarget,
  meta: Pick<AuthorizationServerMetadata, "token_endpoint" | "issuer">,
  client: StoredClient,
  grant: Parameters<typeof buildTokenRequest>[1],
  resource: string,
  requestedScopes: string[],
): Promise<TokenSet> {
  const request = await buildTokenRequest(meta, grant, client, {
    resource,
    privateKey: await privateKeyOf(target),
  });
  const { response, body } = await oauthFetch(request, { ...ctx.http, server: target.server });
  return processTokenResponse(response, body, {
    requestedScopes,
    now: ctx.now?.(),
    server: target.server,
  });
}

/** The PEM key for `private_key_jwt`, from `privateKeyFile` or `privateKeyEnv`. */
async function privateKeyOf(target: OAuthTarget): Promise<string | undefined> {
  const oauth = target.oauth;
  if (oauth?.privateKeyFile) {
    try {
      return await Deno.readTextFile(oauth.privateKeyFile);
    } catch (error) {
      throw new OAuthError(
        `cannot read remote.oauth.privateKeyFile '${oauth.privateKeyFile}' of ${target.server}: ${
          error instanceof Error ? error.message : error
        }`,
        { code: "oauth.private_key", server: target.server },
      );
    }
  }
  if (oauth?.privateKeyEnv) {
    const pem = Deno.env.get(oauth.privateKeyEnv);
    if (!pem) {
      throw new OAuthError(
        `environment variable ${oauth.privateKeyEnv} (remote.oauth.privateKeyEnv of ${target.server}) is not set`,
        { code: "oauth.private_key", server: target.server, hint: `export ${oauth.privateKeyEnv}` },
      );
    }
    return pem;
  }
  return undefined;
}

/** Starts the loopback callback server, over HTTPS with a fresh certificate when `tls: true`. */
async function openCallback(
  ctx: OAuthContext,
  target: OAuthTarget,
  expectedState: string,
): Promise<CallbackServer> {
  const tls = target.oauth?.tls
    ? await (ctx.generateCertificate ?? generateSelfSignedCertificate)()
      .then(({ certPem, keyPem }) => ({ certPem, keyPem }))
    : undefined;
  if (tls) {
    ctx.elicitation.notify(
      `${target.server} needs an HTTPS redirect, so dagent serves its callback with a certificate ` +
        `it just generated: your browser will warn that it is self-signed. That is expected; ` +
        `the page only receives the sign-in code on 127.0.0.1.`,
    );
  }
  return await startCallbackServer({
    port: target.oauth?.callbackPort ?? 0,
    tls,
    expectedState,
    server: target.server,
    timeoutMs: ctx.callbackTimeoutMs,
  });
}

/** The `redirect_uri` to send: the configured override (tunnels) or the loopback one. */
function redirectUriFor(target: OAuthTarget, callback: CallbackServer): string {
  const override = target.oauth?.callbackRedirectURL;
  return override
    ? override.replaceAll("${callbackPort}", String(callback.port))
    : callback.redirectUri;
}

/**
 * Sends the user to the authorization URL and waits for the redirect: at the callback
 * server, or pasted by the user with `--no-browser` (whichever comes first).
 */
async function waitForRedirect(
  ctx: OAuthContext,
  target: OAuthTarget,
  callback: CallbackServer,
  authorizationUrl: string,
  state: string,
): Promise<URLSearchParams> {
  ctx.elicitation.notify(
    `Open this address to sign in to ${target.server}:\n  ${authorizationUrl}`,
  );
  if (ctx.browser.noBrowser) {
    const pasted = ctx.elicitation
      .readRedirect({ server: target.server, authorizationUrl })
      .then((input) => {
        const params = parseRedirectInput(input);
        // A bare pasted code carries no state to check; anything fuller is checked in full.
        if ([...params.keys()].join() === "code") params.set("state", state);
        return params;
      });
    return await Promise.race([callback.result, pasted]);
  }
  const open = ctx.browser.open ?? openBrowser;
  // The flow never waits on the browser process: the callback is the signal.
  open(authorizationUrl).then((outcome) => {
    const { opened, reason } = (outcome ?? {}) as { opened?: boolean; reason?: string };
    if (opened === false) {
      ctx.elicitation.notify(
        `Could not open a browser (${reason ?? "no opener"}): open the address above yourself, ` +
          "or rerun with --no-browser to paste the address you land on.",
      );
    }
  }, () => {});
  return await callback.result;
}

/** The error every request to a declined server fails with. */
export function declinedError(target: OAuthTarget): OAuthError {
  return new OAuthError(`authorization was declined for ${target.server} in this session`, {
    code: "oauth.declined",
    server: target.server,
    hint: `run 'dagent auth login${
      target.configPath ? ` ${target.configPath}` : ""
    } ${target.server}' to sign in`,
  });
}
