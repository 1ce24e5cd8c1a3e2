// The demo SPA: one static page. It talks only to the gateway (same origin), sends the
// x-csrf header, and never sees a token: it shows what /auth/user and the APIs answer.
export const DEMO_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>bff-gateway demo</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font: 15px/1.5 system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
  h1 { font-size: 1.4rem; }
  button { font: inherit; padding: .4rem .9rem; margin: 0 .4rem .4rem 0; cursor: pointer; }
  pre { background: #f4f4f4; padding: .8rem; border-radius: 4px; white-space: pre-wrap; min-height: 2.5rem; }
  .muted { color: #666; }
</style>
</head>
<body>
<h1>bff-gateway demo</h1>
<p id="who" class="muted">Checking your session…</p>
<p>
  <button id="login">Log in</button>
  <button id="call">Call API</button>
  <button id="logout">Log out</button>
</p>
<h2>Last response</h2>
<pre id="out"></pre>
<script>
const $ = (id) => document.getElementById(id);
const show = (status, body) => { $('out').textContent = status + '\\n' + JSON.stringify(body, null, 2); };
const api = (path, init = {}) => fetch(path, { ...init, headers: { 'x-csrf': '1', ...(init.headers || {}) } });

async function refreshUser() {
  const res = await api('/auth/user');
  if (res.status !== 200) { $('who').textContent = 'Not logged in.'; return; }
  const user = await res.json();
  $('who').textContent = 'Logged in as ' + (user.claims.name || user.sub) + ' (' + user.sub + '); session ends '
    + new Date(user.session.expiresAt).toLocaleString() + ', or after inactivity at '
    + new Date(user.session.idleExpiresAt).toLocaleTimeString() + '.';
}

$('login').onclick = () => { location.href = '/auth/login?returnTo=' + encodeURIComponent(location.pathname); };
$('call').onclick = async () => {
  const res = await api('/api/hello');
  show(res.status, await res.json().catch(() => null));
  refreshUser();
};
$('logout').onclick = async () => {
  const res = await api('/auth/logout', { method: 'POST' });
  const body = await res.json().catch(() => ({}));
  show(res.status, { loggedOut: res.ok });
  if (body.logoutUrl) location.href = body.logoutUrl; else refreshUser();
};
refreshUser();
</script>
</body>
</html>
`;
