// The demo identity provider's own interaction pages (oidc-provider's
// devInteractions are disabled): a plain HTML login form that, once the password
// checks out, also grants consent for everything the client asked for, so the
// browser goes straight back to the client's redirect_uri.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Interaction, InteractionResults, Provider } from 'oidc-provider';

export interface DemoUser {
  username: string;
  password: string;
  claims: { sub: string; name?: string; email?: string; [claim: string]: unknown };
}

const MAX_FORM_BYTES = 64 * 1024;
const ROUTE = /^\/interaction\/([\w-]+)(?:\/(login|abort))?$/;

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function htmlPage(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: sans-serif; max-width: 24em; margin: 3em auto">
${body}
</body>
</html>`;
}

function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(html),
  });
  res.end(html);
}

function loginForm(uid: string, clientId: string, error?: string, username = ''): string {
  const action = `/interaction/${encodeURIComponent(uid)}`;
  return htmlPage('Sign in', `<h1>Sign in</h1>
<p>to continue to <strong>${escapeHtml(clientId)}</strong></p>
${error ? `<p role="alert" class="error" style="color: #b00">${escapeHtml(error)}</p>` : ''}
<form id="login" method="post" action="${action}/login" autocomplete="off">
  <p><label>Username <input type="text" name="username" value="${escapeHtml(username)}" required autofocus></label></p>
  <p><label>Password <input type="password" name="password" required></label></p>
  <p><button type="submit" id="submit">Sign in</button></p>
</form>
<form id="abort" method="post" action="${action}/abort"><button type="submit">Cancel</button></form>`);
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > MAX_FORM_BYTES) throw new Error('form too large');
    chunks.push(buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** Claim names requested with the OIDC `claims` parameter (id_token and userinfo members). */
function requestedClaims(claimsParam: unknown): string[] {
  if (typeof claimsParam !== 'string') return [];
  try {
    const parsed: unknown = JSON.parse(claimsParam);
    if (typeof parsed !== 'object' || parsed === null) return [];
    const names = new Set<string>();
    for (const member of [Reflect.get(parsed, 'id_token'), Reflect.get(parsed, 'userinfo')]) {
      if (typeof member === 'object' && member !== null) Object.keys(member).forEach((n) => names.add(n));
    }
    return [...names];
  } catch {
    return [];
  }
}

/** Creates or extends the account's grant with everything the authorization request asked for. */
async function grantEverything(provider: Provider, interaction: Interaction, accountId: string): Promise<string> {
  const { params, prompt } = interaction;
  const clientId = String(params.client_id);
  const existing = interaction.grantId ? await provider.Grant.find(interaction.grantId) : undefined;
  const grant = existing?.accountId === accountId ? existing : new provider.Grant({ accountId, clientId });

  const scopes = new Set(typeof params.scope === 'string' ? params.scope.split(' ') : []);
  prompt.details.missingOIDCScope?.forEach((s) => scopes.add(s));
  if (scopes.size > 0) grant.addOIDCScope([...scopes].join(' '));

  const claims = new Set(requestedClaims(params.claims));
  prompt.details.missingOIDCClaims?.forEach((c) => claims.add(c));
  if (claims.size > 0) grant.addOIDCClaims([...claims]);

  for (const [indicator, list] of Object.entries(prompt.details.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, list.join(' '));
  }
  return grant.save();
}

/**
 * Returns a request handler for /interaction/... paths: it answers and returns true
 * for those, and returns false (without touching the response) for anything else.
 */
export function createInteractionHandler(provider: Provider, users: readonly DemoUser[]) {
  const finish = (req: IncomingMessage, res: ServerResponse, result: InteractionResults) =>
    provider.interactionFinished(req, res, result, { mergeWithLastSubmission: !result.error });

  async function handle(req: IncomingMessage, res: ServerResponse, uid: string, action: string | undefined) {
    const interaction = await provider.interactionDetails(req, res);
    if (interaction.uid !== uid) throw new Error('interaction mismatch');
    const clientId = String(interaction.params.client_id);

    if (req.method === 'GET' && action === undefined) {
      if (interaction.prompt.name === 'login') return sendHtml(res, 200, loginForm(uid, clientId));
      // Any other prompt (consent): the demo user agrees to everything.
      const accountId = interaction.session?.accountId;
      if (!accountId) throw new Error('consent prompt without a logged-in account');
      return finish(req, res, { consent: { grantId: await grantEverything(provider, interaction, accountId) } });
    }
    if (req.method === 'POST' && action === 'abort') {
      return finish(req, res, { error: 'access_denied', error_description: 'End-User aborted interaction' });
    }
    if (req.method === 'POST' && action === 'login') {
      const form = await readForm(req);
      const username = form.get('username') ?? '';
      const user = users.find((u) => u.username === username);
      if (!user || user.password !== (form.get('password') ?? '')) {
        return sendHtml(res, 200, loginForm(uid, clientId, 'Invalid username or password.', username));
      }
      const accountId = user.claims.sub;
      const grantId = await grantEverything(provider, interaction, accountId);
      return finish(req, res, { login: { accountId }, consent: { grantId } });
    }
    sendHtml(res, 405, htmlPage('Method not allowed', '<h1>Method not allowed</h1>'));
  }

  return async function interactionHandler(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const path = new URL(req.url ?? '/', 'http://idp.invalid').pathname;
    const match = ROUTE.exec(path);
    if (!match?.[1]) return false;
    try {
      await handle(req, res, match[1], match[2]);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (!res.headersSent) {
        sendHtml(res, 400, htmlPage('Sign-in failed', `<h1>Sign-in failed</h1><p class="error">${escapeHtml(message)}</p>`));
      } else {
        res.destroy();
      }
    }
    return true;
  };
}
