/*
 * crypto.js - the `crypto` global of SPEC §11, from the Web Cryptography
 * API: crypto.getRandomValues, crypto.randomUUID, and crypto.subtle's
 * digest (SHA-1, SHA-256, SHA-384, SHA-512) and HMAC importKey('raw'),
 * exportKey('raw'), sign and verify, which return promises and reject
 * with the standard's error names. What the standard says of argument
 * checks and their order is followed; every byte of cryptography is in
 * lib_crypto.c (OpenSSL), whose natives are:
 *   native.promise()              the library's Promise (loads it)
 *   native.size(x)                byte length of a BufferSource, or -1
 *   native.random(view)           fills view; false when over 65536 bytes
 *   native.uuid()                 a version 4 UUID
 *   native.digest(hash, data)     ArrayBuffer
 *   native.seal(key, data, hash, slots)  makes key a CryptoKey: a copy
 *                                 of data and hash where no script reads
 *                                 them; slots is what this file checks
 *                                 and (slots.shown) what the key shows
 *   native.slots(key)             slots of a CryptoKey, else undefined
 *   native.sign(key, data)        HMAC: ArrayBuffer
 *   native.verify(key, sig, data) HMAC compared in constant time: boolean
 *   native.exportRaw(key)         ArrayBuffer copy of the key's bytes
 * Errors that the standard makes DOMExceptions are Errors with its name
 * and legacy code (there is no DOMException in the engine).
 * ECMAScript 5.1 only.
 */
