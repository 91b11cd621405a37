/*
 * compiler.c - this worker's compiler (compiler.h). typescript.js is read
 * and hashed at each load (rare: once per worker), so an upgraded
 * node-typescript is never mistaken for the one whose bytecode is cached.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache.h"
#include "clock.h"
#include "compiler.h"
#include "digest.h"
#include "log.h"
#include "metrics.h"

/* typescript.js is 10.8 MB in node-typescript 4.8. */
#define COMPILER_SOURCE_MAX	(64u << 20)

/* Reads path into a malloc'd buffer. Returns 0, or -1 with errno set. */
static int
read_file(const char *path, char **out, size_t *len)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	ssize_t n;
	int fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(fd, &st) == -1)
		goto fail;
	if (!S_ISREG(st.st_mode) || st.st_size > COMPILER_SOURCE_MAX) {
		errno = EFBIG;
		goto fail;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		goto fail;
	while (got < (size_t)st.st_size) {
		n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			goto fail;
		}
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	*out = buf;
	*len = got;
	return 0;
fail:
	saved = errno;
	free(buf);
	close(fd);
	errno = saved;
	return -1;
}

struct lower *
compiler_get(struct app *app, const char **from, struct lower_result *res)
{
	struct lower_limits lim;
	char sha[DIGEST_SHA256_HEX_LEN + 1];
	char *src = NULL;
	void *bc = NULL, *dump = NULL;
	size_t len = 0, bclen = 0, dumplen = 0;
	double t0 = clock_ms();

	memset(res, 0, sizeof(*res));
	if (lower_usable(app->lower)) {
		*from = "warm";
		return app->lower;
	}
	lower_free(app->lower);
	app->lower = NULL;
	if (read_file(app->cfg.typescript_js, &src, &len) == -1) {
		log_warn("compiler %s", app->cfg.typescript_js);
		res->outcome = OUT_UNAVAILABLE;
		snprintf(res->message, sizeof(res->message), "the compiler "
		    "that lowers modern JavaScript and TypeScript is not "
		    "installed (typescript_js: %s)", strerror(errno));
		return NULL;
	}
	if (digest_sha256_hex(src, len, sha) == -1) {
		res->outcome = OUT_UNAVAILABLE;
		snprintf(res->message, sizeof(res->message), "sha256 failed");
		goto out;
	}
	lim.memory_bytes = (size_t)app->cfg.transpile_memory_mb << 20;
	lim.timeout_ms = app->cfg.transpile_timeout_ms;
	if (app->cache != NULL &&
	    cache_get_compiler(app->cache, sha, &bc, &bclen) == 0) {
		*from = "bytecode";
		app->lower = lower_load(&lim, bc, bclen, NULL, 0, NULL, NULL,
		    res);
	} else {
		*from = "source";
		app->lower = lower_load(&lim, NULL, 0, src, len, &dump,
		    &dumplen, res);
		if (app->lower != NULL && dump != NULL && app->cache != NULL)
			cache_put_compiler(app->cache, sha, dump, dumplen);
	}
	if (app->lower != NULL) {
		metrics_add(M_COMPILER_LOADS, 1);
		log_info("compiler loaded from %s in %.0f ms, %zu bytes of heap",
		    *from, clock_ms() - t0, lower_memory_used(app->lower));
	} else
		log_warnx("compiler not loaded from %s: %s", *from,
		    res->message);
out:
	free(src);
	free(bc);
	free(dump);
	return app->lower;
}

void
compiler_tidy(struct app *app)
{
	if (app->lower != NULL && !lower_usable(app->lower)) {
		lower_free(app->lower);
		app->lower = NULL;
	}
	lower_collect(app->lower);
}
