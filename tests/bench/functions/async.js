// async: hello from a promise reaction, what "async function (req, res)"
// lowers to: the event loop and the Promise library on the hot path.
module.exports = function (req, res) {
	return Promise.resolve("hello").then(function (s) { res.send(s); });
};
