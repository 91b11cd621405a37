/*
 * main.c - the fnrun-worker program: load the configuration, then run the
 * slot supervisor around the serving loop. Wires; holds no logic.
 */
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <unistd.h>
#include <string.h>

#include "app.h"
#include "concurrency.h"
#include "config.h"
#include "log.h"
#include "metrics.h"
#include "supervisor.h"
#include "worker.h"

int
main(int argc, char **argv)
{
	static struct app app;
	char err[ERRSTR_MAX];
	unsigned drain_ms;
	int fd;

	/* Issue 12: every invocation frees thousands of small blocks (a
	 * heap's garbage, the request, the answer) and then allocates large
	 * ones (libfcgi's stream buffers), and glibc consolidates its fast
	 * bins on each such allocation: 2-3% of the workers' samples under
	 * make profile, and 11-40% more requests in 4 of 4 paired runs
	 * without fast bins (the thread cache stays). */
	(void)mallopt(M_MXFAST, 0);
	if (argc > 1) {
		fprintf(stderr, "usage: %s (started by spawn-fcgi; settings come "
		    "from $FNRUN_CONFIG and FNRUN_* variables)\n", argv[0]);
		return 2;
	}
	if (config_load(&app.cfg, err, sizeof(err)) == -1)
		fatal("configuration: %s", err);
	/* spawn-fcgi points stderr at /dev/null; diagnostics need a home. */
	if (app.cfg.worker_log[0] != '\0' &&
	    (fd = open(app.cfg.worker_log, O_WRONLY | O_APPEND | O_CREAT |
	    O_CLOEXEC, 0640)) != -1) {
		dup2(fd, STDERR_FILENO);
		close(fd);
	}
	(void)metrics_open(app.cfg.metrics_file);
	/* Mapped here too, so that each slot's supervisor frees what a dead
	 * worker was running (SPEC §13). */
	if (app.cfg.concurrency_file[0] != '\0' &&
	    concurrency_open(app.cfg.concurrency_file) == -1)
		log_warn("concurrency file %s: projects are not limited",
		    app.cfg.concurrency_file);
	/* In-flight invocations may run to their hard bound before exiting;
	 * with fcgi_keepalive, connections nginx keeps are served until nginx
	 * closes them (worker.h: WORKER_KEEP_DRAIN_MS). */
	drain_ms = app.cfg.timeout_max_ms + app.cfg.hard_grace_ms + 2000;
	if (app.cfg.fcgi_keepalive > 0)
		drain_ms += WORKER_KEEP_DRAIN_MS;
	return supervisor_run(worker_main, &app, drain_ms);
}
