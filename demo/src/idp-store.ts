// In-memory storage for the demo identity provider (an oidc-provider adapter).
//
// oidc-provider's bundled MemoryAdapter is an LRU capped at 1000 entries, which
// silently evicts live tokens under load tests (a refresh token evicted looks like
// a revoked one), and it warns on every start. This one keeps everything until it
// expires, and also lets us add clients at run time (model "Client").
import type { Adapter, AdapterPayload } from 'oidc-provider';

interface Entry {
  payload: AdapterPayload;
  expiresAt: number; // epoch ms, Infinity when the entry does not expire
}

/** Models whose entries are removed when their grant is revoked. */
const GRANTABLE = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PreAuthorizedCode',
]);

const SWEEP_EVERY = 500; // writes between two sweeps of expired entries

export class IdpMemoryStore {
  readonly #entries = new Map<string, Entry>();
  readonly #grants = new Map<string, Set<string>>(); // grantId -> entry keys
  readonly #sessionUids = new Map<string, string>(); // session uid -> session id
  readonly #userCodes = new Map<string, string>(); // user code -> device code id
  #writes = 0;

  /** The factory for oidc-provider's `adapter` configuration. */
  readonly adapterFactory = (model: string): Adapter => this.#adapter(model);

  get(model: string, id: string): AdapterPayload | undefined {
    const key = `${model}:${id}`;
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.delete(model, id);
      return undefined;
    }
    return entry.payload;
  }

  set(model: string, id: string, payload: AdapterPayload, expiresIn?: number): void {
    this.delete(model, id);
    const key = `${model}:${id}`;
    const stored = structuredClone(payload);
    const expiresAt = typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : Infinity;
    this.#entries.set(key, { payload: stored, expiresAt });
    if (model === 'Session' && typeof stored.uid === 'string') this.#sessionUids.set(stored.uid, id);
    if (typeof stored.userCode === 'string') this.#userCodes.set(stored.userCode, id);
    if (GRANTABLE.has(model) && typeof stored.grantId === 'string') {
      let members = this.#grants.get(stored.grantId);
      if (!members) this.#grants.set(stored.grantId, (members = new Set()));
      members.add(key);
    }
    if (++this.#writes % SWEEP_EVERY === 0) this.#sweep();
  }

  delete(model: string, id: string): void {
    const key = `${model}:${id}`;
    const entry = this.#entries.get(key);
    if (!entry) return;
    this.#entries.delete(key);
    this.#unindex(key, id, entry.payload);
  }

  /** The ids of the live grants (model "Grant") of an account. */
  grantIdsOf(accountId: string): string[] {
    const ids: string[] = [];
    for (const key of this.#entries.keys()) {
      if (!key.startsWith('Grant:')) continue;
      const id = key.slice('Grant:'.length);
      if (this.get('Grant', id)?.accountId === accountId) ids.push(id);
    }
    return ids;
  }

  revokeByGrantId(grantId: string): void {
    const members = this.#grants.get(grantId);
    if (!members) return;
    this.#grants.delete(grantId);
    for (const key of members) {
      const entry = this.#entries.get(key);
      this.#entries.delete(key);
      if (entry) this.#unindex(key, key.slice(key.indexOf(':') + 1), entry.payload);
    }
  }

  #unindex(key: string, id: string, payload: AdapterPayload): void {
    if (typeof payload.uid === 'string' && this.#sessionUids.get(payload.uid) === id) {
      this.#sessionUids.delete(payload.uid);
    }
    if (typeof payload.userCode === 'string' && this.#userCodes.get(payload.userCode) === id) {
      this.#userCodes.delete(payload.userCode);
    }
    if (typeof payload.grantId === 'string') {
      const members = this.#grants.get(payload.grantId);
      members?.delete(key);
      if (members?.size === 0) this.#grants.delete(payload.grantId);
    }
  }

  #sweep(): void {
    const now = Date.now();
    for (const [key, entry] of this.#entries) {
      if (entry.expiresAt <= now) {
        const separator = key.indexOf(':');
        this.delete(key.slice(0, separator), key.slice(separator + 1));
      }
    }
  }

  #adapter(model: string): Adapter {
    const find = (id: string | undefined): AdapterPayload | undefined => {
      if (id === undefined) return undefined;
      const payload = this.get(model, id);
      return payload === undefined ? undefined : structuredClone(payload);
    };
    return {
      upsert: async (id, payload, expiresIn) => this.set(model, id, payload, expiresIn),
      find: async (id) => find(id),
      findByUid: async (uid) => find(this.#sessionUids.get(uid)),
      findByUserCode: async (userCode) => find(this.#userCodes.get(userCode)),
      consume: async (id) => {
        const payload = this.get(model, id);
        if (payload) payload.consumed = Math.floor(Date.now() / 1000);
      },
      destroy: async (id) => this.delete(model, id),
      revokeByGrantId: async (grantId) => this.revokeByGrantId(grantId),
    };
  }
}
