/*
 * lower_driver.js - the compiler heap's entry point (sandbox/lower/lower.c):
 * given TypeScript's `ts` (typescript.js, run after the library), it
 * evaluates to function lower(src, typescript) that lowers one uploaded
 * source to the ECMAScript 5.1 the engine runs, and returns either
 *   { code, lines }  the lowered code, and its line map: one decimal per
 *                    line of code, "\n"-terminated, the line of src it
 *                    came from (0: a helper the lowering added)
 * or
 *   { error: 'syntax' | 'unsupported', message, line, column }
 * with line and column (1-based) in src as uploaded. What TypeScript cannot
 * lower for this engine is refused here, never left to fail at run time.
 * Transpiling only: types are erased, never checked.
 */
(function (ts) {
	'use strict';

	var K = ts.SyntaxKind;
	var f = ts.factory;
	var OPTIONS = {
		target: ts.ScriptTarget.ES5,
		module: ts.ModuleKind.CommonJS,
		downlevelIteration: true,
		sourceMap: true,
		newLine: ts.NewLineKind.LineFeed
	};

	function isPlainFunction(n) {
		switch (n.kind) {
		case K.FunctionDeclaration:
		case K.FunctionExpression:
		case K.MethodDeclaration:
		case K.Constructor:
		case K.GetAccessor:
		case K.SetAccessor:
			return true;
		}
		return false;
	}

	function isAsync(n) {
		var m = n.modifiers, i;

		for (i = 0; m && i < m.length; i++)
			if (m[i].kind === K.AsyncKeyword)
				return true;
		return false;
	}

	/* Why a regular expression cannot run on the engine, or null:
	 * Duktape's RegExp is ECMAScript 5.1's, flags g, i and m only, no
	 * lookbehind and no named groups. */
	function regexpProblem(body, flags) {
		var bad = /[^gim]/.exec(flags), inClass = false, i, c, d;

		if (bad !== null)
			return 'the regular expression flag "' + bad[0] + '"';
		for (i = 0; i < body.length; i++) {
			c = body.charAt(i);
			if (c === '\\') {
				i++;
			} else if (inClass) {
				if (c === ']')
					inClass = false;
			} else if (c === '[') {
				inClass = true;
			} else if (c === '(' && body.substr(i + 1, 2) === '?<') {
				d = body.charAt(i + 3);
				return d === '=' || d === '!' ?
				    'regular expression lookbehind' :
				    'named groups in regular expressions';
			}
		}
		return null;
	}

	/* The text of a string literal argument, or null; an absent flags
	 * argument is "". */
	function literalArg(args, i) {
		var a = args !== undefined ? args[i] : undefined;

		if (a === undefined)
			return i === 1 ? '' : null;
		if (a.kind === K.StringLiteral ||
		    a.kind === K.NoSubstitutionTemplateLiteral)
			return a.text;
		return null;
	}

	function where(sf, pos) {
		var lc = ts.getLineAndCharacterOfPosition(sf, pos);

		return { pos: pos, line: lc.line + 1, column: lc.character + 1 };
	}

	/* The identifier child of node that names a property, not a value: a
	 * use of BigInt or require is never one. */
	function propertyName(node) {
		var name;

		switch (node.kind) {
		case K.PropertyAssignment:
		case K.PropertyDeclaration:
		case K.PropertySignature:
		case K.MethodDeclaration:
		case K.MethodSignature:
		case K.GetAccessor:
		case K.SetAccessor:
		case K.EnumMember:
		case K.PropertyAccessExpression:
		case K.QualifiedName:
			name = node.kind === K.QualifiedName ? node.right : node.name;
			return name !== undefined && name.kind === K.Identifier ?
			    name : undefined;
		}
		return undefined;
	}

	/* The first construct of sf, in source order, that cannot be lowered
	 * for the engine, as { pos, line, column, what }, or null. */
	function findUnsupported(sf) {
		var found = null, functions = 0;

		function report(node, what) {
			found = where(sf, node.getStart(sf));
			found.what = what;
		}
		function call(node) {
			var e = node.expression, p, fl;

			if (e.kind === K.ImportKeyword)
				return report(node, 'import()');
			if (e.kind !== K.Identifier)
				return;
			if (e.escapedText === 'require' && node.kind === K.CallExpression)
				return report(node, 'require');
			if (e.escapedText === 'RegExp') {
				p = literalArg(node.arguments, 0);
				fl = literalArg(node.arguments, 1);
				if (p !== null && fl !== null &&
				    (p = regexpProblem(p, fl)) !== null)
					report(node, p);
			}
		}
		function visit(node) {
			var text, end, fn, name;

			if (found !== null)
				return true;
			switch (node.kind) {
			case K.BigIntLiteral:
				report(node, 'BigInt');
				break;
			case K.RegularExpressionLiteral:
				text = node.text;
				end = text.lastIndexOf('/');
				if ((text = regexpProblem(text.slice(1, end),
				    text.slice(end + 1))) !== null)
					report(node, text);
				break;
			case K.ImportDeclaration:
			case K.ImportEqualsDeclaration:
				report(node, 'import');
				break;
			case K.ExportDeclaration:
				if (node.moduleSpecifier !== undefined)
					report(node, 'export ... from (an import)');
				break;
			case K.MetaProperty:
				if (node.keywordToken === K.ImportKeyword)
					report(node, 'import.meta');
				break;
			case K.CallExpression:
			case K.NewExpression:
				call(node);
				break;
			case K.Identifier:
				if (node.escapedText === 'BigInt')
					report(node, 'BigInt');
				return false;
			case K.ForOfStatement:
				if (node.awaitModifier !== undefined)
					report(node, 'for await');
				break;
			case K.AwaitExpression:
				if (functions === 0)
					report(node, 'top-level await');
				break;
			}
			if (found !== null)
				return true;
			fn = ts.isFunctionLike(node) || node.kind === K.ClassStaticBlockDeclaration;
			if (fn) {
				if (node.asteriskToken !== undefined && isAsync(node)) {
					report(node, 'async generators');
					return true;
				}
				functions++;
			}
			name = propertyName(node);
			ts.forEachChild(node, function (child) {
				return child !== name && visit(child);
			});
			if (fn)
				functions--;
			return found !== null;
		}
		visit(sf);
		return found;
	}

	/*
	 * TypeScript lowers an arrow function to a function expression and
	 * leaves `arguments` in it as it is, which then names the arrow's own
	 * arguments instead of the enclosing function's (it says so only when
	 * type checking: TS2496). Run before TypeScript's own transformers,
	 * this gives each function whose arrows use `arguments` a
	 * `var _arguments = arguments;` and makes the arrows use that. Inside a
	 * generator or an async function TypeScript moves the body into a
	 * callback, where `arguments` is the callback's: refused, like an
	 * arrow's `arguments` outside any function (state.problem).
	 * The same pass finds the constructs the engine cannot run
	 * (findUnsupported) on the source as parsed.
	 */
	function lowerCheck(state) {
		return function (context) {
			return function (sf) {
				var frame = null, arrows = 0;

				function problem(node, what) {
					var pos = node.pos >= 0 ? node.getStart(sf) : 0;

					if (state.problem === null || pos < state.problem.pos) {
						state.problem = where(sf, pos);
						state.problem.what = what;
					}
				}
				/* The name standing for the enclosing function's
				 * arguments, for an arrow's `arguments`. */
				function capture(node) {
					if (frame === null || !frame.inBody) {
						problem(node, '`arguments` in an arrow ' +
						    'function outside any function');
						return node;
					}
					if (frame.generated) {
						problem(node, '`arguments` in a generator or ' +
						    'async function (use a rest parameter)');
						return node;
					}
					if (frame.name === null)
						frame.name = f.createUniqueName('_arguments');
					return frame.name;
				}
				function visitBody(node) {
					var out, decl;

					frame.inBody = true;
					out = ts.visitEachChild(node, visit, context);
					frame.inBody = false;
					if (frame.name === null)
						return out;
					decl = f.createVariableStatement(undefined, [
					    f.createVariableDeclaration(frame.name, undefined,
					    undefined, f.createIdentifier('arguments'))]);
					return f.updateBlock(out, [decl].concat(out.statements));
				}
				function visitFunction(node) {
					var saved = frame, savedArrows = arrows, out;

					frame = { body: node.body, name: null, inBody: false,
					    generated: node.asteriskToken !== undefined ||
					    isAsync(node) };
					arrows = 0;
					out = ts.visitEachChild(node, visit, context);
					frame = saved;
					arrows = savedArrows;
					return out;
				}
				function visit(node) {
					var out;

					if (isPlainFunction(node))
						return visitFunction(node);
					if (frame !== null && node === frame.body)
						return visitBody(node);
					switch (node.kind) {
					case K.ArrowFunction:
						arrows++;
						out = ts.visitEachChild(node, visit, context);
						arrows--;
						return out;
					case K.Identifier:
						if (node.escapedText !== 'arguments')
							return node;
						if (arrows > 0)
							return capture(node);
						if (frame !== null && frame.generated)
							problem(node, '`arguments` in a generator ' +
							    'or async function (use a rest parameter)');
						return node;
					case K.PropertyAccessExpression:
						out = ts.visitNode(node.expression, visit);
						return ts.isPropertyAccessChain(node) ?
						    f.updatePropertyAccessChain(node, out,
						    node.questionDotToken, node.name) :
						    f.updatePropertyAccessExpression(node, out,
						    node.name);
					case K.PropertyAssignment:
						return f.updatePropertyAssignment(node, node.name,
						    ts.visitNode(node.initializer, visit));
					case K.ShorthandPropertyAssignment:
						if (arrows > 0 &&
						    node.name.escapedText === 'arguments')
							return f.createPropertyAssignment('arguments',
							    capture(node.name));
						return node;
					}
					return ts.visitEachChild(node, visit, context);
				}
				var bad = findUnsupported(sf);

				if (bad !== null)
					state.problem = bad;
				return ts.visitNode(sf, visit);
			};
		};
	}

	/*
	 * The engine holds a character outside the Basic Multilingual Plane as
	 * one code point, not two surrogates, so TypeScript's \uXXXX escaping
	 * of the strings it makes (a template literal turned into a string)
	 * would keep only its low 16 bits: U+1F600 would become \uF600. Strings
	 * are printed as they are instead; the code stays UTF-8.
	 */
	function keepText(context) {
		function visit(node) {
			if (node.kind === K.StringLiteral ||
			    ts.isTemplateLiteralKind(node.kind))
				ts.addEmitFlags(node, ts.EmitFlags.NoAsciiEscaping);
			return ts.visitEachChild(node, visit, context);
		}
		return function (sf) {
			return ts.visitNode(sf, visit);
		};
	}

	/* Line i of code -> the line of the source it came from, as the map's
	 * text. A line with no mapping of its own belongs to the statement
	 * above it; lines before the first mapping are helpers (0). */
	function lineMap(code, mapText) {
		var n = code.split('\n').length, line = [], it, r, m, last = 0, i;

		for (i = 0; i < n; i++)
			line.push(-1);
		it = ts.decodeMappings(JSON.parse(mapText).mappings);
		for (r = it.next(); !r.done; r = it.next()) {
			m = r.value;
			if (m.sourceLine !== undefined && m.generatedLine < n &&
			    line[m.generatedLine] === -1)
				line[m.generatedLine] = m.sourceLine + 1;
		}
		for (i = 0; i < n; i++) {
			if (line[i] === -1)
				line[i] = last;
			else
				last = line[i];
		}
		return line.join('\n') + '\n';
	}

	return function lower(src, typescript) {
		var state = { problem: null };
		var out, d, i, at, code, p;

		out = ts.transpileModule(src, {
			compilerOptions: OPTIONS,
			fileName: typescript ? 'function.ts' : 'function.js',
			reportDiagnostics: true,
			transformers: { before: [lowerCheck(state)], after: [keepText] }
		});
		for (i = 0; i < out.diagnostics.length; i++) {
			d = out.diagnostics[i];
			if (d.category !== ts.DiagnosticCategory.Error ||
			    d.file === undefined)
				continue;
			at = where(d.file, d.start);
			return { error: 'syntax', line: at.line, column: at.column,
			    message: 'SyntaxError: ' + ts.flattenDiagnosticMessageText(
			    d.messageText, ' ') + ' (line ' + at.line + ')' };
		}
		if ((p = state.problem) !== null)
			return { error: 'unsupported', line: p.line, column: p.column,
			    message: p.what + ' cannot run on this engine (line ' +
			    p.line + ')' };
		code = out.outputText.replace(/\/\/# sourceMappingURL=[^\n]*\n?$/, '');
		return { code: code, lines: lineMap(code, out.sourceMapText) };
	};
})
