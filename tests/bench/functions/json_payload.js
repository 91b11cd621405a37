// json-payload: the json workload reading fnrun's parsed req.payload
// instead of parsing req.body itself (fnrun only: the peers have no
// req.payload).
module.exports = function (req, res) {
	var p = req.payload;
	p.processed = true;
	p.at = Date.now();
	res.send(JSON.stringify(p), 200, { "Content-Type": "application/json" });
};
