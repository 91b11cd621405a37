/*
 * check_egress_hosts.c - unit tests for a project's host allowlist
 * (fcgi-app/net/egress_hosts.c: validation, normal form, the stored form,
 * matching, hostile patterns and hosts) and its place in the store
 * (fcgi-app/store/store_egress.c: round trip, delete, a damaged file, and
 * the worker's cache: a file read once while it does not change, read
 * again once it does, with what a cached call costs measured and printed,
 * never asserted against a clock).
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <check.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "egress_hosts.h"
#include "store.h"
#include "store_egress.h"
#include "store_fs.h"

static struct egress_hosts *
list_of(const char *const *v, size_t n)
{
	struct egress_hosts *l = egress_hosts_new();
	const char *why;
	size_t i;

	ck_assert_ptr_nonnull(l);
	for (i = 0; i < n; i++)
		ck_assert_msg(egress_hosts_add(l, v[i], strlen(v[i]), &why) == 0,
		    "%s: %s", v[i], why);
	return l;
}

static int
valid(const char *s)
{
	struct egress_hosts *l = egress_hosts_new();
	const char *why = NULL;
	int ok;

	ok = egress_hosts_add(l, s, strlen(s), &why) == 0;
	ck_assert(ok || (why != NULL && *why != '\0'));
	egress_hosts_free(l);
	return ok;
}

START_TEST(test_valid_and_normal_form)
{
	static const char *const in[] = { "API.Paystack.CO", "*.Stripe.com.",
	    "api.paystack.co", "x-1.a1.io", "localhost" };
	struct egress_hosts *l = list_of(in, 5);

	/* Lower-cased, the trailing dot gone, the duplicate dropped. */
	ck_assert_uint_eq(egress_hosts_count(l), 4);
	ck_assert_str_eq(egress_hosts_entry(l, 0), "api.paystack.co");
	ck_assert_str_eq(egress_hosts_entry(l, 1), "*.stripe.com");
	ck_assert_str_eq(egress_hosts_entry(l, 2), "x-1.a1.io");
	ck_assert_str_eq(egress_hosts_entry(l, 3), "localhost");
	ck_assert_ptr_null(egress_hosts_entry(l, 4));
	egress_hosts_free(l);
}
END_TEST

START_TEST(test_invalid_patterns)
{
	static const char *const bad[] = {
		"", ".", "*", "*.", "**.x.com", "*.*.x.com", "a.*.x.com",
		"x*.com", "*x.com", "api .x.com", " api.x.com", "api.x.com ",
		"a..b", ".a.b", "a.b..", "-a.b", "a-.b", "a.-b", "a.b-",
		"a_b.com", "a/b", "a:443", "user@x.com", "http://x.com",
		"x.com/path", "[::1]", "::1", "fe80::1", "a\nb.com",
		"caf\xc3\xa9.com", "x.com\r",
		/* IP addresses in every spelling inet_aton takes, and names
		 * whose last label is all digits. */
		"127.0.0.1", "10.0.0.1", "0x7f.1", "0x7f000001", "2130706433",
		"017700000001", "0x7f", "127.1", "1.2.3.4.5", "*.1", "a.123",
		"*.0x7f", "169.254.169.254",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!valid(bad[i]), "accepted '%s'", bad[i]);
	/* Digits elsewhere are fine: a label may be all digits but the
	 * last. */
	ck_assert(valid("123.example.com"));
	ck_assert(valid("0x7f.example"));
	ck_assert(valid("*.com"));
}
END_TEST

START_TEST(test_lengths)
{
	char s[400];
	size_t i;

	/* A 63-byte label is fine, 64 is not. */
	memset(s, 'a', 63);
	memcpy(s + 63, ".com", 5);
	ck_assert(valid(s));
	memset(s, 'a', 64);
	memcpy(s + 64, ".com", 5);
	ck_assert(!valid(s));
	/* 253 bytes in all (labels of 49 and dots), not 254. */
	for (i = 0; i < 253; i++)
		s[i] = i % 50 == 49 ? '.' : 'a';
	s[253] = '\0';
	ck_assert(valid(s));
	s[253] = 'b';
	s[254] = '\0';
	ck_assert(!valid(s));
	/* With one trailing dot, 253 bytes of name is still fine. */
	s[253] = '.';
	ck_assert(valid(s));
	/* "*." counts: 251 bytes of name after it is the most. */
	s[0] = '*';
	s[1] = '.';
	s[253] = '\0';
	ck_assert(valid(s));
	memset(s, 'a', sizeof(s) - 1);
	s[sizeof(s) - 1] = '\0';
	ck_assert(!valid(s));
}
END_TEST

