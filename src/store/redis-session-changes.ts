import type { Cluster, Redis } from 'ioredis';
import type { SessionChangeListener, SessionChangeWatch } from './store.js';

// Hears the ids the session scripts publish when they write or delete a session, on a
// connection of its own (a subscribed connection can do nothing else). The watch is live
// only from a confirmed SUBSCRIBE to the next loss of that connection; each loss is a gap
// (messages published meanwhile are not replayed), which the listener answers by forgetting
// everything it holds.

export function watchSessionChanges(redis: Redis | Cluster, channel: string, listener: SessionChangeListener): SessionChangeWatch {
  const subscriber = redis.duplicate();
  let live = false;
  let closed = false;
  const lost = () => {
    if (live) listener.gap();
    live = false;
  };
  subscriber.on('error', () => {}); // the command connection reports outages
  subscriber.on('message', (from: string, id: string) => {
    if (from === channel) listener.changed(id);
  });
  subscriber.on('close', lost);
  subscriber.on('reconnecting', lost);
  subscriber.on('end', lost);
  subscriber.on('ready', () => {
    subscriber.subscribe(channel).then(
      () => {
        if (closed || subscriber.status !== 'ready') return;
        listener.gap(); // whatever came before this subscription is unknown
        live = true;
      },
      () => subscriber.disconnect(true), // try again from a fresh connection
    );
  });
  if (subscriber.status === 'wait') void subscriber.connect().catch(() => {});
  return {
    get live() {
      return live;
    },
    async close() {
      closed = true;
      lost();
      await subscriber.quit().catch(() => subscriber.disconnect());
    },
  };
}