(function (native) {
	'use strict';

	var DIGESTS = ['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512'];
	var USAGES = ['encrypt', 'decrypt', 'sign', 'verify', 'deriveKey',
	    'deriveBits', 'wrapKey', 'unwrapKey'];
	var FORMATS = ['raw', 'spki', 'pkcs8', 'jwk'];
	var HMAC_USAGES = ['sign', 'verify'];
	/* DOMException's legacy codes of the names used here. */
	var CODES = { TypeMismatchError: 17, QuotaExceededError: 22,
	    NotSupportedError: 9, SyntaxError: 12, InvalidAccessError: 15,
	    DataError: 0, OperationError: 0 };
	var INTEGER_ARRAYS = [Int8Array.prototype, Uint8Array.prototype,
	    Uint8ClampedArray.prototype, Int16Array.prototype,
	    Uint16Array.prototype, Int32Array.prototype, Uint32Array.prototype];
	var getPrototypeOf = Object.getPrototypeOf;
	var isView = ArrayBuffer.isView;
	var Promise;

	function define(obj, name, value) {
		Object.defineProperty(obj, name, { value: value, writable: true,
		    configurable: true, enumerable: false });
	}

	function domError(name, message) {
		var e = new Error(message);

		define(e, 'name', name);
		define(e, 'code', CODES[name]);
		return e;
	}

	/* A promise of what op returns; whatever op throws rejects it, as
	 * WebIDL makes every exception of a promise-returning operation. */
	function run(op) {
		if (Promise === undefined)
			Promise = native.promise();
		return new Promise(function (resolve) { resolve(op()); });
	}

	function requireArgs(args, n, what) {
		if (args.length < n)
			throw new TypeError(what + ': ' + n + ' arguments required, ' +
			    'but only ' + args.length + ' present');
	}

	function requireBytes(x, what) {
		if (native.size(x) < 0)
			throw new TypeError(what + ' must be an ArrayBuffer, a ' +
			    'typed array or a DataView');
		return x;
	}

	/* WebIDL [EnforceRange] unsigned long. */
	function unsignedLong(x, what) {
		var n = Number(x);

		if (!isFinite(n))
			throw new TypeError(what + ' is not a finite number');
		n = n < 0 ? Math.ceil(n) : Math.floor(n);
		if (n < 0 || n > 4294967295)
			throw new TypeError(what + ' is out of range');
		return n;
	}

	function enumValue(list, x, what) {
		var s = String(x);

		if (list.indexOf(s) < 0)
			throw new TypeError("'" + s + "' is not a valid " + what);
		return s;
	}

	/* Web Cryptography API "normalize an algorithm": a name, or an
	 * object with one, matched without regard to case against the names
	 * the operation supports (names maps upper case to canonical). */
	function normalize(alg, names, op) {
		var name, canon;

		if (alg === null || typeof alg !== 'object')
			alg = { name: String(alg) };
		if (alg.name === undefined)
			throw new TypeError(op + ": the algorithm's name is required");
		name = String(alg.name);
		canon = names[name.toUpperCase()];
		if (canon === undefined)
			throw domError('NotSupportedError', op + ": algorithm '" +
			    name + "' is not supported");
		return { name: canon, params: alg };
	}

	function canonical(list) {
		var m = Object.create(null), i;

		for (i = 0; i < list.length; i++)
			m[list[i].toUpperCase()] = list[i];
		return m;
	}

	var DIGEST_NAMES = canonical(DIGESTS);
	var HMAC_NAMES = canonical(['HMAC']);

	/* A sequence<KeyUsage>, without duplicates, in the standard's order. */
	function usageList(x) {
		var seen = {}, out = [], i;

		if (!Array.isArray(x))
			throw new TypeError('keyUsages must be an array');
		for (i = 0; i < x.length; i++)
			seen[enumValue(USAGES, x[i], 'key usage')] = true;
		for (i = 0; i < USAGES.length; i++)
			if (seen[USAGES[i]])
				out.push(USAGES[i]);
		return out;
	}

	function CryptoKey() {
		throw new TypeError('Illegal constructor');
	}

	function slotsOf(key, what) {
		var s = native.slots(key);

		if (s === undefined)
			throw new TypeError(what + ' is not a CryptoKey');
		return s;
	}

	function keyGetter(name) {
		Object.defineProperty(CryptoKey.prototype, name, {
			get: function () { return slotsOf(this, 'this').shown[name]; },
			enumerable: true, configurable: true });
	}
	keyGetter('type');
	keyGetter('extractable');
	keyGetter('algorithm');
	keyGetter('usages');
	function tag(obj, name) {
		if (typeof Symbol === 'function' && Symbol.toStringTag)
			Object.defineProperty(obj, Symbol.toStringTag,
			    { value: name, configurable: true });
	}
	tag(CryptoKey.prototype, 'CryptoKey');

	function digest(algorithm, data) {
		var args = arguments;

		return run(function () {
			requireArgs(args, 2, 'digest');
			requireBytes(data, 'data');
			return native.digest(normalize(algorithm, DIGEST_NAMES,
			    'digest').name, data);
		});
	}

	function importKey(format, keyData, algorithm, extractable, keyUsages) {
		var args = arguments;

		return run(function () {
			var alg, hash, usages, bits, length, key, can, i;

			requireArgs(args, 5, 'importKey');
			format = enumValue(FORMATS, format, 'key format');
			if (format === 'jwk') {
				if (keyData === null || typeof keyData !== 'object')
					throw new TypeError('keyData must be a JsonWebKey');
			} else
				requireBytes(keyData, 'keyData');
			usages = usageList(keyUsages);
			alg = normalize(algorithm, HMAC_NAMES, 'importKey');
			if (alg.params.hash === undefined)
				throw new TypeError("importKey: HMAC needs a 'hash'");
			hash = normalize(alg.params.hash, DIGEST_NAMES,
			    'importKey').name;
			for (i = 0; i < usages.length; i++)
				if (HMAC_USAGES.indexOf(usages[i]) < 0)
					throw domError('SyntaxError', "importKey: an HMAC " +
					    "key cannot be used to '" + usages[i] + "'");
			if (format !== 'raw')
				throw domError('NotSupportedError', "importKey: format '" +
				    format + "' is not supported for HMAC (only 'raw')");
			bits = native.size(keyData) * 8;
			if (bits === 0)
				throw domError('DataError', 'importKey: the key is empty');
			length = bits;
			if (alg.params.length !== undefined) {
				length = unsignedLong(alg.params.length, 'length');
				if (length === 0 || length > bits || length <= bits - 8)
					throw domError('DataError', 'importKey: length ' +
					    length + ' does not fit a key of ' + bits +
					    ' bits');
			}
			if (usages.length === 0)
				throw domError('SyntaxError', 'importKey: a secret key ' +
				    'needs at least one usage');
			/* What the checks read is apart from what the key shows,
			 * which the function may change. */
			can = Object.create(null);
			for (i = 0; i < usages.length; i++)
				can[usages[i]] = true;
			key = Object.create(CryptoKey.prototype);
			native.seal(key, keyData, hash, {
				name: 'HMAC',
				extractable: !!extractable,
				can: can,
				shown: {
					type: 'secret',
					extractable: !!extractable,
					algorithm: { name: 'HMAC', length: length,
					    hash: { name: hash } },
					usages: usages
				}
			});
			return key;
		});
	}

	function exportKey(format, key) {
		var args = arguments;

		return run(function () {
			var s;

			requireArgs(args, 2, 'exportKey');
			format = enumValue(FORMATS, format, 'key format');
			s = slotsOf(key, 'key');
			if (format !== 'raw')
				throw domError('NotSupportedError', "exportKey: format '" +
				    format + "' is not supported (only 'raw')");
			if (!s.extractable)
				throw domError('InvalidAccessError', 'exportKey: the key ' +
				    'is not extractable');
			return native.exportRaw(key);
		});
	}

	/* The checks sign and verify share: the key's algorithm and usage. */
	function keyFor(algorithm, key, usage, op) {
		var alg = normalize(algorithm, HMAC_NAMES, op), s = slotsOf(key, 'key');

		if (s.name !== alg.name)
			throw domError('InvalidAccessError', op + ': the key is not ' +
			    'an ' + alg.name + ' key');
		if (s.can[usage] !== true)
			throw domError('InvalidAccessError', op + ": the key's usages " +
			    "do not include '" + usage + "'");
	}

	function sign(algorithm, key, data) {
		var args = arguments;

		return run(function () {
			requireArgs(args, 3, 'sign');
			requireBytes(data, 'data');
			keyFor(algorithm, key, 'sign', 'sign');
			return native.sign(key, data);
		});
	}

	function verify(algorithm, key, signature, data) {
		var args = arguments;

		return run(function () {
			requireArgs(args, 4, 'verify');
			requireBytes(signature, 'signature');
			requireBytes(data, 'data');
			keyFor(algorithm, key, 'verify', 'verify');
			return native.verify(key, signature, data);
		});
	}

	function isIntegerArray(view) {
		var p = view;

		while ((p = getPrototypeOf(p)) !== null)
			if (INTEGER_ARRAYS.indexOf(p) >= 0)
				return true;
		return false;
	}

	function getRandomValues(array) {
		requireArgs(arguments, 1, 'getRandomValues');
		if (array === null || typeof array !== 'object' || !isView(array))
			throw new TypeError('getRandomValues: the argument must be ' +
			    'an integer typed array');
		if (!isIntegerArray(array))
			throw domError('TypeMismatchError', 'getRandomValues: the ' +
			    'argument must be an integer typed array');
		if (!native.random(array))
			throw domError('QuotaExceededError', 'getRandomValues: ' +
			    native.size(array) + ' bytes exceed the limit of 65536');
		return array;
	}

	var subtle = {}, crypto = {};

	define(subtle, 'digest', digest);
	define(subtle, 'importKey', importKey);
	define(subtle, 'exportKey', exportKey);
	define(subtle, 'sign', sign);
	define(subtle, 'verify', verify);
	define(crypto, 'getRandomValues', getRandomValues);
	define(crypto, 'randomUUID', function () { return native.uuid(); });
	Object.defineProperty(crypto, 'subtle', { value: subtle,
	    enumerable: true, configurable: true });
	tag(subtle, 'SubtleCrypto');
	tag(crypto, 'Crypto');

	return { crypto: crypto };
})
