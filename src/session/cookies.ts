import type { CookieSerializeOptions } from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { GatewayConfig } from '../config/types.js';

// The session cookie and the short-lived login cookie. The session cookie carries a random
// id signed with the first of session.secrets (every secret verifies, for rotation). The
// login cookie carries the login transaction sealed with AES-GCM (auth/login-transactions.ts):
// the cipher authenticates it, so it is not signed as well.

/** A signed 43-character id is about 90 characters; anything much longer is not ours. */
const MAX_COOKIE_LENGTH = 512;
/** A sealed login with a 2048-character returnTo is about 2,900 characters. */
const MAX_LOGIN_COOKIE_LENGTH = 4096;
const LOGIN_COOKIE_SECONDS = 600;
/** verified session cookies remembered, so a burst of calls checks the HMAC once */
const VERIFIED_MAX = 10_000;

export class SessionCookies {
  readonly name: string;
  readonly loginName: string;
  private readonly base: CookieSerializeOptions;
  private readonly sessionMaxAge: number;
  private readonly sameSite: 'strict' | 'lax';
  /** signed cookie value → session id, for values whose signature checked out */
  private readonly verified = new Map<string, string>();

  constructor(config: Pick<GatewayConfig, 'server' | 'session'>) {
    this.name = config.session.cookieName;
    this.loginName = `${this.name}-login`;
    const url = new URL(config.server.publicUrl);
    // __Host-/__Secure- cookies must be Secure or browsers drop them; browsers accept
    // Secure cookies from http://localhost, so only a plain-http localhost without a
    // prefix goes without it.
    const prefixed = /^__(Host|Secure)-/.test(this.name);
    const secure = url.protocol === 'https:' || prefixed;
    this.base = { path: '/', httpOnly: true, secure, signed: true };
    this.sessionMaxAge = Math.floor(config.session.absoluteTimeoutMs / 1000);
    this.sameSite = config.session.sameSite;
  }

  /** The session id of a request, or null (no cookie, bad signature, implausible size). */
  sessionId(request: FastifyRequest): string | null {
    const raw = request.cookies[this.name];
    const known = raw === undefined ? undefined : this.verified.get(raw);
    if (known !== undefined) return known;
    const sessionId = this.unsign(request, this.name);
    if (sessionId && raw !== undefined) {
      if (this.verified.size >= VERIFIED_MAX) this.verified.clear();
      this.verified.set(raw, sessionId);
    }
    return sessionId;
  }

  /** The login cookie's (sealed) value, or null (none, or implausibly long). */
  loginTransaction(request: FastifyRequest): string | null {
    const raw = request.cookies[this.loginName];
    return raw && raw.length <= MAX_LOGIN_COOKIE_LENGTH ? raw : null;
  }

  setSession(reply: FastifyReply, sessionId: string): void {
    reply.setCookie(this.name, sessionId, { ...this.base, sameSite: this.sameSite, maxAge: this.sessionMaxAge });
  }

  clearSession(reply: FastifyReply): void {
    reply.clearCookie(this.name, { ...this.base, sameSite: this.sameSite, signed: false });
  }

  /**
   * Lax, not strict: the IdP's redirect back to /auth/callback is a cross-site navigation.
   * Path=/ as the session cookie's: a __Host- cookie must have it.
   */
  setLoginTransaction(reply: FastifyReply, sealed: string): void {
    reply.setCookie(this.loginName, sealed, { ...this.base, sameSite: 'lax', maxAge: LOGIN_COOKIE_SECONDS, signed: false });
  }

  clearLoginTransaction(reply: FastifyReply): void {
    reply.clearCookie(this.loginName, { ...this.base, sameSite: 'lax', signed: false });
  }

  /** Whether a cookie of the Cookie header belongs to the gateway (never forwarded). */
  isOwn(cookieName: string): boolean {
    return cookieName === this.name || cookieName === this.loginName;
  }

  private unsign(request: FastifyRequest, name: string): string | null {
    const raw = request.cookies[name];
    if (!raw || raw.length > MAX_COOKIE_LENGTH) return null;
    const result = request.unsignCookie(raw);
    return result.valid && result.value ? result.value : null;
  }
}
