/*
 * app.h - what every request handler is given: the configuration, the
 * store and the connection being answered. Built once per worker by
 * main.c.
 */
#ifndef FNRUN_APP_H
#define FNRUN_APP_H

#include "config.h"
#include "egress.h"

struct cache;
struct fcgi_conn;
struct hotset;
struct lower;
struct sandbox;
struct spare;
struct store;

/* A warm heap's key: project/request/fn@version#sha256#uid. */
#define APP_HEAP_KEY_MAX	360

struct app {
	struct config		 cfg;
	struct store		*store;
	struct cache		*cache;		/* NULL: no bytecode cache */
	struct hotset		*hot;		/* this worker's warm heaps */
	struct lower		*lower;		/* its compiler, once loaded */
	struct spare		*spare;		/* NULL: spare_heap 0 */
	/* The heap the request in hand made and keeps: compacted and made
	 * warm once its answer is sent (invoke_settle). */
	struct sandbox		*fresh;
	char			 fresh_key[APP_HEAP_KEY_MAX];
	struct fcgi_conn	*conn;
	struct egress_policy	 egress;	/* cfg's egress_allow/deny */
};

#endif
