// The demo SPA (runs in the browser; compiled by tsc, served as /spa/app.js with its modules).
// It talks only to the gateway on its own origin, sends `x-csrf: 1` on every API call, and
// never holds a token. It shows its state with only the actions that fit it: logged out
// (Log in), logged in (call the APIs, the session's countdowns and refreshes, the user's
// sessions, log out here or everywhere). At start-up it tries a silent login once per tab
// (`/auth/login?prompt=none`) before offering "Log in"; a 401 is read as README's "The SPA's
// 401s" says. The live WebSocket panel (live.ts) fills #live.

import { callGateway, element, parseJson, pretty, sessionProblem } from './gateway.js';
import './live.js'; // the WebSocket and event stream section (#live)
import { showSession, showSessions, startCountdown, type User } from './session-panel.js';

const SOAP_11 = 'http://schemas.xmlsoap.org/soap/envelope/';
const DEMO_SOAP_NS = 'urn:bff-gateway:demo:secrets'; // demo/src/soap-messages.ts
/** sessionStorage: a silent login was tried in this tab (so it never loops) */
const SILENT_TRIED = 'bff-demo:silent-login-tried';

type State = 'checking' | 'anonymous' | 'user';

function setState(state: State, note = ''): void {
  document.body.dataset.state = state;
  document.querySelectorAll<HTMLElement>('[data-when]').forEach((el) => (el.hidden = el.dataset.when !== state));
  element('note').textContent = note;
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

/** Asks the gateway who is logged in and shows the state that follows. */
async function showUser(note = ''): Promise<User | undefined> {
  const res = await callGateway('/auth/user');
  if (res.status !== 200) {
    document.body.dataset.user = '';
    element('who').textContent = 'Not logged in.';
    showSession(undefined);
    element('sessions').replaceChildren();
    setState('anonymous', note || (sessionProblem(res) === 'session_expired' ? 'Your session expired.' : ''));
    return undefined;
  }
  const user = (await res.json()) as User;
  const name = typeof user.claims.name === 'string' ? user.claims.name : user.sub;
  element('who').textContent = `Logged in as ${name} (${user.sub}).`;
  document.body.dataset.user = user.sub;
  showSession(user);
  setState('user', note);
  await showSessions(sessionEnded);
  return user;
}

async function sessionEnded(current: boolean): Promise<void> {
  await showUser(current ? 'You ended this session.' : '');
}

/** After any API call: a gateway 401 means the session is gone (say why); else refresh the panel. */
async function afterCall(res: Response): Promise<void> {
  const problem = sessionProblem(res);
  if (problem === 'session_expired' && trySilentLogin()) return;
  await showUser(problem === undefined ? '' : `The gateway answered 401 ${problem}.`);
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
  await afterCall(res);
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
  await afterCall(res);
}

/** The leaf elements of the SOAP Body (or of its Fault), as name/text pairs. */
function soapAnswer(xml: string): [string, string][] {
  const doc = new DOMParser().parseFromString(xml, 'text/xml');
  const body = doc.getElementsByTagNameNS('*', 'Body')[0];
  if (!body) return [['answer', 'not a SOAP envelope']];
  const leaves = Array.from(body.getElementsByTagName('*')).filter((e) => e.children.length === 0);
  return leaves.map((e): [string, string] => [e.localName, e.textContent?.trim() ?? '']);
}

async function logout(everywhere: boolean): Promise<void> {
  const res = await callGateway(everywhere ? '/auth/logout?all=true' : '/auth/logout', { method: 'POST' });
  const body = parseJson(await res.text());
  showResponse(res.status, JSON.stringify({ loggedOut: res.ok, everywhere }, null, 2));
  // logoutUrl ends the session at the identity provider too, which then sends the browser back
  if (typeof body?.logoutUrl === 'string') window.location.assign(body.logoutUrl);
  else await showUser();
}

function login(): void {
  window.location.assign(`/auth/login?returnTo=${encodeURIComponent(window.location.pathname)}`);
}

/** A silent login (no page at the IdP), once per tab; false when it was tried already. */
function trySilentLogin(): boolean {
  if (sessionStorage.getItem(SILENT_TRIED)) return false;
  sessionStorage.setItem(SILENT_TRIED, '1');
  setState('checking', 'Trying a silent login…');
  window.location.assign(`/auth/login?prompt=none&returnTo=${encodeURIComponent(window.location.pathname)}`);
  return true;
}

/** Runs a click handler; a failure shows in the page instead of disappearing. */
function onClick(id: string, handler: () => Promise<void> | void): void {
  element(id).addEventListener('click', () => {
    Promise.resolve()
      .then(handler)
      .catch((err: unknown) => showResponse(0, `the call failed: ${err instanceof Error ? err.message : String(err)}`));
  });
}

async function start(): Promise<void> {
  onClick('login', login);
  onClick('call', callRestApi);
  onClick('logout', () => logout(false));
  onClick('logout-all', () => logout(true));
  const soapPath = document.body.dataset.soapPath;
  if (soapPath) {
    element('soap').dataset.when = 'user';
    onClick('soap', () => callSoapApi(soapPath));
  }
  startCountdown(() => void showUser('The session timed out.'));
  setState('checking');
  // back from a silent login that did not work: the IdP's error is in the query
  const query = new URLSearchParams(window.location.search);
  const silentError = query.get('error');
  if (silentError !== null) window.history.replaceState(null, '', window.location.pathname);
  const user = await showUser(silentError === null ? '' : `Silent login: ${silentError}. Log in to continue.`);
  if (!user && silentError === null && trySilentLogin()) return;
  document.body.setAttribute('data-ready', 'true');
}

void start();

export {};
