// json: what a forwarding hook does, written as users write it: parse the
// body, add two fields, answer the result.
module.exports = function (req, res) {
	var p = JSON.parse(req.body);
	p.processed = true;
	p.at = Date.now();
	res.send(JSON.stringify(p), 200, { "Content-Type": "application/json" });
};
