/*
 * check_aplus.c - the Promises/A+ compliance suite (npm
 * promises-aplus-tests 2.1.2, pinned by tests/aplus/package-lock.json and
 * installed by make into tests/aplus/node_modules) run unchanged inside
 * one fnrun heap against the engine's own Promise, with the small mocha
 * of tests/aplus/runner.js. Every case of the suite must pass.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "sandbox_fixture.h"

#define APLUS_DIR	"tests/aplus/node_modules/promises-aplus-tests/lib/tests"
#define RUNNER		"tests/aplus/runner.js"
/* What mocha counts for this version of the suite under Node. */
#define APLUS_CASES	872

static void
append_file(struct buf *b, const char *path)
{
	char chunk[65536];
	FILE *f = fopen(path, "r");
	size_t n;

	ck_assert_msg(f != NULL, "cannot read %s: run 'make aplus-deps' "
	    "(npm ci in tests/aplus)", path);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(b, chunk, n);
	fclose(f);
}

/* Wraps dir/name as the module key/name (without .js). */
static void
append_module(struct buf *src, struct buf *list, const char *dir,
    const char *prefix, const char *name)
{
	char path[512];
	size_t len = strlen(name) - 3;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	buf_printf(src, "__modules['%s%.*s'] = function (exports, require, "
	    "module, global) {\n", prefix, (int)len, name);
	append_file(src, path);
	buf_puts(src, "\n};\n");
	if (list != NULL) {
		if (list->len > 0)
			buf_append(list, ",", 1);
		buf_printf(list, "%.*s", (int)len, name);
	}
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The .js files of dir, sorted, into a malloc'd array of strdup'd names. */
static size_t
js_files(const char *dir, char ***out)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, len;

	ck_assert_msg(d != NULL, "no %s: run 'make aplus-deps'", dir);
	while ((e = readdir(d)) != NULL) {
		len = strlen(e->d_name);
		if (len < 4 || strcmp(e->d_name + len - 3, ".js") != 0)
			continue;
		names = realloc(names, (n + 1) * sizeof(*names));
		ck_assert_ptr_nonnull(names);
		names[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_names);
	*out = names;
	return n;
}

START_TEST(test_promises_aplus)
{
	struct sandbox_limits lim = LIM;
	struct sandbox_request rq = PLAIN_RQ;
	struct sandbox_result res;
	struct buf src = { 0 }, list = { 0 };
	struct sandbox *sb;
	char **names, want[64];
	size_t i, n;

	buf_puts(&src, "var __modules = {};\n");
	n = js_files(APLUS_DIR "/helpers", &names);
	for (i = 0; i < n; i++) {
		append_module(&src, NULL, APLUS_DIR "/helpers", "helpers/",
		    names[i]);
		free(names[i]);
	}
	free(names);
	n = js_files(APLUS_DIR, &names);
	ck_assert_uint_gt(n, 10);
	for (i = 0; i < n; i++) {
		append_module(&src, &list, APLUS_DIR, "", names[i]);
		free(names[i]);
	}
	free(names);
	append_file(&src, RUNNER);
	/* The suite waits for real: tens of seconds of timers. */
	lim.timeout_ms = 600000;
	lim.memory_bytes = 256 * MiB;
	lim.log_max = 1 * MiB;
	sb = sandbox_new(&lim);
	ck_assert_ptr_nonnull(sb);
	ck_assert_msg(sandbox_load(sb, src.data, src.len, "aplus.js", NULL,
	    NULL, &res) == 0, "load: %s", res.message);
	sandbox_result_free(&res);
	rq.body = list.data;
	rq.body_len = list.len;
	(void)sandbox_call(sb, &rq, &res);
	ck_assert_msg(res.outcome == OUT_OK, "%s: %s", outcome_code(res.outcome),
	    res.message);
	snprintf(want, sizeof(want), "passed %d failed 0\n", APLUS_CASES);
	ck_assert_msg(res.body_len >= strlen(want) &&
	    memcmp(res.body, want, strlen(want)) == 0, "%.*s",
	    (int)(res.body_len > 4000 ? 4000 : res.body_len), res.body);
	sandbox_result_free(&res);
	sandbox_free(sb);
	buf_free(&src);
	buf_free(&list);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("aplus");
	TCase *tc = tcase_create("promises-aplus-tests");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_promises_aplus);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
