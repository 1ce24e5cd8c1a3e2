// the shape of GET /auth/sessions' entries, as the gateway defines it (a type only: erased)
import type { SessionView } from '../../../src/session/user-sessions.js';
import { callGateway, clock, countdown, element } from './gateway.js';

// The logged-in part of the demo page: the session's idle and absolute time counting down,
// the gateway's refreshes of the access token (when and how many; never a token), and the
// user's sessions, each with an "End" button.

export interface User {
  sub: string;
  claims: { name?: unknown; email?: unknown };
  session: { expiresAt: string; idleExpiresAt: string };
  refreshes?: { lastAt: string | null; count: number };
}


let shown: User | undefined;

/** The countdowns and the refresh line of the current user (or nothing). */
export function showSession(user: User | undefined): void {
  shown = user;
  tick();
  const refresh = element('refreshes');
  if (!user?.refreshes) {
    refresh.textContent = '';
  } else if (user.refreshes.count === 0 || !user.refreshes.lastAt) {
    refresh.textContent = 'The gateway has not refreshed the access token yet (it does so on a call, shortly before the token expires).';
  } else {
    const times = user.refreshes.count === 1 ? 'once' : `${user.refreshes.count} times`;
    refresh.textContent = `The gateway refreshed the access token ${times}, last at ${clock(user.refreshes.lastAt)}.`;
  }
}

/** Every second: the time left; at zero the page asks the gateway again (onEnd). */
export function startCountdown(onEnd: () => void): void {
  setInterval(() => {
    if (tick() === 'ended') onEnd();
  }, 1000);
}

function tick(): 'running' | 'ended' | 'none' {
  const idle = element('idle-left');
  const absolute = element('absolute-left');
  if (!shown) {
    idle.textContent = '';
    absolute.textContent = '';
    return 'none';
  }
  const now = Date.now();
  const idleMs = Date.parse(shown.session.idleExpiresAt) - now;
  const absoluteMs = Date.parse(shown.session.expiresAt) - now;
  idle.textContent = countdown(idleMs);
  absolute.textContent = countdown(absoluteMs);
  return Math.min(idleMs, absoluteMs) <= 0 ? 'ended' : 'running';
}

/** The user's live sessions; `onEnded` after one was ended (the current one logs the page out). */
export async function showSessions(onEnded: (current: boolean) => Promise<void>): Promise<void> {
  const list = element('sessions');
  const res = await callGateway('/auth/sessions');
  if (res.status !== 200) {
    list.replaceChildren();
    return;
  }
  const { sessions } = (await res.json()) as { sessions: SessionView[] };
  list.replaceChildren(...sessions.map((s) => row(s, onEnded)));
}

function row(s: SessionView, onEnded: (current: boolean) => Promise<void>): HTMLLIElement {
  const li = document.createElement('li');
  li.dataset.sessionId = s.id;
  if (s.current) li.dataset.current = 'true';
  const what = document.createElement('span');
  const device = s.userAgent ? shortAgent(s.userAgent) : 'unknown browser';
  // the gateway notes lastSeenAt at most once a minute: this browser is simply "now"
  const seen = s.current ? 'active now' : `last seen ${clock(s.lastSeenAt)}`;
  what.textContent = `${s.current ? 'This browser' : device}: since ${clock(s.createdAt)}, ${seen}`;
  const end = document.createElement('button');
  end.className = 'end';
  end.textContent = s.current ? 'End (log out here)' : 'End';
  end.addEventListener('click', () => {
    end.disabled = true;
    void callGateway(`/auth/sessions/${encodeURIComponent(s.id)}`, { method: 'DELETE' }).then(() => onEnded(s.current));
  });
  li.append(what, ' ', end);
  return li;
}

/** "Chrome 120 on Linux" from a user agent string, roughly */
function shortAgent(ua: string): string {
  const browser = /(Edg|Firefox|Chrome|Safari|HeadlessChrome)\/(\d+)/.exec(ua);
  const os = /(Windows|Mac OS X|Android|iPhone|Linux)/.exec(ua);
  if (!browser) return ua.slice(0, 40);
  return `${browser[1]} ${browser[2]}${os ? ` on ${os[1]}` : ''}`;
}
