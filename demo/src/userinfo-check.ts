// How the demo backends (REST and SOAP) check a token: they ask the identity provider's
// userinfo endpoint (found by discovery) whose token it is. Throws when the IdP cannot be asked.

export type TokenVerdict = { subject: string } | { invalid: true };

export function userinfoTokenCheck(issuer: string): (token: string) => Promise<TokenVerdict> {
  const base = issuer.replace(/\/$/, '');
  let userinfoEndpoint: string | undefined;

  async function discover(): Promise<string> {
    if (userinfoEndpoint) return userinfoEndpoint;
    const response = await fetch(`${base}/.well-known/openid-configuration`);
    if (!response.ok) throw new Error(`discovery answered ${response.status}`);
    const metadata: unknown = await response.json();
    const endpoint = typeof metadata === 'object' && metadata !== null ? Reflect.get(metadata, 'userinfo_endpoint') : undefined;
    if (typeof endpoint !== 'string') throw new Error('the issuer has no userinfo_endpoint');
    return (userinfoEndpoint = endpoint);
  }

  return async (token) => {
    // a token is one header-safe word; anything else cannot be one
    if (!/^[\x21-\x7e]+$/.test(token)) return { invalid: true };
    let response: Response;
    try {
      response = await fetch(await discover(), { headers: { authorization: `Bearer ${token}` } });
    } catch (e) {
      userinfoEndpoint = undefined; // discover again next time
      throw e;
    }
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel();
      return { invalid: true };
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new Error(`userinfo answered ${response.status}`);
    }
    const claims: unknown = await response.json();
    const sub = typeof claims === 'object' && claims !== null ? Reflect.get(claims, 'sub') : undefined;
    return typeof sub === 'string' ? { subject: sub } : { invalid: true };
  };
}
