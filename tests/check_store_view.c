/*
 * check_store_view.c - unit tests for the worker's view of the store
 * (fcgi-app/store/store_view.c, store_gen.c): what it keeps is served
 * without reading the store again, and every change made through another
 * handle on the same root (another worker, or another host on a shared
 * file system) shows in the next call, including changes faster than any
 * file timestamp can tell apart, a delete and an upload again of the
 * same source, and a token that cannot be read.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <check.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "names.h"
#include "store.h"
#include "store_view.h"
#include "store_fixture.h"

static char		 dir[1024];
static char		 root[1024];
static struct store	*rd;	/* the worker whose view is tested */
static struct store	*wr;	/* another worker, or host, that writes */
static char		 err[256];

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/check_store_view.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(root, sizeof(root), "%.900s/store", dir);
	rd = store_open(root, err, sizeof(err));
	ck_assert_msg(rd != NULL, "store_open: %s", err);
	wr = store_open(root, err, sizeof(err));
	ck_assert_msg(wr != NULL, "store_open: %s", err);
}

static void
teardown(void)
{
	store_close(rd);
	store_close(wr);
	(void)nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static unsigned
upload(struct store *st, const struct fn_id *id, const char *src,
    int activate)
{
	struct store_version	v;
	int			existed;

	ck_assert_msg(store_write_version(st, id, src, strlen(src), NULL,
	    activate, &v, &existed, err, sizeof(err)) == STORE_OK, "%s", err);
	return v.version;
}

/* What one call of the worker reads: its active version and meta. */
static int
call_reads(const struct fn_id *id, unsigned *version,
    struct store_version *meta)
{
	int	rc;

	store_view_begin(rd);
	if ((rc = store_view_active(rd, id, version, err, sizeof(err))) !=
	    STORE_OK)
		return rc;
	return store_view_meta(rd, id, *version, meta, err, sizeof(err));
}

static void
set_concurrency(unsigned n)
{
	struct store_project_limits	l = { n };

	ck_assert_int_eq(store_project_limits_set(wr, "p1", &l, err,
	    sizeof(err)), STORE_OK);
}

static unsigned
view_concurrency(void)
{
	struct store_project_limits	l;

	store_view_begin(rd);
	ck_assert_int_eq(store_view_limits(rd, "p1", &l, err, sizeof(err)),
	    STORE_OK);
	return l.concurrency;
}

/* The value of name in the view's environment of p1, or NULL. */
static const char *
view_env(const char *name)
{
	const struct store_env_var	*env;
	size_t				 n, i;

	store_view_begin(rd);
	ck_assert_int_eq(store_view_env(rd, "p1", &env, &n, err, sizeof(err)),
	    STORE_OK);
	for (i = 0; i < n; i++)
		if (strcmp(env[i].name, name) == 0)
			return env[i].value;
	return NULL;
}

START_TEST(test_hit_reads_nothing)
{
	struct fn_id		id = mkid("p1", "r1", "f");
	struct store_version	meta;
	unsigned		v, i;
	unsigned long		loads;

	upload(wr, &id, "module.exports = 1;", 1);
	ck_assert_int_eq(call_reads(&id, &v, &meta), STORE_OK);
	ck_assert_uint_eq(v, 1);
	(void)view_env("X");
	(void)view_concurrency();
	loads = store_view_loads(rd);
	ck_assert_uint_eq(loads, 4);
	for (i = 0; i < 10; i++) {
		ck_assert_int_eq(call_reads(&id, &v, &meta), STORE_OK);
		(void)view_env("X");
		(void)view_concurrency();
	}
	ck_assert_uint_eq(store_view_loads(rd), loads);
}
END_TEST

START_TEST(test_upload_and_rollback_seen)
{
	struct fn_id		id = mkid("p1", "r1", "f");
	struct store_version	meta;
	unsigned		v;

	upload(wr, &id, "module.exports = 1;", 1);
	ck_assert_int_eq(call_reads(&id, &v, &meta), STORE_OK);
	ck_assert_uint_eq(v, 1);
	ck_assert_uint_eq(upload(wr, &id, "module.exports = 2;", 1), 2);
	ck_assert_int_eq(call_reads(&id, &v, &meta), STORE_OK);
	ck_assert_uint_eq(v, 2);
	ck_assert_uint_eq(meta.version, 2);
	/* Stored without activating: still 2. */
	ck_assert_uint_eq(upload(wr, &id, "module.exports = 3;", 0), 3);
	ck_assert_int_eq(call_reads(&id, &v, &meta), STORE_OK);
	ck_assert_uint_eq(v, 2);
	ck_assert_int_eq(store_set_active(wr, &id, 1, err, sizeof(err)),
	    STORE_OK);
	ck_assert_int_eq(call_reads(&id, &v, &meta), STORE_OK);
	ck_assert_uint_eq(v, 1);
}
END_TEST

/* Deleted, then uploaded again with the same source: the same name and
 * number, but another version (its uid), which the view must not mix up
 * with the deleted one. */
START_TEST(test_delete_and_reupload_seen)
{
	struct fn_id		id = mkid("p1", "r1", "f");
	struct store_version	meta;
	char			uid[sizeof(meta.uid)];
	unsigned		v;

	upload(wr, &id, "module.exports = 1;", 1);
	ck_assert_int_eq(call_reads(&id, &v, &meta), STORE_OK);
	memcpy(uid, meta.uid, sizeof(uid));
	ck_assert_int_eq(store_delete_fn(wr, &id, err, sizeof(err)), STORE_OK);
	ck_assert_int_eq(call_reads(&id, &v, &meta), STORE_NOT_FOUND);
	ck_assert_uint_eq(upload(wr, &id, "module.exports = 1;", 1), 1);
	ck_assert_int_eq(call_reads(&id, &v, &meta), STORE_OK);
	ck_assert_uint_eq(v, 1);
	ck_assert_str_ne(meta.uid, uid);
}
END_TEST

/* Faster than a coarse timestamp ticks, and the same size every time:
 * each change is still seen by the next call. */
START_TEST(test_changes_within_one_tick_seen)
{
	char		val[2] = "a";
	unsigned	i;

	for (i = 1; i <= 200; i++) {
		set_concurrency(i % 2 + 1);
		ck_assert_uint_eq(view_concurrency(), i % 2 + 1);
		val[0] = (char)('a' + i % 2);
		ck_assert_int_eq(store_env_set(wr, "p1", "KEY", val, 1, err,
		    sizeof(err)), STORE_OK);
		ck_assert_str_eq(view_env("KEY"), val);
	}
}
END_TEST

START_TEST(test_env_set_unset_seen)
{
	ck_assert_ptr_null(view_env("KEY"));
	ck_assert_int_eq(store_env_set(wr, "p1", "KEY", "v1", 2, err,
	    sizeof(err)), STORE_OK);
	ck_assert_str_eq(view_env("KEY"), "v1");
	ck_assert_int_eq(store_env_unset(wr, "p1", "KEY", err, sizeof(err)),
	    STORE_OK);
	ck_assert_ptr_null(view_env("KEY"));
	set_concurrency(3);
	ck_assert_uint_eq(view_concurrency(), 3);
	set_concurrency(0);
	ck_assert_uint_eq(view_concurrency(), 0);
}
END_TEST

/* The worker's own writes, through the handle whose view it is. */
START_TEST(test_own_write_seen)
{
	ck_assert_ptr_null(view_env("KEY"));
	ck_assert_int_eq(store_env_set(rd, "p1", "KEY", "mine", 4, err,
	    sizeof(err)), STORE_OK);
	ck_assert_str_eq(view_env("KEY"), "mine");
}
END_TEST

/* A token that cannot be read: nothing is trusted, every read goes to
 * the store, and the view is used again once a token is written. */
START_TEST(test_unreadable_token_reads_store)
{
	char		path[1100];
	unsigned long	loads;

	set_concurrency(2);
	ck_assert_uint_eq(view_concurrency(), 2);
	snprintf(path, sizeof(path), "%s/.generation", root);
	ck_assert_int_eq(truncate(path, 0), 0);
	loads = store_view_loads(rd);
	ck_assert_uint_eq(view_concurrency(), 2);
	ck_assert_uint_eq(view_concurrency(), 2);
	ck_assert_uint_eq(store_view_loads(rd), loads);	/* not cached */
	set_concurrency(5);	/* writes a token again */
	ck_assert_uint_eq(view_concurrency(), 5);
	ck_assert_uint_eq(store_view_loads(rd), loads + 1);
	ck_assert_uint_eq(view_concurrency(), 5);
	ck_assert_uint_eq(store_view_loads(rd), loads + 1);
}
END_TEST

/* A new worker writes a fresh token: what a writer that died before its
 * own bump changed is seen. */
START_TEST(test_new_worker_bumps)
{
	struct store	*other;
	char		 path[1100];
	int		 fd;

	set_concurrency(2);
	ck_assert_uint_eq(view_concurrency(), 2);
	/* A write that bypassed the token, as a crash before the bump. */
	snprintf(path, sizeof(path), "%s/p1/.limits", root);
	ck_assert_int_ge(fd = open(path, O_WRONLY | O_TRUNC), 0);
	ck_assert_int_eq(write(fd, "concurrency=7\n", 14), 14);
	close(fd);
	ck_assert_uint_eq(view_concurrency(), 2);
	other = store_open(root, err, sizeof(err));
	ck_assert_ptr_nonnull(other);
	ck_assert_uint_eq(view_concurrency(), 7);
	store_close(other);
}
END_TEST

static Suite *
store_view_suite(void)
{
	Suite	*s = suite_create("store_view");
	TCase	*tc = tcase_create("view");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_hit_reads_nothing);
	tcase_add_test(tc, test_upload_and_rollback_seen);
	tcase_add_test(tc, test_delete_and_reupload_seen);
	tcase_add_test(tc, test_changes_within_one_tick_seen);
	tcase_add_test(tc, test_env_set_unset_seen);
	tcase_add_test(tc, test_own_write_seen);
	tcase_add_test(tc, test_unreadable_token_reads_store);
	tcase_add_test(tc, test_new_worker_bumps);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(store_view_suite());
	int	 failed;

	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
