/*
 * sandbox.h - one Duktape heap holding one function version: creation with
 * the capped allocator, the execution deadline, compile + top-level run +
 * handler lookup, and calls. Nothing runs user code outside a sandbox.
 *
 * The deadline here is Duktape's own (checked between bytecode
 * instructions). Native work that never returns to the executor (regexp
 * backtracking, JSON of huge values) is bounded by watchdog.c instead.
 */
#ifndef FNRUN_SANDBOX_H
#define FNRUN_SANDBOX_H

#include <stddef.h>

#include "outbound.h"
#include "outcome.h"

/* The file name code is compiled under: stack traces show it. */
#define SANDBOX_FILENAME	"function.js"

/* The form sandbox_load compiles a source to, part of the engine build
 * that keys cached bytecode (cache.c): "m1", a module function (its
 * top-level declarations are the module's); before it, sources were
 * compiled as programs, whose bytecode must never load as a module
 * function. Change it whenever the form changes. */
#define SANDBOX_CODE_FORM	"m1"

/* SPEC §6 defaults of the limits a zero field of sandbox_limits stands
 * for (sandbox_new fills them in). */
#define SANDBOX_HEADERS_MAX		100
#define SANDBOX_HEADER_BYTES_MAX	65536
#define SANDBOX_LOG_ENTRIES_MAX		1000
/* SPEC §6: an error answer's message and stack, each; longer ones are cut
 * and end with a marker. */
#define SANDBOX_ERROR_TEXT_MAX		16384
#define SANDBOX_TRUNCATED_MARKER	"... [fnrun: truncated]"

struct sandbox_limits {
	size_t		memory_bytes;	/* heap cap */
	unsigned	timeout_ms;	/* the top level's budget, and the call's */
	size_t		response_max;	/* body bytes res.send may produce */
	size_t		log_max;	/* console bytes kept per call */
	/* Zero: the SANDBOX_*_MAX default. */
	size_t		headers_max;	/* response headers per answer */
	size_t		header_bytes_max; /* their names and values, in all */
	size_t		log_entries_max; /* console entries kept per call */
};


struct sandbox_kv {
	const char	*name;
	const char	*value;
	size_t		 value_len;
};

/* What a handler sees as req (SPEC §5). Pointers are borrowed. */
struct sandbox_request {
	const char		*method;
	const char		*path;
	const struct sandbox_kv	*query;
	size_t			 nquery;
	const struct sandbox_kv	*headers;	/* lower-case, secrets removed */
	size_t			 nheaders;
	const char		*body;
	size_t			 body_len;
	const struct sandbox_kv	*env;
	size_t			 nenv;
	/* What fetch obeys (SPEC §12); NULL: the defaults, with no
	 * project list. */
	const struct outbound_conf *net;
};

struct sandbox_header {
	char	*name;
	char	*value;
};

/* Everything is owned by the result; free with sandbox_result_free. */
struct sandbox_result {
	enum outcome	 outcome;
	/* For errors; at most SANDBOX_ERROR_TEXT_MAX bytes and the marker. */
	char			 message[SANDBOX_ERROR_TEXT_MAX +
				    sizeof(SANDBOX_TRUNCATED_MARKER)];
	int			 line;		/* OUT_SYNTAX_ERROR, OUT_UNSUPPORTED_SYNTAX:
						 * 1-based, 0 unknown */
	int			 column;	/* the same, when known (else 0) */
	char			*stack;		/* OUT_FUNCTION_ERROR, or NULL;
						 * bounded like message */
	int			 status;	/* OUT_OK */
	struct sandbox_header	*headers;
	size_t			 nheaders;
	char			*body;
	size_t			 body_len;
	/* The call's outbound requests, whatever its outcome. */
	struct outbound_records	 fetches;
};

struct sandbox_log_entry {
	const char	*level;		/* "log", "info", "warn", "error", "debug" */
	char		*message;
	size_t		 len;
	int		 cut;		/* the first len bytes of a longer one */
};

struct sandbox_log {
	struct sandbox_log_entry	*entries;
	size_t				 n;
	size_t				 cap;	/* entries allocated */
	size_t				 bytes;
	int				 truncated;
};

