/* Set: MDN's examples (Set, Set.prototype.*) and ECMAScript 2022 §24.2
 * edge cases. */
t('MDN: add/has/size', function () { var s = new Set(); s.add(1); s.add(5); s.add(5); s.add('some text'); var o = { a: 1, b: 2 }; s.add(o); s.add({ a: 1, b: 2 }); return [s.has(1), s.has(3), s.has(5), s.has(Math.sqrt(25)), s.has('Some Text'.toLowerCase()), s.has(o), s.size]; }, [true, false, true, true, true, true, 5]);
t('MDN: dedupe an array', function () { return Array.from(new Set([1, 2, 3, 4, 5, 5, 5, 2, 2, 3])); }, [1, 2, 3, 4, 5]);
t('from a string (code points)', function () { return Array.from(new Set('hello')); }, ['h', 'e', 'l', 'o']);
t('NaN once, -0 as +0', function () { var s = new Set([NaN, NaN, 0, -0]); var v = Array.from(s); return [s.size, v[0], 1 / v[1]]; }, [2, NaN, Infinity]);
t('add returns the set', function () { var s = new Set(); return s.add(1) === s; }, true);
t('delete', function () { var s = new Set([1, 2]); return [s.delete(1), s.delete(1), Array.from(s)]; }, [true, false, [2]]);
t('values, keys, entries', function () { var s = new Set(['a', 'b']); return [Array.from(s.values()), Array.from(s.keys()), Array.from(s.entries())]; }, [['a', 'b'], ['a', 'b'], [['a', 'a'], ['b', 'b']]]);
t('keys is values, iterator is values', function () { return [Set.prototype.keys === Set.prototype.values, Set.prototype[Symbol.iterator] === Set.prototype.values]; }, [true, true]);
t('forEach(value, value, set)', function () { var s = new Set(['x']), out; s.forEach(function (a, b, c) { out = [a, b, c === s]; }); return out; }, ['x', 'x', true]);
t('insertion order kept', function () { var s = new Set(); s.add('c'); s.add('a'); s.add('b'); s.add('c'); return Array.from(s); }, ['c', 'a', 'b']);
t('delete while iterating', function () { var s = new Set([1, 2, 3]), out = []; s.forEach(function (v) { out.push(v); s.delete(v + 1); }); return out; }, [1, 3]);
t('intersection (MDN)', function () { var a = new Set([1, 2, 3, 4]), b = new Set([3, 4, 5]); return Array.from(a).filter(function (x) { return b.has(x); }); }, [3, 4]);
t('clear', function () { var s = new Set([1]); s.clear(); return s.size; }, 0);
t('toStringTag', function () { return Object.prototype.toString.call(new Set()); }, '[object Set]');
throws('without new', function () { Set(); }, TypeError);
throws('not iterable', function () { new Set(1); }, TypeError);
throws('add on a Map', function () { Set.prototype.add.call(new Map(), 1); }, TypeError);
t('objects by identity', function () { var a = {}; var s = new Set([a, {}, a]); return s.size; }, 2);
t('JSON of a Set is {}', function () { return JSON.stringify(new Set([1])); }, '{}');