START_TEST(test_at_most_100)
{
	struct egress_hosts *l = egress_hosts_new();
	const char *why = NULL;
	char name[32];
	size_t i;

	for (i = 0; i < EGRESS_HOSTS_MAX; i++) {
		snprintf(name, sizeof(name), "h%zu.example.com", i);
		ck_assert_int_eq(egress_hosts_add(l, name, strlen(name), &why),
		    0);
	}
	/* A duplicate is no new entry, so it still fits. */
	ck_assert_int_eq(egress_hosts_add(l, "h0.example.com", 14, &why), 0);
	ck_assert_int_eq(egress_hosts_add(l, "one.more.com", 12, &why), -1);
	ck_assert_str_eq(why, "more than 100 hosts");
	ck_assert_uint_eq(egress_hosts_count(l), EGRESS_HOSTS_MAX);
	egress_hosts_free(l);
}
END_TEST

START_TEST(test_matching)
{
	static const char *const v[] = { "api.paystack.co", "*.stripe.com" };
	struct egress_hosts *l = list_of(v, 2);
	const char *why = NULL;

	ck_assert(egress_hosts_allowed(l, "api.paystack.co", &why));
	ck_assert(egress_hosts_allowed(l, "API.Paystack.CO", &why));
	ck_assert(egress_hosts_allowed(l, "api.paystack.co.", &why));
	ck_assert(egress_hosts_allowed(l, "api.stripe.com", &why));
	ck_assert(egress_hosts_allowed(l, "a.b.stripe.com", &why));
	ck_assert(egress_hosts_allowed(l, "API.STRIPE.COM.", &why));
	ck_assert(!egress_hosts_allowed(l, "stripe.com", &why));
	ck_assert_str_eq(why, "the project's egress allowlist does not list "
	    "this host");
	ck_assert(!egress_hosts_allowed(l, "evilstripe.com", NULL));
	ck_assert(!egress_hosts_allowed(l, "stripe.com.evil.io", NULL));
	ck_assert(!egress_hosts_allowed(l, "paystack.co", NULL));
	ck_assert(!egress_hosts_allowed(l, "xapi.paystack.co", NULL));
	ck_assert(!egress_hosts_allowed(l, "api.paystack.co.evil.io", NULL));
	ck_assert(!egress_hosts_allowed(l, "api.paystack.co..", NULL));
	ck_assert(!egress_hosts_allowed(l, ".stripe.com", NULL));
	ck_assert(!egress_hosts_allowed(l, "a..stripe.com", NULL));
	ck_assert(!egress_hosts_allowed(l, "", NULL));
	ck_assert(!egress_hosts_allowed(l, ".", NULL));
	/* Not names: refused whatever the list, with their own reason. */
	why = NULL;
	ck_assert(!egress_hosts_allowed(l, "127.0.0.1", &why));
	ck_assert_ptr_nonnull(strstr(why, "host names only"));
	ck_assert(!egress_hosts_allowed(l, "[::1]", NULL));
	ck_assert(!egress_hosts_allowed(l, "0x7f.1", NULL));
	ck_assert(!egress_hosts_allowed(l, "2130706433", NULL));
	egress_hosts_free(l);
}
END_TEST

