import type { FastifyInstance } from 'fastify';
import type { GatewayContext } from '../context.js';
import { backchannelLogoutRoute } from './backchannel-logout.js';
import { callbackRoute } from './callback.js';
import { loginRoute } from './login.js';
import { logoutRoute } from './logout.js';
import { userSessionRoutes } from './sessions.js';
import { userRoute } from './user.js';

/** The /auth endpoints, one file each. */
export function authRoutes(app: FastifyInstance, ctx: GatewayContext): void {
  loginRoute(app, ctx);
  callbackRoute(app, ctx);
  userRoute(app, ctx);
  logoutRoute(app, ctx);
  backchannelLogoutRoute(app, ctx);
  userSessionRoutes(app, ctx);
}
