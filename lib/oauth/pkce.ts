/**
 * PKCE (RFC 7636), `state` values, and constant-time comparison.
 * @module
 */
import { oauthError, serverLabel } from "./errors.ts";

/** A PKCE pair: keep `verifier` secret until the token request; send `challenge`. */
export interface Pkce {
  verifier: string;
  challenge: string;
  method: "S256";
}

/** base64url without padding (RFC 4648 §5, as RFC 7636 Appendix A uses it). */
export function base64urlEncode(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The S256 challenge of a verifier: BASE64URL(SHA256(ASCII(verifier))) (RFC 7636 §4.2). */
export async function s256Challenge(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64urlEncode(new Uint8Array(digest));
}

/** A fresh verifier from 32 random bytes (43 characters, RFC 7636 §4.1) and its S256 challenge. */
export async function createPkce(): Promise<Pkce> {
  const verifier = base64urlEncode(crypto.getRandomValues(new Uint8Array(32)));
  return { verifier, challenge: await s256Challenge(verifier), method: "S256" };
}

/** A fresh `state`: 32 random bytes, base64url (RFC 6749 §10.12). */
export function randomState(): string {
  return base64urlEncode(crypto.getRandomValues(new Uint8Array(32)));
}

/** Compares two strings without an early exit on the first difference. */
export function constantTimeEqual(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  const len = Math.max(x.length, y.length);
  let diff = x.length ^ y.length;
  for (let i = 0; i < len; i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

/**
 * Refuses a server that does not list S256 in `code_challenge_methods_supported` (MCP
 * authorization spec: clients MUST refuse when PKCE support cannot be verified), unless the
 * config says `remote.oauth.pkce: force`.
 */
export function assertS256Supported(
  meta: { code_challenge_methods_supported?: string[] },
  opts: { force: boolean; server?: string },
): void {
  const methods = meta.code_challenge_methods_supported;
  if (methods?.includes("S256") || opts.force) return;
  const why = methods === undefined
    ? "does not advertise PKCE support (no code_challenge_methods_supported)"
    : "does not list S256 in code_challenge_methods_supported";
  throw oauthError(
    "oauth.pkce_unsupported",
    `${serverLabel(opts.server)}: the authorization server ${why}; dagent only signs in with ` +
      "PKCE S256",
    {
      server: opts.server,
      hint: "If you know the server supports S256 anyway, set remote.oauth.pkce: force.",
    },
  );
}
