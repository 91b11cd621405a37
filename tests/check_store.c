/*
 * check_store.c - unit tests for the store (fcgi-app/store/): round trips,
 * versions, the active pointer, deletion, project environments, concurrent
 * writers (processes and threads) and crashes at every step of a write
 * (SPEC §8). Each test gets its own store under a fresh mkdtemp directory.
 * Every test runs twice: with paths resolved by openat2, and by the
 * component-by-component walk of kernels without it (FNRUN_STORE_WALK=1,
 * read at store_open); fs_open_beneath is also tested directly both ways.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "names.h"
#include "store.h"
#include "store_fs.h"
#include "store_fixture.h"

static char		 base[PATH_MAX];	/* per tcase, made in the runner */
static char		 dir[PATH_MAX];		/* per test */
static char		 root[PATH_MAX];	/* the store root, inside dir */
static struct store	*st;
static char		 err[256];
static enum fs_resolve	 resolve;		/* per tcase, set by its setup */

/* ---- helpers ---- */

static void
rm_rf(const char *path)
{
	(void)nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void
base_setup(void)
{
	snprintf(base, sizeof(base), "/tmp/check_store.XXXXXX");
	if (mkdtemp(base) == NULL) {
		perror("mkdtemp");
		abort();
	}
}

static void
base_teardown(void)
{
	rm_rf(base);
}

static void
setup(void)
{
	/* Fork mode or not, the variable must say what this tcase wants. */
	if (resolve == FS_WALK)
		ck_assert_int_eq(setenv("FNRUN_STORE_WALK", "1", 1), 0);
	else
		ck_assert_int_eq(unsetenv("FNRUN_STORE_WALK"), 0);
	ck_assert_int_lt(snprintf(dir, sizeof(dir), "%.900s/t.XXXXXX", base),
	    (int)sizeof(dir));
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(root, sizeof(root), "%.950s/store", dir);
	err[0] = '\0';
	st = store_open(root, err, sizeof(err));
	ck_assert_msg(st != NULL, "store_open: %s", err);
	ck_assert_int_eq(store_walks(st), resolve == FS_WALK);
}

static void
setup_openat2(void)
{
	resolve = FS_OPENAT2;
	setup();
}

static void
setup_walk(void)
{
	resolve = FS_WALK;
	setup();
}

static void
teardown(void)
{
	store_close(st);
	st = NULL;
	rm_rf(dir);
}

static void
reopen(void)
{
	store_close(st);
	st = store_open(root, err, sizeof(err));
	ck_assert_msg(st != NULL, "store_open: %s", err);
}

static void
sha_hex(const char *s, size_t len, char hex[65])
{
	unsigned char	md[32];
	unsigned int	mdlen = 0, i;

	ck_assert_int_eq(EVP_Digest(s, len, md, &mdlen, EVP_sha256(), NULL),
	    1);
	for (i = 0; i < 32; i++)
		snprintf(hex + i * 2, 3, "%02x", md[i]);
}

/* Writes src and asserts success; returns the version. */
static unsigned
put(const struct fn_id *id, const char *src, unsigned timeout_ms,
    unsigned memory_mb, int activate, int *existed)
{
	struct store_limits	lim = { timeout_ms, memory_mb, 0 };
	struct store_version	v;
	int			ex = -1, rc;

	rc = store_write_version(st, id, src, strlen(src), &lim, activate, &v,
	    &ex, err, sizeof(err));
	ck_assert_msg(rc == STORE_OK, "store_write_version: %s", err);
	ck_assert(ex == 0 || ex == 1);
	if (existed != NULL)
		*existed = ex;
	return v.version;
}

static unsigned
active_of(const struct fn_id *id)
{
	unsigned	v = 0;
	int		rc;

	rc = store_get_active(st, id, &v, err, sizeof(err));
	ck_assert_msg(rc == STORE_OK, "store_get_active: %d %s", rc, err);
	return v;
}

static void
assert_source(const struct fn_id *id, unsigned version, const char *want)
{
	char	*src = NULL;
	size_t	 len = 0;
	int	 rc;

	rc = store_read_source(st, id, version, &src, &len, err, sizeof(err));
	ck_assert_msg(rc == STORE_OK, "store_read_source %u: %s", version,
	    err);
	ck_assert_uint_eq(len, strlen(want));
	ck_assert_int_eq(memcmp(src, want, len), 0);
	ck_assert_int_eq(src[len], '\0');
	free(src);
}

/* Entries of root/rel, excluding . and .., -1 if it cannot be opened. */
static int
count_entries(const char *rel)
{
	char		 path[PATH_MAX * 2];
	struct dirent	*de;
	DIR		*d;
	int		 n = 0;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	if ((d = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/* Asserts root/rel holds exactly the names in want (NULL-terminated). */
static void
assert_entries(const char *rel, const char *const *want)
{
	char	path[PATH_MAX * 2];
	int	n = 0;

	for (; want[n] != NULL; n++) {
		snprintf(path, sizeof(path), "%s/%s/%s", root, rel, want[n]);
		ck_assert_msg(access(path, F_OK) == 0, "missing %s", path);
	}
	ck_assert_int_eq(count_entries(rel), n);
}

static void
write_file(const char *rel, const char *data, size_t len)
{
	char	 path[PATH_MAX * 2];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

/* ---- round trips and versions ---- */

START_TEST(test_open_creates_layout)
{
	struct stat	sb;
	char		path[PATH_MAX * 2];

	ck_assert_int_eq(stat(root, &sb), 0);
	ck_assert(S_ISDIR(sb.st_mode));
	snprintf(path, sizeof(path), "%s/.tmp", root);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert(S_ISDIR(sb.st_mode));
	snprintf(path, sizeof(path), "%s/.trash", root);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert(S_ISDIR(sb.st_mode));
	/* Opening again is harmless. .tmp, .trash and .generation
	 * (store_gen.c). */
	reopen();
	ck_assert_int_eq(count_entries(""), 3);
}
END_TEST

START_TEST(test_roundtrip)
{
	struct fn_id		id = mkid("p1", "r1", "myFunction");
	struct store_limits	lim = { 500, 16, 0 };
	struct store_version	v, g;
	time_t			t0, t1;
	int			existed = -1;
	char			*src;
	size_t			 len;
	const char		*abc_sha =
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

	t0 = time(NULL);
	ck_assert_int_eq(store_write_version(st, &id, "abc", 3, &lim, 1, &v,
	    &existed, err, sizeof(err)), STORE_OK);
	t1 = time(NULL);
	ck_assert_int_eq(existed, 0);
	ck_assert_uint_eq(v.version, 1);
	ck_assert_str_eq(v.sha256, abc_sha);
	ck_assert_uint_eq(v.size, 3);
	ck_assert_uint_eq(v.limits.timeout_ms, 500);
	ck_assert_uint_eq(v.limits.memory_mb, 16);
	ck_assert(v.created_at >= t0 && v.created_at <= t1);

	ck_assert_uint_eq(active_of(&id), 1);
	ck_assert_int_eq(store_get_version(st, &id, 1, &g, err, sizeof(err)),
	    STORE_OK);
	ck_assert_uint_eq(g.version, 1);
	ck_assert_str_eq(g.sha256, abc_sha);
	ck_assert_uint_eq(g.size, 3);
	ck_assert_int_eq((long long)g.created_at, (long long)v.created_at);
	ck_assert_uint_eq(g.limits.timeout_ms, 500);
	ck_assert_uint_eq(g.limits.memory_mb, 16);
	assert_source(&id, 1, "abc");

	/* After a reopen, as another worker would see it. */
	reopen();
	ck_assert_uint_eq(active_of(&id), 1);
	assert_source(&id, 1, "abc");

	/* An empty source and a source with a NUL byte survive as bytes. */
	ck_assert_int_eq(store_write_version(st, &id, "a\0b", 3, NULL, 1, &v,
	    &existed, err, sizeof(err)), STORE_OK);
	ck_assert_uint_eq(v.version, 2);
	ck_assert_int_eq(store_read_source(st, &id, 2, &src, &len, err,
	    sizeof(err)), STORE_OK);
	ck_assert_uint_eq(len, 3);
	ck_assert_int_eq(memcmp(src, "a\0b", 3), 0);
	free(src);
	ck_assert_int_eq(store_write_version(st, &id, "", 0, NULL, 1, &v,
	    &existed, err, sizeof(err)), STORE_OK);
	ck_assert_uint_eq(v.version, 3);
	ck_assert_str_eq(v.sha256,
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_source(&id, 3, "");
	ck_assert_int_eq(count_entries(".tmp"), 0);
}
END_TEST

START_TEST(test_not_found)
{
	struct fn_id		id = mkid("p1", "r1", "f");
	struct fn_id		other = mkid("p1", "r1", "g");
	struct store_version	v, *list = NULL;
	unsigned		version = 77, active = 77;
	char			*src = NULL;
	size_t			 len, n = 9;

	ck_assert_int_eq(store_get_active(st, &id, &version, err,
	    sizeof(err)), STORE_NOT_FOUND);
	ck_assert_int_eq(store_get_version(st, &id, 1, &v, err, sizeof(err)),
	    STORE_NOT_FOUND);
	ck_assert_int_eq(store_read_source(st, &id, 1, &src, &len, err,
	    sizeof(err)), STORE_NOT_FOUND);
	ck_assert_int_eq(store_list_versions(st, &id, &list, &n, &active, err,
	    sizeof(err)), STORE_NOT_FOUND);
	ck_assert_int_eq(store_set_active(st, &id, 1, err, sizeof(err)),
	    STORE_NOT_FOUND);

	put(&id, "one", 0, 0, 1, NULL);
	ck_assert_int_eq(store_get_version(st, &id, 2, &v, err, sizeof(err)),
	    STORE_NOT_FOUND);
	ck_assert_int_eq(store_get_version(st, &id, 0, &v, err, sizeof(err)),
	    STORE_NOT_FOUND);
	ck_assert_int_eq(store_read_source(st, &id, 2, &src, &len, err,
	    sizeof(err)), STORE_NOT_FOUND);
	ck_assert_int_eq(store_read_source(st, &id, 0, &src, &len, err,
	    sizeof(err)), STORE_NOT_FOUND);
	ck_assert_ptr_null(src);
	/* A sibling in the same request dir is still absent. */
	ck_assert_int_eq(store_get_active(st, &other, &version, err,
	    sizeof(err)), STORE_NOT_FOUND);
}
END_TEST

START_TEST(test_versions_increment)
{
	struct fn_id	id = mkid("p1", "r1", "f");

	ck_assert_uint_eq(put(&id, "one", 0, 0, 1, NULL), 1);
	ck_assert_uint_eq(put(&id, "two", 0, 0, 1, NULL), 2);
	ck_assert_uint_eq(put(&id, "three", 0, 0, 1, NULL), 3);
	ck_assert_uint_eq(active_of(&id), 3);
	assert_source(&id, 1, "one");
	assert_source(&id, 2, "two");
	assert_source(&id, 3, "three");
	/* An older source again is a new version: only the active counts. */
	ck_assert_uint_eq(put(&id, "one", 0, 0, 1, NULL), 4);
	ck_assert_uint_eq(active_of(&id), 4);
}
END_TEST

START_TEST(test_same_source_existed)
{
	struct fn_id		id = mkid("p1", "r1", "f");
	struct store_version	*list = NULL;
	size_t			 n = 0;
	unsigned		 active = 0;
	int			 existed = -1;

	ck_assert_uint_eq(put(&id, "same", 100, 8, 1, &existed), 1);
	ck_assert_int_eq(existed, 0);
	ck_assert_uint_eq(put(&id, "same", 100, 8, 1, &existed), 1);
	ck_assert_int_eq(existed, 1);
	/* The same holds without activation. */
	ck_assert_uint_eq(put(&id, "same", 100, 8, 0, &existed), 1);
	ck_assert_int_eq(existed, 1);

	ck_assert_int_eq(store_list_versions(st, &id, &list, &n, &active, err,
	    sizeof(err)), STORE_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(active, 1);
	free(list);
	/* Nothing was written for the re-uploads, not even a temp file. */
	ck_assert_int_eq(count_entries(".tmp"), 0);
}
END_TEST

START_TEST(test_different_limits)
{
	struct fn_id		id = mkid("p1", "r1", "f");
	struct store_version	v;
	int			existed = -1;

	ck_assert_uint_eq(put(&id, "src", 0, 0, 1, &existed), 1);
	ck_assert_uint_eq(put(&id, "src", 2000, 0, 1, &existed), 2);
	ck_assert_int_eq(existed, 0);
	ck_assert_uint_eq(put(&id, "src", 2000, 64, 1, &existed), 3);
	ck_assert_int_eq(existed, 0);
	ck_assert_uint_eq(put(&id, "src", 2000, 64, 1, &existed), 3);
	ck_assert_int_eq(existed, 1);
	ck_assert_uint_eq(active_of(&id), 3);
	ck_assert_int_eq(store_get_version(st, &id, 2, &v, err, sizeof(err)),
	    STORE_OK);
	ck_assert_uint_eq(v.limits.timeout_ms, 2000);
	ck_assert_uint_eq(v.limits.memory_mb, 0);
}
END_TEST

START_TEST(test_activate_zero)
{
	struct fn_id		id = mkid("p1", "r1", "f");
	struct fn_id		fresh = mkid("p1", "r1", "fresh");
	struct store_version	*list = NULL;
	size_t			 n = 0;
	unsigned		 active = 99, version = 99;
	int			 existed = -1;

	ck_assert_uint_eq(put(&id, "A", 0, 0, 1, NULL), 1);
	ck_assert_uint_eq(put(&id, "B", 0, 0, 0, &existed), 2);
	ck_assert_int_eq(existed, 0);
	ck_assert_uint_eq(active_of(&id), 1);
	/* B is not the active one, so it is stored again. */
	ck_assert_uint_eq(put(&id, "B", 0, 0, 0, &existed), 3);
	ck_assert_int_eq(existed, 0);
	ck_assert_uint_eq(active_of(&id), 1);

	ck_assert_int_eq(store_list_versions(st, &id, &list, &n, &active, err,
	    sizeof(err)), STORE_OK);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(active, 1);
	free(list);

	/* A function never activated has versions but no active one. */
	ck_assert_uint_eq(put(&fresh, "C", 0, 0, 0, NULL), 1);
	ck_assert_int_eq(store_get_active(st, &fresh, &version, err,
	    sizeof(err)), STORE_NOT_FOUND);
	ck_assert_int_eq(store_list_versions(st, &fresh, &list, &n, &active,
	    err, sizeof(err)), STORE_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(active, 0);
	free(list);
}
END_TEST

START_TEST(test_set_active_rollback)
{
	struct fn_id	id = mkid("p1", "r1", "f");
	struct fn_id	none = mkid("p1", "r1", "none");
	int		existed = -1;

	put(&id, "v1", 0, 0, 1, NULL);
	put(&id, "v2", 0, 0, 1, NULL);
	ck_assert_uint_eq(active_of(&id), 2);
	ck_assert_int_eq(store_set_active(st, &id, 1, err, sizeof(err)),
	    STORE_OK);
	ck_assert_uint_eq(active_of(&id), 1);
	ck_assert_int_eq(store_set_active(st, &id, 99, err, sizeof(err)),
	    STORE_NOT_FOUND);
	ck_assert_int_eq(store_set_active(st, &id, 0, err, sizeof(err)),
	    STORE_NOT_FOUND);
	ck_assert_uint_eq(active_of(&id), 1);
	ck_assert_int_eq(store_set_active(st, &none, 1, err, sizeof(err)),
	    STORE_NOT_FOUND);
	/* v2 is not active now, so uploading it makes a new version. */
	ck_assert_uint_eq(put(&id, "v2", 0, 0, 1, &existed), 3);
	ck_assert_int_eq(existed, 0);
	ck_assert_int_eq(store_set_active(st, &id, 2, err, sizeof(err)),
	    STORE_OK);
	ck_assert_uint_eq(active_of(&id), 2);
	ck_assert_int_eq(count_entries(".tmp"), 0);
}
END_TEST

START_TEST(test_list_versions)
{
	struct fn_id		 id = mkid("p1", "r1", "f");
	struct store_version	*list = NULL;
	char			 sha[65];
	size_t			 n = 0, i;
	unsigned		 active = 0;
	const char		*srcs[] = { "first", "second!", "third..." };

	/* More than 9, so that "10" sorts after "9" numerically. */
	for (i = 0; i < 11; i++)
		put(&id, srcs[i % 3], (unsigned)i, 0, 1, NULL);
	ck_assert_int_eq(store_set_active(st, &id, 5, err, sizeof(err)),
	    STORE_OK);
	ck_assert_int_eq(store_list_versions(st, &id, &list, &n, &active, err,
	    sizeof(err)), STORE_OK);
	ck_assert_uint_eq(n, 11);
	ck_assert_uint_eq(active, 5);
	for (i = 0; i < n; i++) {
		ck_assert_uint_eq(list[i].version, i + 1);
		sha_hex(srcs[i % 3], strlen(srcs[i % 3]), sha);
		ck_assert_str_eq(list[i].sha256, sha);
		ck_assert_uint_eq(list[i].size, strlen(srcs[i % 3]));
		ck_assert_uint_eq(list[i].limits.timeout_ms, i);
		ck_assert(list[i].created_at > 0);
	}
	free(list);
}
END_TEST

START_TEST(test_version_without_meta_skipped)
{
	struct fn_id		 id = mkid("p1", "r1", "f");
	struct store_version	*list = NULL, v;
	char			 path[PATH_MAX * 2];
	size_t			 n = 0;
	unsigned		 active = 0;

	put(&id, "one", 0, 0, 1, NULL);
	put(&id, "two", 0, 0, 1, NULL);
	/* A version 3 with a source but no meta, and junk names. */
	snprintf(path, sizeof(path), "%s/p1/r1/f/versions/3", root);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	write_file("p1/r1/f/versions/3/source.js", "x", 1);
	snprintf(path, sizeof(path), "%s/p1/r1/f/versions/007", root);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	write_file("p1/r1/f/versions/notanumber", "x", 1);

	ck_assert_int_eq(store_list_versions(st, &id, &list, &n, &active, err,
	    sizeof(err)), STORE_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(list[0].version, 1);
	ck_assert_uint_eq(list[1].version, 2);
	free(list);
	ck_assert_int_eq(store_get_version(st, &id, 3, &v, err, sizeof(err)),
	    STORE_NOT_FOUND);
	ck_assert_int_eq(store_set_active(st, &id, 3, err, sizeof(err)),
	    STORE_NOT_FOUND);
	ck_assert_uint_eq(active_of(&id), 2);
	/* The number is taken all the same: the next version is 4. */
	ck_assert_uint_eq(put(&id, "three", 0, 0, 1, NULL), 4);
}
END_TEST

START_TEST(test_active_parse_strict)
{
	struct fn_id	 id = mkid("p1", "r1", "f");
	unsigned	 v = 0;
	size_t		 i;
	const char	*bad[] = { "01\n", "1", "+1\n", "-1\n", " 1\n",
	    "1 \n", "1\n\n", "0\n", "\n", "", "4294967296\n", "1x\n",
	    "99999999999999999999999\n" };

	put(&id, "one", 0, 0, 1, NULL);
	put(&id, "two", 0, 0, 1, NULL);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file("p1/r1/f/active", bad[i], strlen(bad[i]));
		ck_assert_msg(store_get_active(st, &id, &v, err, sizeof(err))
		    == STORE_ERROR, "accepted active \"%s\"", bad[i]);
	}
	write_file("p1/r1/f/active", "4294967295\n", 11);
	ck_assert_int_eq(store_get_active(st, &id, &v, err, sizeof(err)),
	    STORE_OK);
	ck_assert_uint_eq(v, 4294967295u);
	write_file("p1/r1/f/active", "1\n", 2);
	ck_assert_uint_eq(active_of(&id), 1);
}
END_TEST

START_TEST(test_list_fns)
{
	struct fn_id	 a = mkid("p1", "r1", "b");
	struct fn_id	 b = mkid("p1", "r1", "a");
	struct fn_id	 c = mkid("p1", "r2", "a");
	struct fn_id	 d = mkid("p2", "r1", "z");
	struct store_fn	*list = NULL;
	size_t		 n = 99;

	put(&a, "a", 0, 0, 1, NULL);
	put(&a, "a2", 0, 0, 1, NULL);
	put(&b, "b", 0, 0, 1, NULL);
	put(&c, "c", 0, 0, 0, NULL);
	put(&d, "d", 0, 0, 1, NULL);
	/* The project's .env must not show up as a request. */
	ck_assert_int_eq(store_env_set(st, "p1", "KEY", "v", 1, err,
	    sizeof(err)), STORE_OK);

	ck_assert_int_eq(store_list_fns(st, "p1", &list, &n, err,
	    sizeof(err)), STORE_OK);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(list[0].request, "r1");
	ck_assert_str_eq(list[0].fn, "a");
	ck_assert_uint_eq(list[0].active, 1);
	ck_assert_str_eq(list[1].request, "r1");
	ck_assert_str_eq(list[1].fn, "b");
	ck_assert_uint_eq(list[1].active, 2);
	ck_assert_str_eq(list[2].request, "r2");
	ck_assert_str_eq(list[2].fn, "a");
	ck_assert_uint_eq(list[2].active, 0);
	free(list);

	ck_assert_int_eq(store_list_fns(st, "p2", &list, &n, err,
	    sizeof(err)), STORE_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(list[0].request, "r1");
	ck_assert_str_eq(list[0].fn, "z");
	ck_assert_uint_eq(list[0].active, 1);
	free(list);

	list = (struct store_fn *)&n;
	ck_assert_int_eq(store_list_fns(st, "p3", &list, &n, err,
	    sizeof(err)), STORE_OK);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(list);
}
END_TEST

START_TEST(test_list_projects)
{
	struct fn_id		 a = mkid("pb", "r1", "f");
	struct fn_id		 b = mkid("pa", "r1", "f");
	struct fn_id		 gone = mkid("pgone", "r1", "f");
	struct store_project	*list = NULL;
	size_t			 n = 99;
	char			 path[PATH_MAX + 16];

	ck_assert_int_eq(store_list_projects(st, &list, &n, err, sizeof(err)),
	    STORE_OK);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(list);

	put(&a, "a", 0, 0, 1, NULL);
	put(&b, "b", 0, 0, 1, NULL);
	put(&gone, "g", 0, 0, 1, NULL);
	ck_assert_int_eq(store_delete_fn(st, &gone, err, sizeof(err)),
	    STORE_OK);
	/* A variable alone makes a project; one unset again does not. */
	ck_assert_int_eq(store_env_set(st, "penv", "KEY", "v", 1, err,
	    sizeof(err)), STORE_OK);
	ck_assert_int_eq(store_env_set(st, "punset", "KEY", "v", 1, err,
	    sizeof(err)), STORE_OK);
	ck_assert_int_eq(store_env_unset(st, "punset", "KEY", err,
	    sizeof(err)), STORE_OK);
	/* Neither a stray directory nor a file with a project's name is one,
	 * nor something whose name is not a valid name. */
	snprintf(path, sizeof(path), "%s/pempty", root);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/pfile", root);
	ck_assert_int_eq(close(open(path, O_CREAT | O_WRONLY, 0644)), 0);
	snprintf(path, sizeof(path), "%s/bad name", root);
	ck_assert_int_eq(mkdir(path, 0755), 0);

	ck_assert_int_eq(store_list_projects(st, &list, &n, err, sizeof(err)),
	    STORE_OK);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(list[0].name, "pa");
	ck_assert_str_eq(list[1].name, "pb");
	ck_assert_str_eq(list[2].name, "penv");
	free(list);
}
END_TEST

START_TEST(test_delete)
{
	struct fn_id	 f = mkid("p1", "r1", "f");
	struct fn_id	 g = mkid("p1", "r1", "g");
	struct fn_id	 unknown = mkid("p9", "r9", "f");
	struct store_fn	*fns = NULL;
	struct store_version *list = NULL;
	char		*src = NULL;
	size_t		 n = 0, len;
	unsigned	 v = 0, active;
	int		 existed = -1;

	put(&f, "f1", 0, 0, 1, NULL);
	put(&f, "f2", 0, 0, 1, NULL);
	put(&g, "g1", 0, 0, 1, NULL);

	ck_assert_int_eq(store_delete_fn(st, &f, err, sizeof(err)), STORE_OK);
	ck_assert_int_eq(store_get_active(st, &f, &v, err, sizeof(err)),
	    STORE_NOT_FOUND);
	ck_assert_int_eq(store_list_versions(st, &f, &list, &n, &active, err,
	    sizeof(err)), STORE_NOT_FOUND);
	ck_assert_int_eq(store_read_source(st, &f, 1, &src, &len, err,
	    sizeof(err)), STORE_NOT_FOUND);
	ck_assert_int_eq(store_set_active(st, &f, 1, err, sizeof(err)),
	    STORE_NOT_FOUND);
	ck_assert_int_eq(store_delete_fn(st, &f, err, sizeof(err)),
	    STORE_NOT_FOUND);
	ck_assert_int_eq(store_delete_fn(st, &unknown, err, sizeof(err)),
	    STORE_NOT_FOUND);

	ck_assert_int_eq(store_list_fns(st, "p1", &fns, &n, err, sizeof(err)),
	    STORE_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(fns[0].fn, "g");
	free(fns);
	/* The trash copy is removed, and nothing lingers in .tmp. */
	ck_assert_int_eq(count_entries(".trash"), 0);
	ck_assert_int_eq(count_entries(".tmp"), 0);

	/* The name is free again and starts from version 1. */
	ck_assert_uint_eq(put(&f, "f2", 0, 0, 1, &existed), 1);
	ck_assert_int_eq(existed, 0);
	ck_assert_uint_eq(active_of(&f), 1);

	ck_assert_int_eq(store_delete_fn(st, &f, err, sizeof(err)), STORE_OK);
	ck_assert_int_eq(store_delete_fn(st, &g, err, sizeof(err)), STORE_OK);
	ck_assert_int_eq(store_list_fns(st, "p1", &fns, &n, err, sizeof(err)),
	    STORE_OK);
	ck_assert_uint_eq(n, 0);
	free(fns);
}
END_TEST

START_TEST(test_invalid_names_touch_nothing)
{
	struct fn_id		 id;
	struct store_version	 v;
	struct store_fn		*fns = NULL;
	struct store_env_var	*vars = NULL;
	unsigned		 version;
	size_t			 n;
	int			 existed;

	memset(&id, 0, sizeof(id));
	strcpy(id.project, "..");
	strcpy(id.request, "r1");
	strcpy(id.fn, "f");
	ck_assert_int_eq(store_write_version(st, &id, "x", 1, NULL, 1, &v,
	    &existed, err, sizeof(err)), STORE_ERROR);
	ck_assert_int_eq(store_get_active(st, &id, &version, err,
	    sizeof(err)), STORE_ERROR);
	ck_assert_int_eq(store_delete_fn(st, &id, err, sizeof(err)),
	    STORE_ERROR);
	strcpy(id.project, "p1");
	strcpy(id.fn, ".lock");
	ck_assert_int_eq(store_write_version(st, &id, "x", 1, NULL, 1, &v,
	    &existed, err, sizeof(err)), STORE_ERROR);
	/* Not NUL-terminated within the array. */
	memset(id.fn, 'a', sizeof(id.fn));
	ck_assert_int_eq(store_write_version(st, &id, "x", 1, NULL, 1, &v,
	    &existed, err, sizeof(err)), STORE_ERROR);

	ck_assert_int_eq(store_list_fns(st, "..", &fns, &n, err, sizeof(err)),
	    STORE_ERROR);
	ck_assert_int_eq(store_env_set(st, "p1", "lower", "v", 1, err,
	    sizeof(err)), STORE_ERROR);
	ck_assert_int_eq(store_env_set(st, "p1", "../X", "v", 1, err,
	    sizeof(err)), STORE_ERROR);
	ck_assert_int_eq(store_env_set(st, "../p1", "X", "v", 1, err,
	    sizeof(err)), STORE_ERROR);
	ck_assert_int_eq(store_env_unset(st, "p1", ".lock", err,
	    sizeof(err)), STORE_ERROR);
	ck_assert_int_eq(store_env_list(st, ".", 1, &vars, &n, err,
	    sizeof(err)), STORE_ERROR);
	/* Only the store's own entries exist: .tmp, .trash, .generation. */
	ck_assert_int_eq(count_entries(""), 3);
	ck_assert_int_eq(count_entries(".tmp"), 0);
}
END_TEST

START_TEST(test_symlinks_not_followed)
{
	struct fn_id		 real = mkid("p1", "r1", "real");
	struct fn_id		 link = mkid("p1", "r1", "link");
	struct store_env_var	*vars = NULL;
	char			 path[PATH_MAX * 2];
	unsigned		 v;
	size_t			 n = 9;

	put(&real, "src", 0, 0, 1, NULL);
	snprintf(path, sizeof(path), "%s/p1/r1/link", root);
	ck_assert_int_eq(symlink("real", path), 0);
	ck_assert_int_eq(store_get_active(st, &link, &v, err, sizeof(err)),
	    STORE_ERROR);

	ck_assert_int_eq(store_env_set(st, "p1", "REAL", "v", 1, err,
	    sizeof(err)), STORE_OK);
	snprintf(path, sizeof(path), "%s/p1/.env/LINKED", root);
	ck_assert_int_eq(symlink("/etc/passwd", path), 0);
	ck_assert_int_eq(store_env_list(st, "p1", 1, &vars, &n, err,
	    sizeof(err)), STORE_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(vars[0].name, "REAL");
	store_env_free(vars, n);
}
END_TEST

/* ---- environment ---- */

START_TEST(test_env)
{
	struct store_env_var	*vars = NULL;
	struct stat		 sb;
	char			 path[PATH_MAX * 2];
	size_t			 n = 0;

	/* Modes must be exact whatever the umask. */
	umask(0);
	ck_assert_int_eq(store_env_set(st, "p1", "API_KEY", "secret", 6, err,
	    sizeof(err)), STORE_OK);
	ck_assert_int_eq(store_env_set(st, "p1", "B", "", 0, err,
	    sizeof(err)), STORE_OK);
	ck_assert_int_eq(store_env_set(st, "p1", "API_KEY", "two\0x", 5, err,
	    sizeof(err)), STORE_OK);
	ck_assert_int_eq(store_env_set(st, "p2", "API_KEY", "other", 5, err,
	    sizeof(err)), STORE_OK);

	snprintf(path, sizeof(path), "%s/p1/.env/API_KEY", root);
	ck_assert_int_eq(lstat(path, &sb), 0);
	ck_assert(S_ISREG(sb.st_mode));
	ck_assert_uint_eq(sb.st_mode & 07777, 0600);
	snprintf(path, sizeof(path), "%s/p1/.env/B", root);
	ck_assert_int_eq(lstat(path, &sb), 0);
	ck_assert_uint_eq(sb.st_mode & 07777, 0600);
	snprintf(path, sizeof(path), "%s/p1/.env", root);
	ck_assert_int_eq(lstat(path, &sb), 0);
	ck_assert(S_ISDIR(sb.st_mode));
	ck_assert_uint_eq(sb.st_mode & 07777, 0700);

	ck_assert_int_eq(store_env_list(st, "p1", 1, &vars, &n, err,
	    sizeof(err)), STORE_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(vars[0].name, "API_KEY");
	ck_assert_uint_eq(vars[0].len, 5);
	ck_assert_int_eq(memcmp(vars[0].value, "two\0x", 5), 0);
	ck_assert_int_eq(vars[0].value[5], '\0');
	ck_assert_str_eq(vars[1].name, "B");
	ck_assert_uint_eq(vars[1].len, 0);
	ck_assert_ptr_nonnull(vars[1].value);
	ck_assert_str_eq(vars[1].value, "");
	store_env_free(vars, n);

	ck_assert_int_eq(store_env_list(st, "p1", 0, &vars, &n, err,
	    sizeof(err)), STORE_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(vars[0].name, "API_KEY");
	ck_assert_ptr_null(vars[0].value);
	ck_assert_str_eq(vars[1].name, "B");
	ck_assert_ptr_null(vars[1].value);
	store_env_free(vars, n);

	/* Projects do not share variables. */
	ck_assert_int_eq(store_env_list(st, "p2", 1, &vars, &n, err,
	    sizeof(err)), STORE_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(vars[0].value, "other");
	store_env_free(vars, n);

	ck_assert_int_eq(store_env_unset(st, "p1", "API_KEY", err,
	    sizeof(err)), STORE_OK);
	ck_assert_int_eq(store_env_unset(st, "p1", "API_KEY", err,
	    sizeof(err)), STORE_NOT_FOUND);
	ck_assert_int_eq(store_env_unset(st, "p9", "API_KEY", err,
	    sizeof(err)), STORE_NOT_FOUND);
	ck_assert_int_eq(store_env_list(st, "p1", 1, &vars, &n, err,
	    sizeof(err)), STORE_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(vars[0].name, "B");
	store_env_free(vars, n);

	vars = (struct store_env_var *)&n;
	ck_assert_int_eq(store_env_list(st, "p9", 1, &vars, &n, err,
	    sizeof(err)), STORE_OK);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(vars);
	ck_assert_int_eq(count_entries(".tmp"), 0);
}
END_TEST

/* ---- leftovers ---- */

static void
age(const char *rel, time_t ago)
{
	char		path[PATH_MAX * 2];
	struct timespec	ts[2];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	ts[0].tv_sec = ts[1].tv_sec = time(NULL) - ago;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW),
	    0);
}

START_TEST(test_open_sweeps_old_leftovers)
{
	char	path[PATH_MAX * 2];

	write_file(".tmp/old-file", "x", 1);
	snprintf(path, sizeof(path), "%s/.tmp/old-dir", root);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/.tmp/old-dir/sub", root);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	write_file(".tmp/old-dir/sub/source.js", "x", 1);
	snprintf(path, sizeof(path), "%s/.trash/old-fn", root);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	write_file(".trash/old-fn/active", "1\n", 2);
	write_file(".tmp/young-file", "x", 1);
	snprintf(path, sizeof(path), "%s/.trash/young-fn", root);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	age(".tmp/old-file", 7200);
	age(".tmp/old-dir", 7200);
	age(".trash/old-fn", 3700);
	age(".tmp/young-file", 60);

	reopen();
	assert_entries(".tmp", (const char *const[]){ "young-file", NULL });
	assert_entries(".trash", (const char *const[]){ "young-fn", NULL });
}
END_TEST

/* ---- concurrency ---- */

#define NPROC	20

static void
child_source(char *buf, size_t len, int i)
{
	snprintf(buf, len, "// writer %d\nmodule.exports = function (req, "
	    "res) { res.send('%d'); };\n", i, i);
}

/* Forks n children that each run fn(i) at the same instant, and asserts
 * they all exit 0. */
static void
run_children(int n, int (*fn)(int))
{
	pid_t	pids[64];
	int	p[2], i, status;
	char	c;

	ck_assert_int_le(n, 64);
	ck_assert_int_eq(pipe(p), 0);
	for (i = 0; i < n; i++) {
		pids[i] = fork();
		ck_assert_int_ne(pids[i], -1);
		if (pids[i] == 0) {
			close(p[1]);
			/* Released together when the parent closes p[1]. */
			while (read(p[0], &c, 1) == -1 && errno == EINTR)
				;
			_exit(fn(i));
		}
	}
	close(p[0]);
	close(p[1]);
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "child %d: status %d", i, status);
	}
}

static int
write_distinct(int i)
{
	struct store		*s;
	struct store_version	 v;
	struct fn_id		 id;
	char			 src[256], e[256];
	int			 existed = -1, rc;

	if ((s = store_open(root, e, sizeof(e))) == NULL)
		return 2;
	name_fn_id(&id, "p1", 2, "r1", 2, "f", 1);
	child_source(src, sizeof(src), i);
	rc = store_write_version(s, &id, src, strlen(src), NULL, 1, &v,
	    &existed, e, sizeof(e));
	if (rc != STORE_OK)
		fprintf(stderr, "child %d: %s\n", i, e);
	store_close(s);
	return rc == STORE_OK && existed == 0 && v.version >= 1 &&
	    v.version <= NPROC ? 0 : 1;
}

START_TEST(test_concurrent_processes)
{
	struct fn_id		 id = mkid("p1", "r1", "f");
	struct store_version	*list = NULL;
	char			 want[256], sha[65], *src;
	size_t			 n = 0, len, i;
	unsigned		 active = 0;
	int			 seen[NPROC] = { 0 }, j, match;

	run_children(NPROC, write_distinct);

	ck_assert_int_eq(store_list_versions(st, &id, &list, &n, &active, err,
	    sizeof(err)), STORE_OK);
	ck_assert_uint_eq(n, NPROC);
	/* Claims and activations are serialised: the last claim wins. */
	ck_assert_uint_eq(active, NPROC);
	for (i = 0; i < n; i++) {
		ck_assert_uint_eq(list[i].version, i + 1);
		ck_assert_int_eq(store_read_source(st, &id, list[i].version,
		    &src, &len, err, sizeof(err)), STORE_OK);
		sha_hex(src, len, sha);
		ck_assert_str_eq(sha, list[i].sha256);
		ck_assert_uint_eq(len, list[i].size);
		match = -1;
		for (j = 0; j < NPROC; j++) {
			child_source(want, sizeof(want), j);
			if (strcmp(src, want) == 0)
				match = j;
		}
		ck_assert_int_ne(match, -1);
		seen[match]++;
		free(src);
	}
	for (j = 0; j < NPROC; j++)
		ck_assert_int_eq(seen[j], 1);
	free(list);
	ck_assert_int_eq(count_entries(".tmp"), 0);
}
END_TEST

static int
write_same(int i)
{
	struct store		*s;
	struct store_version	 v;
	struct fn_id		 id;
	char			 e[256];
	int			 existed = -1, rc;

	(void)i;
	if ((s = store_open(root, e, sizeof(e))) == NULL)
		return 2;
	name_fn_id(&id, "p1", 2, "r1", 2, "f", 1);
	rc = store_write_version(s, &id, "same", 4, NULL, 1, &v, &existed, e,
	    sizeof(e));
	store_close(s);
	return rc == STORE_OK && v.version == 1 ? 0 : 1;
}

START_TEST(test_concurrent_same_source)
{
	struct fn_id		 id = mkid("p1", "r1", "f");
	struct store_version	*list = NULL;
	size_t			 n = 0;
	unsigned		 active = 0;

	/* The re-check under the lock turns all but one into "existed". */
	run_children(NPROC, write_same);
	ck_assert_int_eq(store_list_versions(st, &id, &list, &n, &active, err,
	    sizeof(err)), STORE_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(active, 1);
	free(list);
	ck_assert_int_eq(count_entries(".tmp"), 0);
}
END_TEST

static int
write_and_delete(int i)
{
	struct store		*s;
	struct store_version	 v;
	struct fn_id		 id;
	char			 src[64], e[256];
	int			 existed, rc, k, bad = 0;

	if ((s = store_open(root, e, sizeof(e))) == NULL)
		return 2;
	name_fn_id(&id, "p1", 2, "r1", 2, "f", 1);
	for (k = 0; k < 10; k++) {
		if (i % 2 == 0) {
			snprintf(src, sizeof(src), "%d.%d", i, k);
			rc = store_write_version(s, &id, src, strlen(src),
			    NULL, 1, &v, &existed, e, sizeof(e));
			if (rc != STORE_OK)
				bad = 1;
		} else {
			rc = store_delete_fn(s, &id, e, sizeof(e));
			if (rc != STORE_OK && rc != STORE_NOT_FOUND)
				bad = 1;
		}
		if (bad) {
			fprintf(stderr, "child %d: %d %s\n", i, rc, e);
			break;
		}
	}
	store_close(s);
	return bad;
}

START_TEST(test_concurrent_write_delete)
{
	struct fn_id		 id = mkid("p1", "r1", "f");
	struct store_version	*list = NULL;
	size_t			 n = 0, i;
	unsigned		 active = 0;
	int			 rc;

	run_children(10, write_and_delete);
	/* Whatever survived is whole: every listed version has its meta and
	 * the active one (if any) is among them. */
	rc = store_list_versions(st, &id, &list, &n, &active, err,
	    sizeof(err));
	ck_assert(rc == STORE_OK || rc == STORE_NOT_FOUND);
	if (rc == STORE_OK && active != 0) {
		for (i = 0; i < n && list[i].version != active; i++)
			;
		ck_assert_uint_lt(i, n);
	}
	free(list);
	/* .trash may keep a copy a racing writer touched; store_open sweeps
	 * it later. Temp files, though, never outlive their writer. */
	ck_assert_int_eq(count_entries(".tmp"), 0);
}
END_TEST

#define NTHREADS	8
#define PER_THREAD	5

struct thread_arg {
	int		index;
	int		failed;
	unsigned	versions[PER_THREAD];
};

static void *
thread_writer(void *p)
{
	struct thread_arg	*a = p;
	struct store_version	 v;
	struct fn_id		 id;
	char			 src[64], e[256];
	int			 k, existed;

	name_fn_id(&id, "p1", 2, "r1", 2, "t", 1);
	for (k = 0; k < PER_THREAD; k++) {
		snprintf(src, sizeof(src), "thread %d write %d", a->index, k);
		if (store_write_version(st, &id, src, strlen(src), NULL, 1,
		    &v, &existed, e, sizeof(e)) != STORE_OK || existed) {
			a->failed = 1;
			return NULL;
		}
		a->versions[k] = v.version;
	}
	return NULL;
}

START_TEST(test_concurrent_threads)
{
	struct fn_id		 id = mkid("p1", "r1", "t");
	struct thread_arg	 args[NTHREADS];
	pthread_t		 th[NTHREADS];
	int			 seen[NTHREADS * PER_THREAD + 1] = { 0 };
	int			 i, k;
	unsigned		 v;

	memset(args, 0, sizeof(args));
	/* All threads share one handle, as a worker's threads would. */
	for (i = 0; i < NTHREADS; i++) {
		args[i].index = i;
		ck_assert_int_eq(pthread_create(&th[i], NULL, thread_writer,
		    &args[i]), 0);
	}
	for (i = 0; i < NTHREADS; i++)
		ck_assert_int_eq(pthread_join(th[i], NULL), 0);
	for (i = 0; i < NTHREADS; i++) {
		ck_assert_int_eq(args[i].failed, 0);
		for (k = 0; k < PER_THREAD; k++) {
			v = args[i].versions[k];
			ck_assert(v >= 1 && v <= NTHREADS * PER_THREAD);
			seen[v]++;
			/* One thread's own writes are ordered. */
			if (k > 0)
				ck_assert_uint_gt(v, args[i].versions[k - 1]);
		}
	}
	for (i = 1; i <= NTHREADS * PER_THREAD; i++)
		ck_assert_int_eq(seen[i], 1);
	ck_assert_uint_eq(active_of(&id), NTHREADS * PER_THREAD);
}
END_TEST

/* ---- crashes ---- */

static const char *crash_at;

static void
crash_hook(const char *point)
{
	if (strcmp(point, crash_at) == 0)
		_exit(0);
}

/* Runs op in a child whose store dies at point; the child exits 0 only if
 * it got there. */
static void
crash_in_child(const char *point, void (*op)(struct store *))
{
	struct store	*s;
	pid_t		 pid;
	int		 status;

	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		if ((s = store_open(root, NULL, 0)) == NULL)
			_exit(2);
		crash_at = point;
		store_set_crash_hook(s, crash_hook);
		op(s);
		_exit(3);	/* the hook never fired */
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "crash child for %s: status %d", point, status);
	reopen();
}

static void
op_write_v2(struct store *s)
{
	struct store_version	v;
	struct fn_id		id;
	int			existed;

	name_fn_id(&id, "p1", 2, "r1", 2, "f", 1);
	(void)store_write_version(s, &id, "version two", 11, NULL, 1, &v,
	    &existed, NULL, 0);
}

static void
op_rollback_to_1(struct store *s)
{
	struct fn_id	id;

	name_fn_id(&id, "p1", 2, "r1", 2, "f", 1);
	(void)store_set_active(s, &id, 1, NULL, 0);
}

static void
op_env_new(struct store *s)
{
	(void)store_env_set(s, "p1", "X", "new", 3, NULL, 0);
}

/* The function dir and its versions hold nothing but whole entries. */
static void
assert_fn_clean(unsigned nversions)
{
	char		num[64];
	unsigned	i;

	assert_entries("p1/r1/f", (const char *const[]){ "active", ".lock",
	    "versions", NULL });
	ck_assert_int_eq(count_entries("p1/r1/f/versions"), (int)nversions);
	for (i = 1; i <= nversions; i++) {
		snprintf(num, sizeof(num), "p1/r1/f/versions/%u", i);
		assert_entries(num, (const char *const[]){ "source.js",
		    "meta", NULL });
	}
	ck_assert_int_eq(count_entries(".trash"), 0);
}

static void
assert_versions(unsigned nversions, unsigned active)
{
	struct fn_id		 id = mkid("p1", "r1", "f");
	struct store_version	*list = NULL;
	char			 sha[65];
	size_t			 n = 0;
	unsigned		 a = 0;

	ck_assert_int_eq(store_list_versions(st, &id, &list, &n, &a, err,
	    sizeof(err)), STORE_OK);
	ck_assert_uint_eq(n, nversions);
	ck_assert_uint_eq(a, active);
	ck_assert_uint_eq(active_of(&id), active);
	assert_source(&id, 1, "version one");
	sha_hex("version one", 11, sha);
	ck_assert_str_eq(list[0].sha256, sha);
	if (nversions >= 2) {
		assert_source(&id, 2, "version two");
		sha_hex("version two", 11, sha);
		ck_assert_str_eq(list[1].sha256, sha);
		ck_assert_uint_eq(list[1].size, 11);
	}
	free(list);
}

static void
setup_v1(void)
{
	struct fn_id	id = mkid("p1", "r1", "f");

	ck_assert_uint_eq(put(&id, "version one", 0, 0, 1, NULL), 1);
}

START_TEST(test_crash_version_written)
{
	struct fn_id	id = mkid("p1", "r1", "f");

	setup_v1();
	crash_in_child("version-written", op_write_v2);
	assert_versions(1, 1);
	assert_fn_clean(1);
	/* The complete temp dir is the only leftover. */
	ck_assert_int_eq(count_entries(".tmp"), 1);
	/* The store carries on: the next write takes version 2. */
	ck_assert_uint_eq(put(&id, "version two", 0, 0, 1, NULL), 2);
	assert_versions(2, 2);
}
END_TEST

START_TEST(test_crash_first_version_written)
{
	struct fn_id	 id = mkid("p1", "r1", "f");
	struct store_fn	*fns = NULL;
	unsigned	 v;
	size_t		 n = 9;

	crash_in_child("version-written", op_write_v2);
	ck_assert_int_eq(store_get_active(st, &id, &v, err, sizeof(err)),
	    STORE_NOT_FOUND);
	ck_assert_int_eq(store_list_fns(st, "p1", &fns, &n, err,
	    sizeof(err)), STORE_OK);
	ck_assert_uint_eq(n, 0);
	free(fns);
	/* Nothing outside .tmp was created (.generation is the store's). */
	assert_entries("", (const char *const[]){ ".generation", ".tmp",
	    ".trash", NULL });
	ck_assert_int_eq(count_entries(".tmp"), 1);
}
END_TEST

START_TEST(test_crash_version_renamed)
{
	setup_v1();
	crash_in_child("version-renamed", op_write_v2);
	/* The new version is whole and listable, but not active. */
	assert_versions(2, 1);
	assert_fn_clean(2);
	ck_assert_int_eq(count_entries(".tmp"), 0);
}
END_TEST

START_TEST(test_crash_active_written)
{
	setup_v1();
	crash_in_child("active-written", op_write_v2);
	assert_versions(2, 1);
	assert_fn_clean(2);
	/* The fsynced temp active file is the only leftover. */
	ck_assert_int_eq(count_entries(".tmp"), 1);
}
END_TEST

START_TEST(test_crash_active_renamed)
{
	setup_v1();
	crash_in_child("active-renamed", op_write_v2);
	assert_versions(2, 2);
	assert_fn_clean(2);
	ck_assert_int_eq(count_entries(".tmp"), 0);
}
END_TEST

START_TEST(test_crash_rollback_active_written)
{
	struct fn_id	id = mkid("p1", "r1", "f");

	setup_v1();
	ck_assert_uint_eq(put(&id, "version two", 0, 0, 1, NULL), 2);
	crash_in_child("active-written", op_rollback_to_1);
	assert_versions(2, 2);
	assert_fn_clean(2);
	crash_in_child("active-renamed", op_rollback_to_1);
	assert_versions(2, 1);
}
END_TEST

START_TEST(test_crash_env_written)
{
	struct store_env_var	*vars = NULL;
	size_t			 n = 0;

	ck_assert_int_eq(store_env_set(st, "p1", "X", "old", 3, err,
	    sizeof(err)), STORE_OK);
	crash_in_child("env-written", op_env_new);
	ck_assert_int_eq(store_env_list(st, "p1", 1, &vars, &n, err,
	    sizeof(err)), STORE_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(vars[0].name, "X");
	ck_assert_str_eq(vars[0].value, "old");
	store_env_free(vars, n);
	assert_entries("p1/.env", (const char *const[]){ "X", NULL });
	ck_assert_int_eq(count_entries(".tmp"), 1);
}
END_TEST

/* ---- quotas (SPEC §13) ---- */

static void
set_quotas(unsigned functions, unsigned versions, unsigned env_vars,
    size_t env_value_bytes, uint64_t store_bytes)
{
	struct store_quotas	q = { functions, versions, env_vars,
				    env_value_bytes, store_bytes };

	store_set_quotas(st, &q);
}

/* Writes src expecting want (STORE_OK or STORE_QUOTA); the version. */
static unsigned
put_rc(const struct fn_id *id, const char *src, int activate, int want)
{
	struct store_version	v;
	int			rc;

	memset(&v, 0, sizeof(v));
	err[0] = '\0';
	rc = store_write_version(st, id, src, strlen(src), NULL, activate, &v,
	    NULL, err, sizeof(err));
	ck_assert_msg(rc == want, "store_write_version: %d, want %d: %s", rc,
	    want, err);
	if (want == STORE_QUOTA)
		ck_assert_msg(err[0] != '\0', "a refusal says why");
	return v.version;
}

/* The versions id keeps, as "1,2,3", and its active version. */
static void
assert_kept(const struct fn_id *id, const char *want,
    unsigned want_active)
{
	struct store_version	*list = NULL;
	char			 got[256] = "";
	size_t			 n = 0, i;
	unsigned		 active = 0;

	ck_assert_int_eq(store_list_versions(st, id, &list, &n, &active, err,
	    sizeof(err)), STORE_OK);
	for (i = 0; i < n; i++)
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%u",
		    i > 0 ? "," : "", list[i].version);
	free(list);
	ck_assert_str_eq(got, want);
	ck_assert_uint_eq(active, want_active);
}

static struct store_usage
usage_of(const char *project)
{
	struct store_usage	u;

	ck_assert_int_eq(store_project_usage(st, project, &u, err,
	    sizeof(err)), STORE_OK);
	return u;
}

START_TEST(test_quota_functions)
{
	struct fn_id	f1 = mkid("p1", "r1", "f1"), f2 = mkid("p1", "r2", "f2");
	struct fn_id	f3 = mkid("p1", "r1", "f3"), o = mkid("p2", "r1", "f1");

	set_quotas(2, 0, 0, 0, 0);
	put_rc(&f1, "a", 1, STORE_OK);
	put_rc(&f2, "b", 1, STORE_OK);
	/* limit + 1: refused, and nothing of it exists. */
	put_rc(&f3, "c", 1, STORE_QUOTA);
	ck_assert_int_eq(count_entries("p1/r1"), 1);
	ck_assert_int_eq(count_entries(".tmp"), 0);
	/* Existing functions take new versions; other projects are apart. */
	put_rc(&f1, "a2", 1, STORE_OK);
	put_rc(&o, "x", 1, STORE_OK);
	ck_assert_uint_eq(usage_of("p1").functions, 2);
	ck_assert_int_eq(store_delete_fn(st, &f2, err, sizeof(err)),
	    STORE_OK);
	put_rc(&f3, "c", 1, STORE_OK);
	ck_assert_uint_eq(usage_of("p1").functions, 2);
}
END_TEST

START_TEST(test_quota_versions_pruned)
{
	struct fn_id	id = mkid("p1", "r1", "f");
	char		src[32];
	unsigned	i;

	set_quotas(0, 3, 0, 0, 0);
	for (i = 1; i <= 5; i++) {
		snprintf(src, sizeof(src), "v%u", i);
		ck_assert_uint_eq(put_rc(&id, src, 1, STORE_OK), i);
	}
	assert_kept(&id, "3,4,5", 5);
	assert_source(&id, 5, "v5");
	ck_assert_int_eq(count_entries(".trash"), 0);
	/* The active version is never removed: roll back to the oldest,
	 * then store without activating. */
	ck_assert_int_eq(store_set_active(st, &id, 3, err, sizeof(err)),
	    STORE_OK);
	put_rc(&id, "v6", 0, STORE_OK);
	assert_kept(&id, "3,5,6", 3);
	/* Activating the new one frees the old active one. */
	put_rc(&id, "v7", 1, STORE_OK);
	assert_kept(&id, "5,6,7", 7);
	ck_assert_uint_eq(usage_of("p1").versions_max, 3);

	/* With one version kept, an upload that would not be active has
	 * nothing it may replace: refused, nothing stored. */
	set_quotas(0, 1, 0, 0, 0);
	put_rc(&id, "v8", 1, STORE_OK);
	assert_kept(&id, "8", 8);
	put_rc(&id, "v9", 0, STORE_QUOTA);
	assert_kept(&id, "8", 8);
	ck_assert_int_eq(count_entries(".tmp"), 0);
	ck_assert_int_eq(count_entries("p1/r1/f/versions"), 1);
}
END_TEST

START_TEST(test_quota_env)
{
	set_quotas(0, 0, 2, 8, 0);
	ck_assert_int_eq(store_env_set(st, "p1", "A", "12345678", 8, err,
	    sizeof(err)), STORE_OK);
	ck_assert_int_eq(store_env_set(st, "p1", "B", "123456789", 9, err,
	    sizeof(err)), STORE_QUOTA);
	ck_assert_int_eq(store_env_set(st, "p1", "B", "b", 1, err,
	    sizeof(err)), STORE_OK);
	ck_assert_int_eq(store_env_set(st, "p1", "C", "c", 1, err,
	    sizeof(err)), STORE_QUOTA);
	ck_assert_int_eq(count_entries("p1/.env"), 2);
	ck_assert_int_eq(count_entries(".tmp"), 0);
	/* Replacing a variable at the limit is no new variable. */
	ck_assert_int_eq(store_env_set(st, "p1", "A", "new", 3, err,
	    sizeof(err)), STORE_OK);
	ck_assert_uint_eq(usage_of("p1").env_vars, 2);
	ck_assert_uint_eq(usage_of("p1").env_value_max, 3);
	ck_assert_int_eq(store_env_unset(st, "p1", "B", err, sizeof(err)),
	    STORE_OK);
	ck_assert_int_eq(store_env_set(st, "p1", "C", "c", 1, err,
	    sizeof(err)), STORE_OK);
	/* A value too large is refused before the project exists. */
	ck_assert_int_eq(store_env_set(st, "p9", "A", "123456789", 9, err,
	    sizeof(err)), STORE_QUOTA);
	ck_assert_int_eq(count_entries("p9"), -1);
}
END_TEST

START_TEST(test_quota_store_bytes)
{
	struct fn_id		f1 = mkid("p1", "r1", "f1");
	struct fn_id		f2 = mkid("p1", "r1", "f2");
	struct store_usage	u;
	char			s60[61], s10[11], s11[12];

	memset(s60, 'a', 60);
	s60[60] = '\0';
	memset(s11, 'b', 11);
	s11[11] = '\0';
	memset(s10, 'c', 10);
	s10[10] = '\0';
	set_quotas(0, 0, 0, 0, 100);
	put_rc(&f1, s60, 1, STORE_OK);
	ck_assert_int_eq(store_env_set(st, "p1", "A", s60, 30, err,
	    sizeof(err)), STORE_OK);
	/* 60 + 30 + 11 > 100: refused; 10 fits exactly. */
	put_rc(&f2, s11, 1, STORE_QUOTA);
	ck_assert_int_eq(count_entries("p1/r1"), 1);
	put_rc(&f2, s10, 1, STORE_OK);
	ck_assert_int_eq(store_env_set(st, "p1", "A", s60, 31, err,
	    sizeof(err)), STORE_QUOTA);
	ck_assert_int_eq(store_env_set(st, "p1", "B", "x", 1, err,
	    sizeof(err)), STORE_QUOTA);
	ck_assert_int_eq(store_env_set(st, "p1", "A", s60, 29, err,
	    sizeof(err)), STORE_OK);
	ck_assert_int_eq(store_env_set(st, "p1", "B", "x", 1, err,
	    sizeof(err)), STORE_OK);
	u = usage_of("p1");
	ck_assert_uint_eq(u.functions, 2);
	ck_assert_uint_eq(u.versions_max, 1);
	ck_assert_uint_eq(u.env_vars, 2);
	ck_assert_uint_eq(u.env_value_max, 29);
	ck_assert_uint_eq(u.store_bytes, 100);
	/* A source larger than the whole quota never gets a lock. */
	put_rc(&f1, "x", 1, STORE_QUOTA);

	/* Pruning frees what the new version needs. */
	set_quotas(0, 2, 0, 0, 100);
	ck_assert_int_eq(store_delete_fn(st, &f2, err, sizeof(err)),
	    STORE_OK);
	ck_assert_int_eq(store_env_unset(st, "p1", "A", err, sizeof(err)),
	    STORE_OK);
	ck_assert_int_eq(store_env_unset(st, "p1", "B", err, sizeof(err)),
	    STORE_OK);
	s60[40] = '\0';
	put_rc(&f1, s60, 1, STORE_OK);		/* 60 + 40 */
	s60[39] = 'z';
	put_rc(&f1, s60, 1, STORE_OK);		/* 40 + 40, the 60 pruned */
	assert_kept(&f1, "2,3", 3);
	ck_assert_uint_eq(usage_of("p1").store_bytes, 80);
	/* An unknown project holds nothing. */
	u = usage_of("nobody");
	ck_assert_uint_eq(u.functions + u.env_vars + u.store_bytes, 0);
}
END_TEST

START_TEST(test_project_limits)
{
	struct store_project_limits	l = { 3 };
	char				path[PATH_MAX * 2];

	l.concurrency = 9;
	ck_assert_int_eq(store_project_limits_get(st, "p1", &l, err,
	    sizeof(err)), STORE_OK);
	ck_assert_uint_eq(l.concurrency, 0);
	l.concurrency = 3;
	ck_assert_int_eq(store_project_limits_set(st, "p1", &l, err,
	    sizeof(err)), STORE_OK);
	l.concurrency = 0;
	ck_assert_int_eq(store_project_limits_get(st, "p1", &l, err,
	    sizeof(err)), STORE_OK);
	ck_assert_uint_eq(l.concurrency, 3);
	ck_assert_int_eq(count_entries(".tmp"), 0);
	l.concurrency = 0;
	ck_assert_int_eq(store_project_limits_set(st, "p1", &l, err,
	    sizeof(err)), STORE_OK);
	l.concurrency = 7;
	ck_assert_int_eq(store_project_limits_get(st, "p1", &l, err,
	    sizeof(err)), STORE_OK);
	ck_assert_uint_eq(l.concurrency, 0);
	/* Hostile files: malformed, or a symlink, never read as limits. */
	write_file("p1/.limits", "concurrency=0\n", 14);
	ck_assert_int_eq(store_project_limits_get(st, "p1", &l, err,
	    sizeof(err)), STORE_ERROR);
	write_file("p1/.limits", "concurrency=2", 13);
	ck_assert_int_eq(store_project_limits_get(st, "p1", &l, err,
	    sizeof(err)), STORE_ERROR);
	snprintf(path, sizeof(path), "%s/p1/.limits", root);
	ck_assert_int_eq(unlink(path), 0);
	write_file("elsewhere", "concurrency=5\n", 14);
	ck_assert_int_eq(symlink("../elsewhere", path), 0);
	ck_assert_int_eq(store_project_limits_get(st, "p1", &l, err,
	    sizeof(err)), STORE_ERROR);
	ck_assert_int_eq(store_project_limits_get(st, "..", &l, err,
	    sizeof(err)), STORE_ERROR);
}
END_TEST

/* Concurrent uploads of one function under a quota of versions: all
 * succeed, and what is kept is the newest, the last one active. */
static int
write_pruned(int i)
{
	struct store_quotas	q = { 0, 3, 0, 0, 0 };
	struct store		*s;
	struct store_version	 v;
	struct fn_id		 id;
	char			 e[256], src[256];
	int			 rc;

	if ((s = store_open(root, e, sizeof(e))) == NULL)
		return 2;
	store_set_quotas(s, &q);
	name_fn_id(&id, "p1", 2, "r1", 2, "f", 1);
	child_source(src, sizeof(src), i);
	rc = store_write_version(s, &id, src, strlen(src), NULL, 1, &v, NULL,
	    e, sizeof(e));
	store_close(s);
	return rc == STORE_OK ? 0 : 1;
}

START_TEST(test_concurrent_pruning)
{
	struct fn_id	id = mkid("p1", "r1", "f");
	char		want[32];

	run_children(NPROC, write_pruned);
	snprintf(want, sizeof(want), "%d,%d,%d", NPROC - 2, NPROC - 1, NPROC);
	assert_kept(&id, want, NPROC);
	ck_assert_int_eq(count_entries("p1/r1/f/versions"), 3);
	ck_assert_int_eq(count_entries(".tmp"), 0);
	ck_assert_int_eq(count_entries(".trash"), 0);
}
END_TEST

/* ---- fs_open_beneath, both ways ---- */

/* Opens path beneath root with flags the way this tcase resolves; returns
 * the fd (closed here) or -1, and errno in *e. */
static int
try_open(const char *path, int flags, int *e)
{
	int	rootfd, fd;

	rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(rootfd, 0);
	errno = 0;
	fd = fs_open_beneath(rootfd, path, flags, resolve);
	*e = errno;
	if (fd != -1)
		close(fd);
	close(rootfd);
	return fd == -1 ? -1 : 0;
}

START_TEST(test_open_beneath)
{
	char	path[PATH_MAX * 2];
	int	e;

	snprintf(path, sizeof(path), "%s/a", root);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/a/b", root);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	write_file("a/b/c", "x", 1);
	snprintf(path, sizeof(path), "%s/a/lb", root);
	ck_assert_int_eq(symlink("b", path), 0);
	snprintf(path, sizeof(path), "%s/a/b/lc", root);
	ck_assert_int_eq(symlink("c", path), 0);
	snprintf(path, sizeof(path), "%s/out", root);
	ck_assert_int_eq(symlink("/etc", path), 0);

	ck_assert_int_eq(try_open("a/b/c", O_RDONLY, &e), 0);
	ck_assert_int_eq(try_open("a/./b//c", O_RDONLY, &e), 0);
	ck_assert_int_eq(try_open("a/b", O_RDONLY | O_DIRECTORY, &e), 0);
	/* Absent: ENOENT, or ENOTDIR through a file. */
	ck_assert_int_eq(try_open("a/b/none", O_RDONLY, &e), -1);
	ck_assert_int_eq(e, ENOENT);
	ck_assert_int_eq(try_open("a/none/c", O_RDONLY, &e), -1);
	ck_assert_int_eq(e, ENOENT);
	ck_assert_int_eq(try_open("a/b/c/d", O_RDONLY, &e), -1);
	ck_assert_int_eq(e, ENOTDIR);
	/* A symlink anywhere on the path: ELOOP, also for O_DIRECTORY. */
	ck_assert_int_eq(try_open("a/lb/c", O_RDONLY, &e), -1);
	ck_assert_int_eq(e, ELOOP);
	ck_assert_int_eq(try_open("a/b/lc", O_RDONLY, &e), -1);
	ck_assert_int_eq(e, ELOOP);
	ck_assert_int_eq(try_open("a/lb", O_RDONLY | O_DIRECTORY, &e), -1);
	ck_assert_int_eq(e, ELOOP);
	ck_assert_int_eq(try_open("out/passwd", O_RDONLY, &e), -1);
	ck_assert_int_eq(e, ELOOP);
	/* Leaving the root, or any "..": EXDEV. */
	ck_assert_int_eq(try_open("../store/a/b/c", O_RDONLY, &e), -1);
	ck_assert_int_eq(e, EXDEV);
	ck_assert_int_eq(try_open("a/../a/b/c", O_RDONLY, &e), -1);
	ck_assert_int_eq(e, EXDEV);
	ck_assert_int_eq(try_open("a/b/..", O_RDONLY | O_DIRECTORY, &e), -1);
	ck_assert_int_eq(e, EXDEV);
	ck_assert_int_eq(try_open("/etc/passwd", O_RDONLY, &e), -1);
	ck_assert_int_eq(e, EXDEV);
	/* A name that merely starts with dots is a name. */
	write_file("a/..x", "y", 1);
	ck_assert_int_eq(try_open("a/..x", O_RDONLY, &e), 0);
}
END_TEST

/* The store tests, with paths resolved as setup_fn says; how names the
 * tcases. */
static void
add_cases(Suite *s, const char *how, void (*setup_fn)(void))
{
	TCase	*tc;
	char	 name[64];

	snprintf(name, sizeof(name), "basic-%s", how);
	tc = tcase_create(name);
	tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
	tcase_add_checked_fixture(tc, setup_fn, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_open_creates_layout);
	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_not_found);
	tcase_add_test(tc, test_versions_increment);
	tcase_add_test(tc, test_same_source_existed);
	tcase_add_test(tc, test_different_limits);
	tcase_add_test(tc, test_activate_zero);
	tcase_add_test(tc, test_set_active_rollback);
	tcase_add_test(tc, test_list_versions);
	tcase_add_test(tc, test_version_without_meta_skipped);
	tcase_add_test(tc, test_active_parse_strict);
	tcase_add_test(tc, test_list_fns);
	tcase_add_test(tc, test_list_projects);
	tcase_add_test(tc, test_delete);
	tcase_add_test(tc, test_invalid_names_touch_nothing);
	tcase_add_test(tc, test_symlinks_not_followed);
	tcase_add_test(tc, test_env);
	tcase_add_test(tc, test_open_sweeps_old_leftovers);
	tcase_add_test(tc, test_open_beneath);
	tcase_add_test(tc, test_quota_functions);
	tcase_add_test(tc, test_quota_versions_pruned);
	tcase_add_test(tc, test_quota_env);
	tcase_add_test(tc, test_quota_store_bytes);
	tcase_add_test(tc, test_project_limits);
	suite_add_tcase(s, tc);

	snprintf(name, sizeof(name), "concurrency-%s", how);
	tc = tcase_create(name);
	tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
	tcase_add_checked_fixture(tc, setup_fn, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_concurrent_processes);
	tcase_add_test(tc, test_concurrent_same_source);
	tcase_add_test(tc, test_concurrent_write_delete);
	tcase_add_test(tc, test_concurrent_threads);
	tcase_add_test(tc, test_concurrent_pruning);
	suite_add_tcase(s, tc);

	snprintf(name, sizeof(name), "crash-%s", how);
	tc = tcase_create(name);
	tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
	tcase_add_checked_fixture(tc, setup_fn, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_crash_version_written);
	tcase_add_test(tc, test_crash_first_version_written);
	tcase_add_test(tc, test_crash_version_renamed);
	tcase_add_test(tc, test_crash_active_written);
	tcase_add_test(tc, test_crash_active_renamed);
	tcase_add_test(tc, test_crash_rollback_active_written);
	tcase_add_test(tc, test_crash_env_written);
	suite_add_tcase(s, tc);
}

static Suite *
store_suite(void)
{
	Suite	*s = suite_create("store");

	add_cases(s, "openat2", setup_openat2);
	add_cases(s, "walk", setup_walk);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(store_suite());
	int	 failed;

	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
