import type { GatewayConfig } from '../config/types.js';

/**
 * Route features the contract names that this version does not serve yet. Starting with
 * them would silently forward the wrong token (or none), so start-up refuses them by name.
 */
export function unsupportedRouteFeatures(config: GatewayConfig): string[] {
  return config.routes.flatMap((route, i) => {
    const at = `routes[${i}]`;
    const problems: string[] = [];
    if (route.soap) problems.push(`${at}.soap: SOAP injection is not supported by this version yet`);
    if (route.scope !== undefined) problems.push(`${at}.scope: downscoped tokens are not supported by this version yet`);
    if (route.token !== 'session' && route.token !== 'none') {
      problems.push(`${at}.token: token sources ("${route.token}") are not supported by this version yet`);
    }
    return problems;
  });
}
