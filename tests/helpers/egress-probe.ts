// Probing the only door from inside an agent container: a node script run with
// `docker exec` (the base image may lack curl) that tries a direct TCP connection, a
// request through the egress proxy, or the mesh itself; and a host server that counts
// what reached it. Shared by the egress tests under runc and under gVisor.
import { createServer, type Server } from 'node:http';

// Runs in the container with node (the base image may lack curl). Modes:
//   tcp <host> <port>          a direct TCP connection, no proxy
//   get <absolute url>         a plain request through $HTTP_PROXY
//   connect <host:port> <path> a CONNECT tunnel through $HTTP_PROXY, then GET <path>
//   mesh                       GET $LEGION_MESH_URL/mesh/agent/config directly
export const PROBE = `
const http = require('http');
const net = require('net');
const [mode, a, b] = process.argv.slice(1);
const done = (line) => { console.log(line); process.exit(0); };
setTimeout(() => done(mode + ': probe timed out'), 8000);
const proxy = new URL(process.env.HTTP_PROXY || 'http://missing');
const auth = 'Basic ' + Buffer.from(decodeURIComponent(proxy.username) + ':' + decodeURIComponent(proxy.password)).toString('base64');
const readBody = (res, prefix) => { let body = ''; res.on('data', (d) => (body += d)); res.on('end', () => done(prefix + res.statusCode + ' ' + body.trim())); };
if (mode === 'tcp') {
  const socket = net.connect(Number(b), a);
  socket.on('connect', () => { socket.destroy(); done('tcp: connected'); });
  socket.on('error', (e) => done('tcp: ' + e.code));
} else if (mode === 'get') {
  const req = http.request({ host: proxy.hostname, port: proxy.port, path: a, headers: { 'proxy-authorization': auth } }, (res) => readBody(res, 'get: '));
  req.on('error', (e) => done('get: ' + e.code));
  req.end();
} else if (mode === 'connect') {
  const req = http.request({ host: proxy.hostname, port: proxy.port, method: 'CONNECT', path: a, headers: { 'proxy-authorization': auth } });
  req.on('connect', (res, socket) => {
    if (res.statusCode !== 200) return done('connect: ' + res.statusCode);
    let text = '';
    socket.on('data', (d) => (text += d));
    socket.on('end', () => done('connect: 200 ' + text.split('\\r\\n\\r\\n').slice(1).join('').trim()));
    socket.write('GET ' + b + ' HTTP/1.1\\r\\nHost: ' + a + '\\r\\nConnection: close\\r\\n\\r\\n');
  });
  req.on('error', (e) => done('connect: ' + e.code));
  req.end();
} else if (mode === 'mesh') {
  http.get(process.env.LEGION_MESH_URL + '/mesh/agent/config', (res) => readBody(res, 'mesh: ')).on('error', (e) => done('mesh: ' + e.code));
}
`;

/** A test server on every host address; counts the requests it saw. */
export async function hostServer(greeting: string): Promise<{ server: Server; port: number; hits: string[] }> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.url ?? '');
    res.end(`${greeting} ${req.url ?? ''}`);
  });
  await new Promise<void>((r) => server.listen(0, '0.0.0.0', r));
  const address = server.address();
  return { server, port: typeof address === 'object' && address ? address.port : 0, hits };
}
