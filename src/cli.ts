#!/usr/bin/env node
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import { listenGateway } from './management/listen.js';
import { ConfigError, loadConfigFile } from './config/load.js';
import type { GatewayConfig } from './config/types.js';
import { reloadTlsOnSighupAndChange } from './tls/sighup.js';

// bff-gateway [check] --config FILE
// Exit codes: 0 clean shutdown (or a valid config for `check`), 2 configuration error,
// 1 any other start-up failure.

const USAGE = 'usage: bff-gateway [check] --config FILE';
const DRAIN_TIMEOUT_MS = 10_000;

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  if (typeof args === 'string') {
    process.stderr.write(`${args}\n${USAGE}\n`);
    return 2;
  }
  let config: GatewayConfig;
  try {
    config = loadConfigFile(args.config);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    process.stderr.write(`configuration error in ${args.config}:\n${e.problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}\n`);
    return 2;
  }
  if (args.check) {
    process.stdout.write(`${args.config}: configuration is valid\n`);
    return 0;
  }
  return run(config);
}

async function run(config: GatewayConfig): Promise<number> {
  let app: FastifyInstance | undefined;
  let ports: { port: number; managementPort?: number };
  try {
    app = await buildApp(config, process.env.LOG_LEVEL ? { logLevel: process.env.LOG_LEVEL } : {});
    ports = await listenGateway(app, config);
  } catch (e) {
    await app?.close().catch(() => {});
    process.stderr.write(`bff-gateway failed to start: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  const { port, managementPort } = ports;
  const { management } = config.server;
  if (management && managementPort !== undefined) {
    app.log.info({ managementPort }, `management listener (/metrics, /admin) on ${management.host}:${managementPort}`);
  }
  app.log.info({ port, publicUrl: config.server.publicUrl }, `bff-gateway listening on ${config.server.host}:${port}`);
  reloadTlsOnSighupAndChange(app.log);
  return new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      app.log.info({ signal }, 'shutting down: draining in-flight requests');
      const force = setTimeout(() => {
        app.log.warn('drain timed out; closing remaining connections');
        app.server.closeAllConnections();
        app.management?.server.closeAllConnections();
      }, DRAIN_TIMEOUT_MS);
      force.unref();
      app.close().then(
        () => resolve(0),
        () => resolve(0),
      );
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}

function parseArgs(argv: string[]): { check: boolean; config: string } | string {
  let check = false;
  let config: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === 'check' && i === 0) check = true;
    else if (arg === '--config') config = argv[++i];
    else if (arg.startsWith('--config=')) config = arg.slice('--config='.length);
    else if (arg === '--help' || arg === '-h') return 'help';
    else return `unknown argument: ${arg}`;
  }
  return config ? { check, config } : 'missing --config FILE';
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`bff-gateway: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
