// cpu: the engine's speed on plain calls and arithmetic, fib(20) = 6765.
function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
module.exports = function (req, res) { res.send(String(fib(20))); };