struct sandbox;

/* The process-wide reaction to a Duktape fatal error (an error outside any
 * protected call). It must not return: Duktape's state is undefined then.
 * The default aborts. */
void	sandbox_set_fatal_handler(void (*fn)(const char *msg));

/* Creates a heap with the globals a function may see (console, module,
 * exports; no Duktape, no require). Returns NULL when the heap cannot be
 * created within limits. Free with sandbox_free. */
struct sandbox	*sandbox_new(const struct sandbox_limits *lim);
void		 sandbox_free(struct sandbox *sb);

/* Gives a heap made by sandbox_new ahead of need (a spare: nothing loaded
 * yet) the limits of the function it is for: its memory cap applies from
 * now, the other limits from its next load or call. Returns 0, or -1
 * (sb unchanged) when the heap already holds more than lim's cap. */
int		 sandbox_set_limits(struct sandbox *sb,
		    const struct sandbox_limits *lim);

/* Shrinks a loaded heap that is kept for more calls: a full mark-and-sweep
 * that frees the compiler's and the calls' garbage and compacts property
 * tables. Runs no user code; meant for after an answer is sent. */
void		 sandbox_compact(struct sandbox *sb);

/* Whether src[0..len) is valid UTF-8, as every source must be (the
 * compiler of sandbox/lower would otherwise see U+FFFD where the bytes
 * were). Returns 0, or -1 with res an OUT_SYNTAX_ERROR naming the line. */
int		 sandbox_source_utf8(const char *src, size_t len,
		    struct sandbox_result *res);

/* Gives sb the line map of the lowered code it will load (the map's text,
 * sandbox_lines.h): from then on the lines in its errors (messages,
 * stacks, res->line) are those of the source as uploaded. Returns 0, or
 * -1 when the text is not a map (sb then has none). */
int		 sandbox_set_lines(struct sandbox *sb, const char *text,
		    size_t len);

/* Compiles src as the body of a module function (parameters module and
 * exports, like a CommonJS module in Node), runs its top level once and
 * finds its handler (exports.default function, else module.exports
 * function, else a function named action in the module's scope or, failing
 * that, a global one).
 * When dump is not NULL, the module function's bytecode is returned in a
 * malloc'd *dump the caller frees (NULL if dumping failed). Returns 0, or
 * -1 with res->outcome one of OUT_SYNTAX_ERROR, OUT_NO_HANDLER,
 * OUT_FUNCTION_ERROR, OUT_TIMEOUT, OUT_MEMORY_LIMIT. */
int		 sandbox_load(struct sandbox *sb, const char *src, size_t len,
		    const char *filename, void **dump, size_t *dump_len,
		    struct sandbox_result *res);

/* As sandbox_load, from bytecode made by sandbox_load's dump. The bytes
 * must come from this build and be verified (cache.c): Duktape does not
 * validate bytecode. Bytecode that is not a module function (a program
 * of an older build) is refused: OUT_FUNCTION_ERROR. */
int		 sandbox_load_bytecode(struct sandbox *sb, const void *bc,
		    size_t len, struct sandbox_result *res);

/* Calls the handler with req and a fresh res. Returns 0 when the handler
 * sent an answer (res->outcome OUT_OK), else -1 with the outcome set. The
 * heap should be discarded after any outcome but OUT_OK. */
int		 sandbox_call(struct sandbox *sb, const struct sandbox_request *rq,
		    struct sandbox_result *res);

/* Console output captured since the last sandbox_load or sandbox_call;
 * valid until the next one or sandbox_free. */
const struct sandbox_log	*sandbox_log(const struct sandbox *sb);

/* Highest heap size in bytes since the heap was created, and now. */
size_t		 sandbox_memory_peak(const struct sandbox *sb);
size_t		 sandbox_memory_used(const struct sandbox *sb);

/* Makes res empty, field by field: it runs several times per call, and
 * message is 16 KiB that a memset would write each time. */
void		 sandbox_result_init(struct sandbox_result *res);
void		 sandbox_result_free(struct sandbox_result *res);

#endif
