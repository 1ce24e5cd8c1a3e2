// The demo SPA (runs in the browser; compiled by tsc, served as /spa/app.js). It talks only
// to the gateway on its own origin, sends `x-csrf: 1` on every API call, and never holds a
// token: it shows who is logged in (GET /auth/user), what the backends saw (the subject and
// the fact that a bearer token arrived), and logs out (POST /auth/logout, then the IdP).

import './live.js'; // the WebSocket and event stream section (live.ts)

interface User {
  sub: string;
  claims: { name?: unknown; email?: unknown };
  session: { expiresAt: string; idleExpiresAt: string };
}

const SOAP_11 = 'http://schemas.xmlsoap.org/soap/envelope/';
const DEMO_SOAP_NS = 'urn:bff-gateway:demo:secrets'; // src/demo/soap-messages.ts

function element(id: string): HTMLElement {
  const found = document.getElementById(id);
  if (!found) throw new Error(`the page has no #${id}`);
  return found;
}

/** A call through the gateway: same origin, the session cookie goes by itself, plus x-csrf. */
function callGateway(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set('x-csrf', '1');
  return fetch(path, { ...init, headers, credentials: 'same-origin' });
}

function showResponse(status: number, body: string): void {
  element('out').textContent = `${status}\n${body}`;
}

/** Fills the "What the backend saw" list; values are set as text, never as HTML. */
function showBackend(entries: [string, string][]): void {
  const list = element('backend');
  list.replaceChildren();
  for (const [name, value] of entries) {
    const dt = document.createElement('dt');
    dt.textContent = name;
    const dd = document.createElement('dd');
    dd.textContent = value;
    list.append(dt, dd);
  }
}

function time(iso: string): string {
  return new Date(iso).toLocaleString();
}

async function showUser(): Promise<void> {
  const who = element('who');
  const session = element('session');
  const res = await callGateway('/auth/user');
  if (res.status !== 200) {
    who.textContent = 'Not logged in.';
    session.textContent = '';
    document.body.dataset.user = '';
    return;
  }
  const user = (await res.json()) as User;
  const name = typeof user.claims.name === 'string' ? user.claims.name : user.sub;
  who.textContent = `Logged in as ${name} (${user.sub}).`;
  session.textContent = `Session ends ${time(user.session.expiresAt)}, or after inactivity at ${time(user.session.idleExpiresAt)}.`;
  document.body.dataset.user = user.sub;
}

async function callRestApi(): Promise<void> {
  const res = await callGateway('/api/hello');
  const text = await res.text();
  showResponse(res.status, pretty(text));
  const body = parseJson(text);
  if (res.ok && body !== null) {
    showBackend([
      ['backend', 'REST API'],
      ['subject', String(body.subject)],
      ['bearer token received', body.bearerTokenReceived === true ? 'yes' : 'no'],
      ['path', String(body.path)],
    ]);
  } else {
    showBackend([['backend', 'REST API'], ['answer', `${res.status} ${String(body?.error ?? '')}`]]);
  }
  await showUser();
}

function getSecretEnvelope(): string {
  return `<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="${SOAP_11}">
  <soap:Body>
    <GetSecret xmlns="${DEMO_SOAP_NS}">
      <secretId>1</secretId>
    </GetSecret>
  </soap:Body>
</soap:Envelope>`;
}

async function callSoapApi(path: string): Promise<void> {
  const res = await callGateway(path, {
    method: 'POST',
    headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: `"${DEMO_SOAP_NS}/GetSecret"` },
    body: getSecretEnvelope(),
  });
  const text = await res.text();
  showResponse(res.status, text);
  showBackend([['backend', 'SOAP service'], ...soapAnswer(text)]);
  await showUser();
}

/** The leaf elements of the SOAP Body (or of its Fault), as name/text pairs. */
function soapAnswer(xml: string): [string, string][] {
  const doc = new DOMParser().parseFromString(xml, 'text/xml');
  const body = doc.getElementsByTagNameNS('*', 'Body')[0];
  if (!body) return [['answer', 'not a SOAP envelope']];
  const leaves = Array.from(body.getElementsByTagName('*')).filter((e) => e.children.length === 0);
  return leaves.map((e): [string, string] => [e.localName, e.textContent?.trim() ?? '']);
}

async function logout(): Promise<void> {
  const res = await callGateway('/auth/logout', { method: 'POST' });
  const body = parseJson(await res.text());
  showResponse(res.status, JSON.stringify({ loggedOut: res.ok }, null, 2));
  // logoutUrl ends the session at the identity provider too, which then sends the browser back
  if (typeof body?.logoutUrl === 'string') window.location.assign(body.logoutUrl);
  else await showUser();
}

function parseJson(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function pretty(text: string): string {
  const json = parseJson(text);
  return json === null ? text : JSON.stringify(json, null, 2);
}

/** Runs a click handler; a failure shows in the page instead of disappearing. */
function onClick(id: string, handler: () => Promise<void> | void): void {
  element(id).addEventListener('click', () => {
    Promise.resolve()
      .then(handler)
      .catch((err: unknown) => showResponse(0, `the call failed: ${err instanceof Error ? err.message : String(err)}`));
  });
}

function start(): void {
  onClick('login', () => {
    window.location.assign(`/auth/login?returnTo=${encodeURIComponent(window.location.pathname)}`);
  });
  onClick('call', callRestApi);
  onClick('logout', logout);
  const soapPath = document.body.dataset.soapPath;
  if (soapPath) {
    const soap = element('soap');
    soap.hidden = false;
    onClick('soap', () => callSoapApi(soapPath));
  }
  void showUser().then(() => document.body.setAttribute('data-ready', 'true'));
}

start();

export {};
