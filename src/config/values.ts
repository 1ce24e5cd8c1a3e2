// Parsers for scalar configuration values. Values may come from ${VAR} and then are strings,
// so numbers and booleans also accept their string forms. Messages never repeat a value that
// could be a secret (URLs may hold passwords).

import { isIP } from 'node:net';
import { parseDuration, parseSize } from './units.js';

/** Any string, possibly empty. */
export function anyText(value: unknown): string {
  if (typeof value === 'string') return value;
  const hint = typeof value === 'number' || typeof value === 'boolean' ? ' (put it in quotes)' : '';
  throw new Error(`must be a string${hint}`);
}

/** A non-empty string. */
export function text(value: unknown): string {
  const s = anyText(value);
  if (s.trim() === '') throw new Error('must not be empty');
  return s;
}

/** One of the given words; a number is read as its text (YAML reads `version: 1.2` as a number). */
export function oneOf<T extends string>(...allowed: T[]): (value: unknown) => T {
  return (value) => {
    const s = typeof value === 'number' ? String(value) : value;
    if (typeof s === 'string' && (allowed as string[]).includes(s)) return s as T;
    throw new Error(`must be one of ${allowed.join(', ')}`);
  };
}

export function integer(min: number, max = Number.MAX_SAFE_INTEGER): (value: unknown) => number {
  return (value) => toInteger(value, min, max);
}

function toInteger(value: unknown, min: number, max: number): number {
  const n = typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) throw new Error('must be a whole number');
  if (n < min || n > max) {
    throw new Error(max === Number.MAX_SAFE_INTEGER ? `must be at least ${min}` : `must be between ${min} and ${max}`);
  }
  return n;
}

export function bool(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  const s = typeof value === 'string' ? value.trim().toLowerCase() : undefined;
  if (s === 'true' || s === 'false') return s === 'true';
  throw new Error('must be true or false');
}

/** Milliseconds from "30s" and the like. */
export function duration(value: unknown): number {
  if (typeof value !== 'string' && typeof value !== 'number') throw new Error('must be a duration like "30s"');
  return parseDuration(value);
}

export function positiveDuration(value: unknown): number {
  const ms = duration(value);
  if (ms <= 0) throw new Error('must be longer than 0');
  return ms;
}

/** Bytes from "1mb" and the like. */
export function size(value: unknown): number {
  if (typeof value !== 'string' && typeof value !== 'number') throw new Error('must be a size like "1mb"');
  return parseSize(value);
}

function parseUrl(value: unknown, protocols: string[], what: string): URL {
  let url: URL | undefined;
  try {
    url = new URL(text(value));
  } catch {
    url = undefined;
  }
  if (url === undefined || !protocols.includes(url.protocol)) throw new Error(`must be ${what}`);
  return url;
}

/** An http(s) URL, kept as written. */
export function httpUrl(value: unknown): string {
  parseUrl(value, ['http:', 'https:'], 'an http:// or https:// URL');
  return text(value);
}

/** An http(s) origin (no path, query or fragment), normalised without a trailing slash. */
export function origin(value: unknown): string {
  const url = parseUrl(value, ['http:', 'https:'], 'an http:// or https:// origin');
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new Error('must be an origin like https://app.example.com (no path, query, fragment or credentials)');
  }
  return url.origin;
}

/** "memory", or a redis:// or rediss:// URL. */
export function redisUrl(value: unknown): string {
  if (value === 'memory') return value;
  parseUrl(value, ['redis:', 'rediss:'], 'a redis:// or rediss:// URL, or "memory"');
  return text(value);
}

/** "host:port", "[v6]:port". */
export function hostPort(value: unknown): string {
  const s = text(value);
  const match = /^(?:\[[0-9A-Fa-f:.]+\]|[^\s:[\]/]+):(\d{1,5})$/.exec(s);
  if (match?.[1] === undefined || Number(match[1]) < 1 || Number(match[1]) > 65535) {
    throw new Error('must be "host:port" (port 1-65535)');
  }
  return s;
}

const PROXY_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

function isProxyAddress(part: string): boolean {
  const [address = '', bits, ...rest] = part.split('/');
  if (rest.length > 0) return false;
  if (bits === undefined) return PROXY_NAMES.includes(address) || isIP(address) !== 0;
  return isIP(address) !== 0 && (/^\d{1,3}$/.test(bits) || isIP(bits) === 4);
}

/** As fastify's trustProxy: a boolean, a hop count, or addresses/CIDRs (a list or comma-separated). */
export function trustProxy(value: unknown): boolean | string | number {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return toInteger(value, 0, Number.MAX_SAFE_INTEGER);
  const s = Array.isArray(value) ? value.map(text).join(',') : text(value).trim();
  if (s === 'true' || s === 'false') return s === 'true';
  if (/^\d+$/.test(s)) return Number(s);
  if (!s.split(',').every((part) => isProxyAddress(part.trim()))) {
    throw new Error('must be true, false, a hop count, or IP addresses/CIDRs (loopback, linklocal, uniquelocal allowed)');
  }
  return s;
}
