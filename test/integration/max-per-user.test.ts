import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestIdp } from '../helpers/idp.js';
import { call, type Instances } from '../helpers/instances.js';
import { loginThroughGateway } from '../helpers/login.js';
import { startCluster, type Cluster } from '../helpers/stack.js';

// session.maxPerUser on two instances sharing one Redis: a new login ends the user's oldest
// session (its refresh token revoked), and logins of one user racing on both instances
// never leave more than the cap.

const CAP = 2;

let cluster: Cluster;
let idp: TestIdp;
let instances: Instances;

beforeAll(async () => {
  cluster = await startCluster(2, {
    idp: { users: [{ username: 'carol', password: 'carol-pw', claims: { sub: 'carol' } }] },
    gateway: { config: { session: { maxPerUser: CAP } } },
  });
  ({ idp, instances } = cluster);
});

afterAll(() => cluster?.close());

const live = async (cookies: string[]) =>
  (await Promise.all(cookies.map((c, i) => call(`${instances.gateways[i % 2]!.url}/api/x`, c)))).map((r) => r.status === 200);

describe('session.maxPerUser', () => {
  it('ends the oldest session when a login goes past the cap, revoking its refresh token', async () => {
    const [gw0, gw1] = instances.gateways;
    const first = (await loginThroughGateway(gw0!.url)).sessionCookie;
    const second = (await loginThroughGateway(gw1!.url)).sessionCookie;
    expect(await live([first, second])).toEqual([true, true]);
    const revocations = idp.stats.revocations;
    const third = (await loginThroughGateway(gw0!.url)).sessionCookie;
    expect(await live([first, second, third])).toEqual([false, true, true]);
    expect(idp.stats.revocations).toBe(revocations + 1);
    const list = await call(`${gw1!.url}/auth/sessions`, third);
    expect((JSON.parse(list.body) as { sessions: unknown[] }).sessions).toHaveLength(CAP);
  });

  it('holds under concurrent logins of one user on both instances', async () => {
    const count = 6;
    const cookies = await Promise.all(Array.from({ length: count }, (_, i) =>
      loginThroughGateway(instances.gateways[i % 2]!.url, { username: 'carol', password: 'carol-pw' }).then((r) => r.sessionCookie)));
    const alive = (await live(cookies)).filter(Boolean).length;
    expect(alive).toBe(CAP);
    // the store agrees: the user's entries are the cap
    const survivor = cookies[(await live(cookies)).indexOf(true)]!;
    const list = await call(`${instances.gateways[0]!.url}/auth/sessions`, survivor);
    expect((JSON.parse(list.body) as { sessions: unknown[] }).sessions).toHaveLength(CAP);
  });
});
