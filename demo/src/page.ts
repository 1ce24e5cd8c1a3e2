// The demo SPA's HTML shell. The behaviour is demo/src/spa/app.ts (compiled by tsc to
// dist/demo/src/spa/app.js and served by web.ts as /spa/app.js). The page talks only to
// the gateway (same origin), sends the x-csrf header, and never sees a token.

export interface DemoPageOptions {
  /** the gateway path of the demo SOAP API; no SOAP button without it */
  soapPath?: string;
}

function attribute(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function demoPage(opts: DemoPageOptions = {}): string {
  const soap = opts.soapPath === undefined ? '' : ` data-soap-path="${attribute(opts.soapPath)}"`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>bff-gateway demo</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font: 15px/1.5 system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
  h1 { font-size: 1.4rem; }
  h2 { font-size: 1.05rem; margin-top: 1.6rem; }
  button { font: inherit; padding: .4rem .9rem; margin: 0 .4rem .4rem 0; cursor: pointer; }
  button[hidden] { display: none; }
  pre { background: #f4f4f4; padding: .8rem; border-radius: 4px; white-space: pre-wrap; min-height: 2.5rem; }
  .muted { color: #666; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
  dt { font-weight: 600; }
  dd { margin: 0; font-variant-numeric: tabular-nums; }
  [hidden] { display: none !important; }
  .note { color: #8a4b00; min-height: 1.5em; margin: 0; }
  #sessions { padding-left: 1.2rem; }
  #sessions li { margin: .2rem 0; }
  #sessions li[data-current] span { font-weight: 600; }
  #sessions button.end { padding: .1rem .6rem; margin: 0; }
</style>
<script type="module" src="/spa/app.js"></script>
</head>
<body${soap} data-state="checking">
<h1>bff-gateway demo</h1>
<p id="who" class="muted">Checking your session…</p>
<p id="note" class="note"></p>
<p>
  <button id="login" data-when="anonymous" hidden>Log in</button>
  <button id="call" data-when="user" hidden>Call API</button>
  <button id="soap" data-when="never" hidden>Call SOAP API</button>
  <button id="logout" data-when="user" hidden>Log out</button>
  <button id="logout-all" data-when="user" hidden>Log out everywhere</button>
</p>
<section id="session" data-when="user" hidden>
  <h2>Your session</h2>
  <dl>
    <dt>Ends after inactivity in</dt><dd id="idle-left"></dd>
    <dt>Ends at the latest in</dt><dd id="absolute-left"></dd>
  </dl>
  <p id="refreshes" class="muted"></p>
  <h2>Your sessions</h2>
  <ul id="sessions"></ul>
</section>
<section id="live" data-when="user" hidden></section>
<h2>What the backend saw</h2>
<dl id="backend"><dt>backend</dt><dd class="muted">no call yet</dd></dl>
<h2>Last response</h2>
<pre id="out"></pre>
<p class="muted">This page never holds a token: the gateway keeps them and adds the access
token to the calls it forwards (<code>Authorization: Bearer …</code>, or inside the SOAP envelope).</p>
</body>
</html>
`;
}
