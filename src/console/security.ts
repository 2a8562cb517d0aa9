/**
 * Who may drive the console: only a page opened from the URL it printed. A per-run random token (in the URL,
 * then in a same-site cookie or a header) shuts out other local users and other sites; the Host check shuts
 * out DNS rebinding (a foreign name resolving to 127.0.0.1); the Origin check on every state change shuts out
 * cross-site requests even from a browser that holds the cookie.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';

/** The header the page sends the token in. */
export const TOKEN_HEADER = 'x-akash-ip-token';

/** A fresh token: 192 random bits, URL-safe. */
export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

/** The cookie carrying the token; named after the port, since cookies are shared by every port of a host. */
export function cookieName(port: number): string {
  return `akash_ip_console_${port}`;
}

/** Whether `given` is the token, in constant time. */
export function tokenMatches(given: string | undefined, token: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The hosts the console answers to: its loopback address or `localhost`, on its port. */
export function allowedHosts(port: number): readonly string[] {
  return [`127.0.0.1:${port}`, `localhost:${port}`];
}

/** Whether a request's Host header names the console itself (no DNS rebinding). */
export function hostAllowed(host: string | undefined, port: number): boolean {
  return host !== undefined && allowedHosts(port).includes(host.toLowerCase());
}

/** Whether a state-changing request comes from the console's own page: its Origin is one of the console's hosts. */
export function originAllowed(origin: string | undefined, port: number): boolean {
  return origin !== undefined && allowedHosts(port).some((host) => origin.toLowerCase() === `http://${host}`);
}

/** The value of cookie `name` in a Cookie header. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}
