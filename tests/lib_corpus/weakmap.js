/* WeakMap and WeakSet: MDN's examples and ECMAScript 2022 §24.3, §24.4
 * edge cases. fnrun's keep the value on the key under a hidden symbol. */
t('MDN: WeakMap get/set/has/delete', function () { var wm = new WeakMap(), o1 = {}, o2 = function () {}; wm.set(o1, 37); wm.set(o2, 'azerty'); var r = [wm.get(o1), wm.get(o2), wm.has(o2), wm.has({})]; wm.delete(o1); r.push(wm.get(o1), wm.has(o1)); return r; }, [37, 'azerty', true, false, undefined, false]);
t('WeakMap: undefined value', function () { var wm = new WeakMap(), o = {}; wm.set(o, undefined); return [wm.has(o), wm.get(o)]; }, [true, undefined]);
t('WeakMap: two maps, one key', function () { var a = new WeakMap(), b = new WeakMap(), k = {}; a.set(k, 1); b.set(k, 2); a.delete(k); return [a.has(k), b.get(k)]; }, [false, 2]);
t('WeakMap: constructor from entries', function () { var k = {}; return new WeakMap([[k, 'v']]).get(k); }, 'v');
t('WeakMap: set returns it', function () { var w = new WeakMap(); return w.set({}, 1) === w; }, true);
throws('WeakMap: primitive key', function () { new WeakMap().set('a', 1); }, TypeError);
throws('WeakMap: null key', function () { new WeakMap().set(null, 1); }, TypeError);
t('WeakMap: primitives are never there', function () { var w = new WeakMap(); return [w.get(1), w.has('a'), w.delete(null)]; }, [undefined, false, false]);
t('WeakMap: frozen keys', function () { var w = new WeakMap(), a = Object.freeze({}), b = Object.freeze([]); w.set(a, 1).set(b, 2); w.set(a, 3); var r = [w.get(a), w.get(b), w.delete(a), w.has(a)]; return r; }, [3, 2, true, false]);
t('WeakMap: key stays clean', function () { var k = { x: 1 }; new WeakMap().set(k, 1); return [Object.getOwnPropertyNames(k), Object.getOwnPropertySymbols(k).length, JSON.stringify(k)]; }, [['x'], 0, '{"x":1}']);
t('WeakMap: no size, no iteration', function () { var w = new WeakMap(); return [w.size, typeof w.forEach, typeof w.keys]; }, [undefined, 'undefined', 'undefined']);
t('WeakMap: private data (MDN)', function () { var priv = new WeakMap(); function P(n) { priv.set(this, { n: n }); } P.prototype.name = function () { return priv.get(this).n; }; return new P('x').name(); }, 'x');
t('WeakMap: toStringTag', function () { return Object.prototype.toString.call(new WeakMap()); }, '[object WeakMap]');
throws('WeakMap: without new', function () { WeakMap(); }, TypeError);
throws('WeakMap: get on a Map', function () { WeakMap.prototype.get.call(new Map(), {}); }, TypeError);
t('WeakSet: add/has/delete (MDN)', function () { var ws = new WeakSet(), foo = {}, bar = {}; ws.add(foo); ws.add(bar); var r = [ws.has(foo), ws.has(bar)]; ws.delete(foo); r.push(ws.has(foo), ws.has(bar)); return r; }, [true, true, false, true]);
t('WeakSet: from an iterable', function () { var a = {}, b = {}; var ws = new WeakSet([a]); return [ws.has(a), ws.has(b)]; }, [true, false]);
throws('WeakSet: primitive', function () { new WeakSet().add(1); }, TypeError);
t('WeakSet: frozen', function () { var ws = new WeakSet(), f = Object.freeze({}); ws.add(f); return [ws.has(f), ws.delete(f), ws.has(f)]; }, [true, true, false]);
t('WeakSet and WeakMap on one key', function () { var k = {}, ws = new WeakSet([k]), wm = new WeakMap([[k, 1]]); ws.delete(k); return [ws.has(k), wm.get(k)]; }, [false, 1]);
t('WeakSet: toStringTag', function () { return Object.prototype.toString.call(new WeakSet()); }, '[object WeakSet]');