START_TEST(test_null_and_empty_lists)
{
	struct egress_hosts *l = egress_hosts_new();
	const char *why = NULL;
	char huge[1024];

	/* No list: this layer allows everything (the address policy still
	 * applies); an empty list: nothing. */
	ck_assert(egress_hosts_allowed(NULL, "anything.example", &why));
	ck_assert(egress_hosts_allowed(NULL, "127.0.0.1", &why));
	ck_assert_ptr_null(why);
	ck_assert(!egress_hosts_allowed(l, "api.stripe.com", &why));
	ck_assert_ptr_nonnull(why);
	memset(huge, 'a', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	ck_assert(!egress_hosts_allowed(l, huge, NULL));
	egress_hosts_free(l);
}
END_TEST

START_TEST(test_stored_form)
{
	static const char *const v[] = { "api.paystack.co", "*.stripe.com" };
	struct egress_hosts *l = list_of(v, 2), *back = NULL;
	struct buf b = { 0 };
	char err[128];

	egress_hosts_format(l, &b);
	ck_assert_str_eq(b.data, "api.paystack.co\n*.stripe.com\n");
	ck_assert_int_eq(egress_hosts_parse(b.data, b.len, &back, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(egress_hosts_count(back), 2);
	ck_assert_str_eq(egress_hosts_entry(back, 1), "*.stripe.com");
	egress_hosts_free(back);
	/* Empty text: an empty list. */
	ck_assert_int_eq(egress_hosts_parse("", 0, &back, err, sizeof(err)),
	    0);
	ck_assert_uint_eq(egress_hosts_count(back), 0);
	egress_hosts_free(back);
	/* Damage: what egress_hosts_format never writes. */
#define BAD(t)	do {							\
		back = (struct egress_hosts *)1;				\
		ck_assert_int_eq(egress_hosts_parse(t, sizeof(t) - 1, &back, \
		    err, sizeof(err)), -1);					\
		ck_assert_ptr_null(back);				\
	} while (0)
	BAD("api.paystack.co");			/* no newline */
	BAD("API.paystack.co\n");		/* not lower case */
	BAD("api.paystack.co.\n");		/* trailing dot */
	BAD("\n");				/* empty line */
	BAD("a.com\na.com\n");			/* duplicate */
	BAD("a.com\r\n");
	BAD("127.0.0.1\n");
	BAD("a.com\0b.com\n");
#undef BAD
	ck_assert_int_eq(egress_hosts_parse("a\nb\nc!\n", 7, &back, err,
	    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "line 3"));
	buf_free(&b);
	egress_hosts_free(l);
}
END_TEST

/* ---- the store ---- */

static char		 dir[PATH_MAX];
static struct store	*st;

static void
store_setup(void)
{
	char err[256];

	snprintf(dir, sizeof(dir), "/tmp/check_egress_hosts.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	st = store_open(dir, err, sizeof(err));
	ck_assert_msg(st != NULL, "%s", err);
}

static void
store_teardown(void)
{
	store_close(st);
	st = NULL;
	(void)fs_rm_tree(AT_FDCWD, dir, 0);
}

static const struct egress_hosts *
cached(const char *project)
{
	const struct egress_hosts *l = (const void *)1;
	char err[256];

	ck_assert_msg(store_egress_cached(st, project, &l, err,
	    sizeof(err)) == STORE_OK, "%s", err);
	return l;
}

START_TEST(test_store_round_trip)
{
	static const char *const v[] = { "api.paystack.co", "*.stripe.com" };
	struct egress_hosts *l = list_of(v, 2), *got = (void *)1;
	struct store_project *projects = NULL;
	char err[256], path[PATH_MAX + 32];
	struct stat sb;
	size_t n;

	ck_assert_int_eq(store_egress_get(st, "p1", &got, err, sizeof(err)),
	    STORE_OK);
	ck_assert_ptr_null(got);
	ck_assert_int_eq(store_egress_delete(st, "p1", err, sizeof(err)),
	    STORE_NOT_FOUND);
	ck_assert_int_eq(store_egress_set(st, "p1", l, err, sizeof(err)),
	    STORE_OK);
	snprintf(path, sizeof(path), "%s/p1/.egress", dir);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_eq(store_egress_get(st, "p1", &got, err, sizeof(err)),
	    STORE_OK);
	ck_assert_uint_eq(egress_hosts_count(got), 2);
	ck_assert_str_eq(egress_hosts_entry(got, 0), "api.paystack.co");
	egress_hosts_free(got);
	/* A project with only this setting is a project (SPEC §7). */
	ck_assert_int_eq(store_list_projects(st, &projects, &n, err,
	    sizeof(err)), STORE_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(projects[0].name, "p1");
	free(projects);
	ck_assert_int_eq(store_egress_delete(st, "p1", err, sizeof(err)),
	    STORE_OK);
	ck_assert_int_eq(store_egress_get(st, "p1", &got, err, sizeof(err)),
	    STORE_OK);
	ck_assert_ptr_null(got);
	ck_assert_int_eq(store_list_projects(st, &projects, &n, err,
	    sizeof(err)), STORE_OK);
	ck_assert_uint_eq(n, 0);
	free(projects);
	/* Names are checked before any path is built. */
	ck_assert_int_eq(store_egress_get(st, "../x", &got, err, sizeof(err)),
	    STORE_ERROR);
	ck_assert_int_eq(store_egress_set(st, ".tmp", l, err, sizeof(err)),
	    STORE_ERROR);
	egress_hosts_free(l);
}
END_TEST

START_TEST(test_store_damaged_file)
{
	char err[256], path[PATH_MAX + 32];
	struct egress_hosts *got = NULL;
	const struct egress_hosts *c;
	int fd;

	snprintf(path, sizeof(path), "%s/p2", dir);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/p2/.egress", dir);
	fd = open(path, O_CREAT | O_WRONLY, 0644);
	ck_assert_int_eq(write(fd, "Evil.COM\n", 9), 9);
	close(fd);
	ck_assert_int_eq(store_egress_get(st, "p2", &got, err, sizeof(err)),
	    STORE_ERROR);
	ck_assert_ptr_null(got);
	ck_assert_ptr_nonnull(strstr(err, ".egress"));
	/* The worker's view refuses too: a list it cannot read must not
	 * open the way. */
	c = (const void *)1;
	ck_assert_int_eq(store_egress_cached(st, "p2", &c, err, sizeof(err)),
	    STORE_ERROR);
	ck_assert_ptr_null(c);
	/* A FIFO in its place blocks no one (nobody writes to it). */
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(mkfifo(path, 0644), 0);
	ck_assert_int_eq(store_egress_get(st, "p2", &got, err, sizeof(err)),
	    STORE_ERROR);
	ck_assert_ptr_nonnull(strstr(err, "not a regular file"));
	ck_assert_int_eq(store_egress_cached(st, "p2", &c, err, sizeof(err)),
	    STORE_ERROR);
	/* A symlink in its place is not followed. */
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(symlink("/etc/hostname", path), 0);
	ck_assert_int_eq(store_egress_get(st, "p2", &got, err, sizeof(err)),
	    STORE_ERROR);
	ck_assert_int_eq(store_egress_cached(st, "p2", &c, err, sizeof(err)),
	    STORE_ERROR);
}
END_TEST

static void
crash_at_egress_written(const char *point)
{
	if (strcmp(point, "egress-written") == 0)
		_exit(0);
}

/* A writer that dies after the new list is complete in .tmp but before it
 * is renamed into place leaves the old list, whole (SPEC §8). */
START_TEST(test_store_crash_keeps_the_old_list)
{
	static const char *const v1[] = { "old.example.com" };
	static const char *const v2[] = { "new.example.com", "*.new.io" };
	struct egress_hosts *l1 = list_of(v1, 1), *l2 = list_of(v2, 2), *got;
	char err[256];
	pid_t pid;
	int status;

	ck_assert_int_eq(store_egress_set(st, "pc", l1, err, sizeof(err)),
	    STORE_OK);
	if ((pid = fork()) == 0) {
		store_set_crash_hook(st, crash_at_egress_written);
		(void)store_egress_set(st, "pc", l2, err, sizeof(err));
		_exit(1);	/* the hook was not called */
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_int_eq(store_egress_get(st, "pc", &got, err, sizeof(err)),
	    STORE_OK);
	ck_assert_uint_eq(egress_hosts_count(got), 1);
	ck_assert_str_eq(egress_hosts_entry(got, 0), "old.example.com");
	egress_hosts_free(got);
	egress_hosts_free(l1);
	egress_hosts_free(l2);
}
END_TEST

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

START_TEST(test_store_cache)
{
	static const char *const v1[] = { "a.example.com" };
	static const char *const v2[] = { "b.example.com", "*.c.example" };
	struct egress_hosts *l1 = list_of(v1, 1), *l2 = list_of(v2, 2), *got;
	struct egress_hosts *big;
	const struct egress_hosts *c;
	const char *why;
	char err[256], name[16], host[64];
	double t0, t_cached, t_read;
	unsigned long loads;
	int i, n = 20000;

	/* No file: no list, nothing read. */
	ck_assert_ptr_null(cached("p3"));
	ck_assert_uint_eq(store_egress_loads(st), 0);
	ck_assert_int_eq(store_egress_set(st, "p3", l1, err, sizeof(err)),
	    STORE_OK);
	c = cached("p3");
	ck_assert_uint_eq(egress_hosts_count(c), 1);
	ck_assert(egress_hosts_allowed(c, "a.example.com", NULL));
	ck_assert_uint_eq(store_egress_loads(st), 1);
	/* Unchanged: never read again. */
	for (i = 0; i < 100; i++)
		ck_assert_ptr_eq(cached("p3"), c);
	ck_assert_uint_eq(store_egress_loads(st), 1);
	/* Replaced (at once: the same second, the same size is no help to
	 * a cache keyed by time alone): the next call sees the new list. */
	ck_assert_int_eq(store_egress_set(st, "p3", l2, err, sizeof(err)),
	    STORE_OK);
	c = cached("p3");
	ck_assert_uint_eq(store_egress_loads(st), 2);
	ck_assert(!egress_hosts_allowed(c, "a.example.com", NULL));
	ck_assert(egress_hosts_allowed(c, "x.c.example", NULL));
	ck_assert_int_eq(store_egress_set(st, "p3", l1, err, sizeof(err)),
	    STORE_OK);
	ck_assert(egress_hosts_allowed(cached("p3"), "a.example.com", NULL));
	ck_assert_uint_eq(store_egress_loads(st), 3);
	/* Removed: no list at once. */
	ck_assert_int_eq(store_egress_delete(st, "p3", err, sizeof(err)),
	    STORE_OK);
	ck_assert_ptr_null(cached("p3"));
	/* More projects than the cache keeps: each still gets its own. */
	for (i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "q%d", i);
		ck_assert_int_eq(store_egress_set(st, name, i % 2 ? l1 : l2,
		    err, sizeof(err)), STORE_OK);
	}
	for (i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "q%d", i);
		ck_assert_uint_eq(egress_hosts_count(cached(name)),
		    i % 2 ? 1 : 2);
	}
	/* What a call costs, cached and read each time, for a list of the
	 * most hosts (printed for the README, not asserted). */
	big = egress_hosts_new();
	for (i = 0; i < EGRESS_HOSTS_MAX; i++) {
		snprintf(host, sizeof(host), "*.host-%d.example.com", i);
		ck_assert_int_eq(egress_hosts_add(big, host, strlen(host),
		    &why), 0);
	}
	ck_assert_int_eq(store_egress_set(st, "big", big, err, sizeof(err)),
	    STORE_OK);
	c = cached("big");
	loads = store_egress_loads(st);
	t0 = now_ns();
	for (i = 0; i < n; i++)
		ck_assert_ptr_eq(cached("big"), c);
	t_cached = (now_ns() - t0) / n;
	ck_assert_uint_eq(store_egress_loads(st), loads);
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(store_egress_get(st, "big", &got, err,
		    sizeof(err)), STORE_OK);
		egress_hosts_free(got);
	}
	t_read = (now_ns() - t0) / n;
	printf("store_egress_cached, a list of %d hosts: %.0f ns a call when "
	    "unchanged (open + fstat); read and parsed each time: %.0f ns\n",
	    EGRESS_HOSTS_MAX, t_cached, t_read);
	egress_hosts_free(big);
	egress_hosts_free(l1);
	egress_hosts_free(l2);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("egress_hosts");
	TCase *tc = tcase_create("hosts");
	TCase *ts = tcase_create("store");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_valid_and_normal_form);
	tcase_add_test(tc, test_invalid_patterns);
	tcase_add_test(tc, test_lengths);
	tcase_add_test(tc, test_at_most_100);
	tcase_add_test(tc, test_matching);
	tcase_add_test(tc, test_null_and_empty_lists);
	tcase_add_test(tc, test_stored_form);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(ts, store_setup, store_teardown);
	tcase_set_timeout(ts, 60);
	tcase_add_test(ts, test_store_round_trip);
	tcase_add_test(ts, test_store_damaged_file);
	tcase_add_test(ts, test_store_cache);
	tcase_add_test(ts, test_store_crash_keeps_the_old_list);
	suite_add_tcase(s, ts);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
