// bench.js - the njs peer of make bench: the workloads of
// tests/bench/functions/ written for nginx's JavaScript module (njs runs
// each request in a fresh clone of a VM made at start, inside the nginx
// worker processes). js_content reads the whole body before the handler
// runs. Not part of the product.

function hello(r) {
	r.return(200, "hello");
}

function json(r) {
	var p = JSON.parse(r.requestText);
	p.processed = true;
	p.at = Date.now();
	r.headersOut['Content-Type'] = 'application/json';
	r.return(200, JSON.stringify(p));
}

function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

function cpu(r) {
	r.return(200, String(fib(20)));
}

export default { hello, json, cpu };
