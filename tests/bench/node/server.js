// server.js - the Node peer of make bench: open-runtimes' architecture (a
// node:http server per container, each function's handler required once at
// start, nginx proxying to it over kept-alive upstream connections), with
// the same number of cluster workers as fnrun has FastCGI workers. It runs
// the very files fnrun runs (tests/bench/functions/*.js): a handler gets
// req.body (the body as a string), req.method, req.headers, and a res with
// send(body, status, headers) and json(value, status, headers).
//
//   node server.js PORT WORKERS FUNCTIONS_DIR
//
// Serves POST /invoke/bench/r/{hello,json,cpu} and GET /healthz on
// 127.0.0.1:PORT. Not part of the product.
'use strict';

const cluster = require('node:cluster');
const http = require('node:http');
const path = require('node:path');

const [port, workers, fnDir] = process.argv.slice(2);
const PREFIX = '/invoke/bench/r/';

if (cluster.isPrimary) {
	for (let i = 0; i < Number(workers); i++)
		cluster.fork();
	// A worker that dies is not replaced: the bench would rather see the
	// errors. TERM stops the workers, then the primary.
	process.on('SIGTERM', () => {
		for (const w of Object.values(cluster.workers))
			w.process.kill('SIGTERM');
		process.exit(0);
	});
} else {
	const handlers = {};
	for (const name of ['hello', 'json', 'cpu'])
		handlers[name] = require(path.resolve(fnDir, name + '.js'));

	const server = http.createServer((req, res) => {
		const chunks = [];
		req.on('data', (c) => chunks.push(c));
		req.on('end', () => {
			if (req.url === '/healthz') {
				res.end('ok');
				return;
			}
			const fn = req.url.startsWith(PREFIX) &&
			    Object.hasOwn(handlers, req.url.slice(PREFIX.length)) ?
			    handlers[req.url.slice(PREFIX.length)] : null;
			if (fn === null) {
				res.writeHead(404);
				res.end();
				return;
			}
			const send = (body, status = 200, headers = {}) => {
				res.writeHead(status, headers);
				res.end(body);
			};
			const out = {
				send,
				json: (v, status = 200, headers = {}) => send(JSON.stringify(v),
				    status, Object.assign({ 'Content-Type': 'application/json' }, headers)),
			};
			try {
				fn({ method: req.method, headers: req.headers,
				    body: Buffer.concat(chunks).toString('utf8') }, out);
			} catch (e) {
				res.writeHead(500);
				res.end(String(e));
			}
		});
	});
	// Longer than nginx's upstream keepalive_timeout, so nginx, not Node,
	// closes an idle kept connection (no request lost in the race).
	server.keepAliveTimeout = 120000;
	server.headersTimeout = 121000;
	server.listen(Number(port), '127.0.0.1');
}
