/*
 * compiler.h - this worker's compiler (sandbox/lower), for upload.c:
 * loaded on the first upload that needs it and kept warm for the worker's
 * life, its bytecode shared through memcached like a function's.
 */
#ifndef FNRUN_COMPILER_H
#define FNRUN_COMPILER_H

#include "app.h"
#include "lower.h"

/* The worker's compiler, loading it when there is none (or the last
 * lowering left it in doubt): from verified bytecode in memcached, else
 * from cfg.typescript_js, whose bytecode then goes to memcached. *from
 * says which ("warm", "bytecode", "source"). Runs the engine: call it
 * under the guard, with cfg.transpile_timeout_ms. Returns the compiler
 * (owned by app), or NULL with res->outcome and res->message set. */
struct lower	*compiler_get(struct app *app, const char **from,
		    struct lower_result *res);

/* Frees the compiler if the last lowering left it unusable, else its
 * garbage when it has grown (lower_collect). Outside the guard. */
void		 compiler_tidy(struct app *app);

#endif
