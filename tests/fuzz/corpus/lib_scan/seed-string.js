/* String.prototype.padStart/padEnd/trimStart/trimEnd/at/replaceAll:
 * MDN's examples and ECMAScript 2022 §22.1.3 edge cases. */
t('MDN: padStart', function () { return ['abc'.padStart(10), 'abc'.padStart(10, 'foo'), 'abc'.padStart(6, '123465'), 'abc'.padStart(8, '0'), 'abc'.padStart(1)]; }, ['       abc', 'foofoofabc', '123abc', '00000abc', 'abc']);
t('MDN: padEnd', function () { return ['abc'.padEnd(10), 'abc'.padEnd(10, 'foo'), 'abc'.padEnd(6, '123456'), 'abc'.padEnd(1)]; }, ['abc       ', 'abcfoofoof', 'abc123', 'abc']);
t('pad with empty filler', function () { return ['a'.padStart(5, ''), 'a'.padEnd(5, '')]; }, ['a', 'a']);
t('pad length coerced', function () { return ['a'.padStart('3', 'x'), 'a'.padStart(NaN, 'x'), 'a'.padStart(-1, 'x'), 'a'.padStart(3.9, 'x')]; }, ['xxa', 'a', 'a', 'xxa']);
t('pad filler coerced', function () { return ['1'.padStart(3, 0), 'a'.padEnd(4, null)]; }, ['001', 'anul']);
t('pad a number (generic)', function () { return String.prototype.padStart.call(7, 3, '0'); }, '007');
throws('padStart on null', function () { String.prototype.padStart.call(null, 1); }, TypeError);
t('card mask (MDN)', function () { var last4 = '2034399002125581'.slice(-4); return last4.padStart(16, '*'); }, '************5581');
t('MDN: trimStart/trimEnd', function () { var g = '   Hello world!   '; return [g.trimStart(), g.trimEnd()]; }, ['Hello world!   ', '   Hello world!']);
t('trim all whitespace kinds', function () { var ws = '\t\n\v\f\r \u00a0\u2028\u2029\ufeff'; return [(ws + 'x' + ws).trimStart(), (ws + 'x' + ws).trimEnd() === ws + 'x']; }, ['x\t\n\v\f\r \u00a0\u2028\u2029\ufeff', true]);
t('trim empty and blank', function () { return [''.trimStart(), '   '.trimEnd(), 'x'.trimStart()]; }, ['', '', 'x']);
t('trimEnd keeps inner repeats', function () { return 'ab ab  '.trimEnd(); }, 'ab ab');
t('trimStart where the rest repeats earlier', function () { return '  a a'.trimStart(); }, 'a a');
t('MDN: at', function () { var s = 'The quick brown fox jumps over the lazy dog.'; return [s.at(5), s.at(-4), s.at(100), s.at(-100), 'abc'.at(), 'abc'.at('1')]; }, ['u', 'd', undefined, undefined, 'a', 'b']);
t('at is a code unit', function () { return '\ud83d\ude00'.at(0) === '\ud83d'; }, true);
t('MDN: replaceAll', function () { return ['aabbcc'.replaceAll('b', '.'), 'aabbcc'.replaceAll(/b/g, '.')]; }, ['aa..cc', 'aa..cc']);
throws('replaceAll: non-global regexp', function () { 'aabbcc'.replaceAll(/b/, '.'); }, TypeError);
t('replaceAll: special characters are literal', function () { return ['a.b.c'.replaceAll('.', '-'), 'a+b'.replaceAll('+', ' '), '(x)'.replaceAll('(', '[')]; }, ['a-b-c', 'a b', '[x)']);
t('replaceAll: empty search', function () { return ['xxx'.replaceAll('', '_'), ''.replaceAll('', '_')]; }, ['_x_x_x_', '_']);
t('replaceAll: non-overlapping', function () { return 'aaaa'.replaceAll('aa', 'b'); }, 'bb');
t('replaceAll: substitution patterns', function () { return ['abc'.replaceAll('b', '[$&]'), 'abc'.replaceAll('b', '$`'), "abc".replaceAll('b', "$'"), 'abc'.replaceAll('b', '$$'), 'abc'.replaceAll('b', '$1'), 'abc'.replaceAll('b', '$')]; }, ['a[b]c', 'aac', 'acc', 'a$c', 'a$1c', 'a$c']);
t('replaceAll: function replacer', function () { var calls = []; var r = 'x-x'.replaceAll('x', function (m, off, s) { calls.push([m, off, s]); return off; }); return [r, calls]; }, ['0-2', [['x', 0, 'x-x'], ['x', 2, 'x-x']]]);
t('replaceAll: no match', function () { return 'abc'.replaceAll('z', 'y'); }, 'abc');
t('replaceAll: search coerced', function () { return ['a1b1'.replaceAll(1, 2), 'nullx'.replaceAll(null, '')]; }, ['a2b2', 'x']);
t('replaceAll: regexp with function', function () { return 'a1b2'.replaceAll(/\d/g, function (d) { return d * 2; }); }, 'a2b4');
t('replaceAll: template (real-world)', function () { return 'Hello {name}, {name}!'.replaceAll('{name}', 'Ada'); }, 'Hello Ada, Ada!');
t('methods not enumerable on String.prototype', function () { var out = []; for (var k in new String('')) out.push(k); return out; }, []);
