// The demo SPA's live part (loaded by app.ts, shown while logged in): a WebSocket to the demo REST API's clock
// through the gateway (/live/clock: ticks every second, echoes what is sent) and its event
// stream (/api/events, read with fetch since EventSource cannot send x-csrf). When the
// session ends, in this tab or another, the gateway closes the socket with 4401 "session
// ended", which the page shows. Its own section of the page, built here.

function make<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}): HTMLElementTagNameMap[K] {
  return Object.assign(document.createElement(tag), props);
}

// the page's #live section, shown while logged in (app.ts: data-when)
const section = document.getElementById('live') ?? document.body.appendChild(make('section', { id: 'live' }));
const connect = make('button', { id: 'live-connect', textContent: 'Connect live' });
const echo = make('button', { id: 'live-echo', textContent: 'Send echo', disabled: true });
const socketState = make('p', { id: 'live-socket', className: 'muted', textContent: 'socket: not connected' });
const clock = make('pre', { id: 'live-clock' });
const streamState = make('p', { id: 'live-stream', className: 'muted', textContent: 'event stream: not connected' });
section.append(make('h2', { textContent: 'Live: WebSocket and event stream' }), connect, echo, socketState, clock, streamState);

let socket: WebSocket | undefined;
let stream: AbortController | undefined;

function openSocket(): void {
  const url = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/live/clock`;
  const ws = new WebSocket(url);
  socket = ws;
  socketState.textContent = 'socket: connecting';
  ws.addEventListener('open', () => {
    socketState.textContent = 'socket: open';
    section.dataset.socket = 'open';
    echo.disabled = false;
  });
  ws.addEventListener('message', (event: MessageEvent<string>) => {
    const message = JSON.parse(event.data) as { type: string; time?: string; text?: string };
    if (message.type === 'tick') clock.textContent = `tick ${message.time ?? ''}`;
    else socketState.textContent = `socket: open, echo "${message.text ?? ''}"`;
  });
  ws.addEventListener('close', (event) => {
    socketState.textContent = `socket: closed ${event.code}${event.reason ? ` "${event.reason}"` : ''}`;
    section.dataset.socket = `closed ${event.code}`;
    echo.disabled = true;
    if (socket === ws) socket = undefined;
  });
}

async function openStream(): Promise<void> {
  stream?.abort();
  const controller = (stream = new AbortController());
  const res = await fetch('/api/events', { headers: { 'x-csrf': '1' }, credentials: 'same-origin', signal: controller.signal });
  if (!res.ok || !res.body) {
    streamState.textContent = `event stream: ${res.status}`;
    return;
  }
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let events = 0;
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
    events += chunk.value.split('\n\n').filter((event) => event.includes('data:')).length;
    streamState.textContent = `event stream: ${events} events`;
    section.dataset.events = String(events);
  }
  streamState.textContent = `event stream: ended after ${events} events`;
}

connect.addEventListener('click', () => {
  socket?.close(1000);
  openSocket();
  openStream().catch((err: unknown) => {
    if (!(err instanceof DOMException && err.name === 'AbortError')) streamState.textContent = `event stream: ${String(err)}`;
  });
});
echo.addEventListener('click', () => socket?.send(`hello at ${new Date().toLocaleTimeString()}`));

export {};
