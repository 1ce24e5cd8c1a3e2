// The node origin over HTTPS (argv: CERT_FILE KEY_FILE): the https:// upstream of the TLS
// rung, answering every request 200 "ok" as origin.ts does over plain http.
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { announce } from './announce.js';

const [cert, key] = process.argv.slice(2);
if (!cert || !key) throw new Error('usage: node origin-https.js CERT_FILE KEY_FILE');
const server = https.createServer({ cert: readFileSync(cert), key: readFileSync(key) }, (_request, response) => {
  response.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
  response.end('ok');
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => announce(server));
