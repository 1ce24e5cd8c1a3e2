// What the demo SPA's scripts share: the page's elements and calls to the gateway (same
// origin, the session cookie goes by itself, plus x-csrf on every call).

export function element(id: string): HTMLElement {
  const found = document.getElementById(id);
  if (!found) throw new Error(`the page has no #${id}`);
  return found;
}

export function callGateway(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set('x-csrf', '1');
  return fetch(path, { ...init, headers, credentials: 'same-origin' });
}

/**
 * Why the gateway answered 401, from its `WWW-Authenticate: BFF-Session error="…"` (README,
 * "The SPA's 401s"); undefined for any other answer, including an upstream's own 401.
 */
export function sessionProblem(res: Response): 'unauthenticated' | 'session_expired' | undefined {
  if (res.status !== 401) return undefined;
  const challenge = res.headers.get('www-authenticate') ?? '';
  if (!challenge.startsWith('BFF-Session')) return undefined;
  return /error="session_expired"/.test(challenge) ? 'session_expired' : 'unauthenticated';
}

export function parseJson(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export function pretty(text: string): string {
  const json = parseJson(text);
  return json === null ? text : JSON.stringify(json, null, 2);
}

/** "1:02:03", "4:05", "0:09" */
export function countdown(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

export function clock(iso: string): string {
  return new Date(iso).toLocaleTimeString();
}
