/* Object.entries/values/fromEntries: MDN's examples and ECMAScript 2022
 * §20.1.2 edge cases. */
t('MDN: entries', function () { return Object.entries({ a: 'somestring', b: 42 }); }, [['a', 'somestring'], ['b', 42]]);
t('MDN: values', function () { return Object.values({ a: 'somestring', b: 42, c: false }); }, ['somestring', 42, false]);
t('entries of an array-like', function () { return Object.entries({ 0: 'a', 1: 'b', 2: 'c' }); }, [['0', 'a'], ['1', 'b'], ['2', 'c']]);
t('entries of a string', function () { return Object.entries('ab'); }, [['0', 'a'], ['1', 'b']]);
t('entries of a number', function () { return Object.entries(5); }, []);
t('entries skip non-enumerable and inherited', function () { var o = Object.create({ inh: 1 }, { hid: { value: 2, enumerable: false } }); o.own = 3; return Object.entries(o); }, [['own', 3]]);
t('values skip symbols', function () { var o = { a: 1 }; o[Symbol('s')] = 2; return Object.values(o); }, [1]);
t('entries run getters', function () { return Object.entries({ get g() { return 'got'; } }); }, [['g', 'got']]);
t('entries see a property deleted by a getter', function () { var o = { get a() { delete this.b; return 1; }, b: 2 }; return Object.entries(o); }, [['a', 1]]);
throws('entries of null', function () { Object.entries(null); }, TypeError);
throws('values of undefined', function () { Object.values(); }, TypeError);
t('MDN: fromEntries(Map)', function () { return Object.fromEntries(new Map([['foo', 'bar'], ['baz', 42]])); }, { foo: 'bar', baz: 42 });
t('MDN: fromEntries(array)', function () { return Object.fromEntries([['0', 'a'], ['1', 'b']]); }, { 0: 'a', 1: 'b' });
t('MDN: transform an object', function () { return Object.fromEntries(Object.entries({ a: 1, b: 2 }).map(function (e) { return [e[0], e[1] * 2]; })); }, { a: 2, b: 4 });
t('fromEntries: __proto__ is a property', function () { var o = Object.fromEntries([['__proto__', { x: 1 }]]); return [Object.getPrototypeOf(o) === Object.prototype, Object.keys(o)]; }, [true, ['__proto__']]);
t('fromEntries: last wins', function () { return Object.fromEntries([['a', 1], ['a', 2]]); }, { a: 2 });
t('fromEntries: keys are strings', function () { return Object.keys(Object.fromEntries([[1, 'x'], [null, 'y']])); }, ['1', 'null']);
t('fromEntries: symbol keys', function () { var s = Symbol('s'); return Object.fromEntries([[s, 1]])[s]; }, 1);
throws('fromEntries: entry not an object', function () { Object.fromEntries(['a']); }, TypeError);
throws('fromEntries: null', function () { Object.fromEntries(null); }, TypeError);
t('over a query (real-world)', function () { var q = { b: '2', a: '1' }; return Object.entries(q).map(function (e) { return e[0] + '=' + e[1]; }).join('&'); }, 'b=2&a=1');
throws('entries is not a constructor', function () { return new Object.entries({}); }, TypeError);
