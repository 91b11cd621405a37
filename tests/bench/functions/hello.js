// hello: ignores the body it was posted and answers "hello".
module.exports = function (req, res) { res.send("hello"); };
