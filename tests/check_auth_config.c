/*
 * check_auth_config.c - unit tests for auth.c (the secret checks of
 * SPEC §3) and config.c (defaults, file, FNRUN_* overrides, secret files).
 *
 * The config_load tests change the environment and the working files; each
 * clears every FNRUN_* variable it could see first, works in its own
 * temporary directory (a checked fixture), and runs in Check's fork mode.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "config.h"

#define TPATH_MAX	4096

/* ---- auth ---------------------------------------------------------- */

START_TEST(test_auth_equal)
{
	ck_assert_int_eq(auth_equal("s3cret", "s3cret"), 1);
	ck_assert_int_eq(auth_equal("s3cret", "s3creT"), 0);
	ck_assert_int_eq(auth_equal("x3cret", "s3cret"), 0);
	ck_assert_int_eq(auth_equal(NULL, "s3cret"), 0);
	ck_assert_int_eq(auth_equal("", "s3cret"), 0);
	/* different lengths, prefixes either way */
	ck_assert_int_eq(auth_equal("s3cre", "s3cret"), 0);
	ck_assert_int_eq(auth_equal("s3crett", "s3cret"), 0);
	ck_assert_int_eq(auth_equal("s", "s3cret"), 0);
	ck_assert_int_eq(auth_equal("s3cret ", "s3cret"), 0);
	/* an empty or missing secret never lets anyone in */
	ck_assert_int_eq(auth_equal("", ""), 0);
	ck_assert_int_eq(auth_equal("anything", ""), 0);
	ck_assert_int_eq(auth_equal("anything", NULL), 0);
	ck_assert_int_eq(auth_equal(NULL, NULL), 0);
}
END_TEST

START_TEST(test_auth_equal_long)
{
	char	a[1000], b[1000];

	memset(a, 'k', sizeof(a) - 1);
	a[sizeof(a) - 1] = '\0';
	memcpy(b, a, sizeof(b));
	ck_assert_int_eq(auth_equal(a, b), 1);
	b[sizeof(b) - 2] = 'K';
	ck_assert_int_eq(auth_equal(a, b), 0);
}
END_TEST

START_TEST(test_auth_bearer)
{
	ck_assert_int_eq(auth_bearer("Bearer x", "x"), 1);
	ck_assert_int_eq(auth_bearer("bearer x", "x"), 1);
	ck_assert_int_eq(auth_bearer("BEARER x", "x"), 1);
	ck_assert_int_eq(auth_bearer("Bearer tok-123", "tok-123"), 1);
	ck_assert_int_eq(auth_bearer("Bearer y", "x"), 0);
	ck_assert_int_eq(auth_bearer("Basic x", "x"), 0);
	ck_assert_int_eq(auth_bearer("Bearer", "x"), 0);
	ck_assert_int_eq(auth_bearer("Bearer ", "x"), 0);
	ck_assert_int_eq(auth_bearer("Bearerx", "x"), 0);
	ck_assert_int_eq(auth_bearer("x", "x"), 0);
	ck_assert_int_eq(auth_bearer("", "x"), 0);
	ck_assert_int_eq(auth_bearer(NULL, "x"), 0);
	ck_assert_int_eq(auth_bearer("Bearer x", ""), 0);
	/* the token is compared whole */
	ck_assert_int_eq(auth_bearer("Bearer xx", "x"), 0);
	ck_assert_int_eq(auth_bearer("Bearer x", "xx"), 0);
}
END_TEST

/* ---- config_set ---------------------------------------------------- */

START_TEST(test_config_set_known)
{
	struct config	 cfg;
	char		 err[256];

	memset(&cfg, 0, sizeof(cfg));
	ck_assert_int_eq(config_set(&cfg, "store_dir", "/srv/store", err,
	    sizeof(err)), 0);
	ck_assert_str_eq(cfg.store_dir, "/srv/store");
	ck_assert_int_eq(config_set(&cfg, "memcached", "10.0.0.1:11211", err,
	    sizeof(err)), 0);
	ck_assert_str_eq(cfg.memcached, "10.0.0.1:11211");
	ck_assert_int_eq(config_set(&cfg, "timeout_ms", "1500", err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(cfg.timeout_ms, 1500);
	ck_assert_int_eq(config_set(&cfg, "timeout_max_ms", "60000", err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(cfg.timeout_max_ms, 60000);
	ck_assert_int_eq(config_set(&cfg, "hard_grace_ms", "100", err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(cfg.hard_grace_ms, 100);
	ck_assert_int_eq(config_set(&cfg, "memory_mb", "64", err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(cfg.memory_mb, 64);
	ck_assert_int_eq(config_set(&cfg, "memory_max_mb", "512", err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(cfg.memory_max_mb, 512);
	ck_assert_int_eq(config_set(&cfg, "body_max_bytes", "2097152", err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(cfg.body_max_bytes, 2097152);
	ck_assert_int_eq(config_set(&cfg, "source_max_bytes", "1000", err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(cfg.source_max_bytes, 1000);
	ck_assert_int_eq(config_set(&cfg, "response_max_bytes", "12345", err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(cfg.response_max_bytes, 12345);
	ck_assert_int_eq(config_set(&cfg, "log_max_bytes", "4096", err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(cfg.log_max_bytes, 4096);
	ck_assert_int_eq(config_set(&cfg, "admin_token_file", "/run/a", err,
	    sizeof(err)), 0);
	ck_assert_int_eq(config_set(&cfg, "invoke_key_file", "/run/i", err,
	    sizeof(err)), 0);
	ck_assert_int_eq(config_set(&cfg, "cache_key_file", "/run/c", err,
	    sizeof(err)), 0);
	/* keys for the scripts are accepted and ignored */
	ck_assert_int_eq(config_set(&cfg, "port", "8080", err, sizeof(err)), 0);
	ck_assert_int_eq(config_set(&cfg, "workers", "4", err, sizeof(err)), 0);
	/* several hosts (SPEC §14): the scripts' and nginx's keys */
	ck_assert_int_eq(config_set(&cfg, "role", "pool", err, sizeof(err)), 0);
	ck_assert_int_eq(config_set(&cfg, "fcgi_listen", "10.0.0.2:9000", err,
	    sizeof(err)), 0);
	ck_assert_int_eq(config_set(&cfg, "upstreams", "10.0.0.2:9000", err,
	    sizeof(err)), 0);
	ck_assert_int_eq(config_set(&cfg, "memcached_servers",
	    "10.0.0.2:11211,10.0.0.3:11211", err, sizeof(err)), 0);
	/* ... and the worker's own: whom a TCP pool accepts */
	ck_assert_int_eq(config_set(&cfg, "fcgi_allow", "10.0.0.1,10.0.0.9",
	    err, sizeof(err)), 0);
	ck_assert_str_eq(cfg.fcgi_allow, "10.0.0.1,10.0.0.9");
}
END_TEST

/* SPEC §13: half the workers rounded up, or the setting (above the
 * workers it never binds); quotas are positive integers. */
START_TEST(test_config_tenants)
{
	struct config	 cfg;
	char		 err[256];
	static const unsigned want[][3] = {
		/* workers, project_max_concurrency, effective */
		{ 1, 0, 1 }, { 2, 0, 1 }, { 3, 0, 2 }, { 4, 0, 2 }, { 5, 0, 3 },
		{ 4, 1, 1 }, { 4, 3, 3 }, { 4, 4, 4 }, { 4, 9, 9 }, { 1, 2, 2 },
	};
	size_t		 i;

	memset(&cfg, 0, sizeof(cfg));
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		char w[16], c[16];

		snprintf(w, sizeof(w), "%u", want[i][0]);
		snprintf(c, sizeof(c), "%u", want[i][1]);
		ck_assert_int_eq(config_set(&cfg, "workers", w, err,
		    sizeof(err)), 0);
		ck_assert_int_eq(config_set(&cfg, "project_max_concurrency", c,
		    err, sizeof(err)), 0);
		ck_assert_uint_eq(config_project_concurrency(&cfg), want[i][2]);
	}
	ck_assert_int_eq(config_set(&cfg, "workers", "0", err, sizeof(err)),
	    -1);
	ck_assert_int_eq(config_set(&cfg, "project_max_functions", "3", err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(cfg.project_max_functions, 3);
	ck_assert_int_eq(config_set(&cfg, "project_max_store_bytes", "4096",
	    err, sizeof(err)), 0);
	ck_assert_uint_eq(cfg.project_max_store_bytes, 4096);
	ck_assert_int_eq(config_set(&cfg, "env_value_max_bytes", "64", err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(cfg.env_value_max_bytes, 64);
	ck_assert_int_eq(config_set(&cfg, "function_max_versions", "0", err,
	    sizeof(err)), -1);
	ck_assert_int_eq(config_set(&cfg, "project_max_env_vars", "x", err,
	    sizeof(err)), -1);
}
END_TEST

START_TEST(test_config_set_unknown)
{
	struct config	 cfg;
	char		 err[256];

	memset(&cfg, 0, sizeof(cfg));
	err[0] = '\0';
	ck_assert_int_eq(config_set(&cfg, "no_such_key", "1", err,
	    sizeof(err)), -1);
	ck_assert_msg(err[0] != '\0', "err not filled");
	ck_assert_int_eq(config_set(&cfg, "", "1", err, sizeof(err)), -1);
	ck_assert_int_eq(config_set(&cfg, "TIMEOUT_MS", "1", err,
	    sizeof(err)), -1);
	ck_assert_int_eq(config_set(&cfg, "timeout_ms ", "1", err,
	    sizeof(err)), -1);
}
END_TEST

START_TEST(test_config_set_bad_numbers)
{
	static const char *const keys[] = { "timeout_ms", "timeout_max_ms",
	    "hard_grace_ms", "memory_mb", "memory_max_mb", "body_max_bytes",
	    "source_max_bytes", "response_max_bytes", "log_max_bytes" };
	static const char *const bad[] = { "0", "-1", "abc", "1x", "", " ",
	    "+5", "1.5", "0x10", "99999999999999999999999999" };
	struct config	 cfg;
	char		 err[256];
	size_t		 i, j;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		memset(&cfg, 0, sizeof(cfg));
		ck_assert_int_eq(config_set(&cfg, keys[i], "7", err,
		    sizeof(err)), 0);
		for (j = 0; j < sizeof(bad) / sizeof(bad[0]); j++) {
			err[0] = '\0';
			ck_assert_msg(config_set(&cfg, keys[i], bad[j], err,
			    sizeof(err)) == -1, "%s = '%s' accepted", keys[i],
			    bad[j]);
			ck_assert_msg(err[0] != '\0', "%s = '%s': no err",
			    keys[i], bad[j]);
		}
	}
	/* an unsigned field does not silently wrap */
	memset(&cfg, 0, sizeof(cfg));
	ck_assert_int_eq(config_set(&cfg, "timeout_ms", "4294967296", err,
	    sizeof(err)), -1);
}
END_TEST

START_TEST(test_config_set_long_string)
{
	struct config	 cfg;
	char		 err[256], *v;

	memset(&cfg, 0, sizeof(cfg));
	v = malloc(sizeof(cfg.memcached) + 1);
	ck_assert_ptr_nonnull(v);
	memset(v, 'h', sizeof(cfg.memcached));
	v[sizeof(cfg.memcached)] = '\0';
	ck_assert_int_eq(config_set(&cfg, "memcached", v, err, sizeof(err)),
	    -1);
	free(v);
}
END_TEST

/* ---- config_load --------------------------------------------------- */

static char	tmpdir[TPATH_MAX];

static const char *const fnrun_vars[] = { "FNRUN_CONFIG", "FNRUN_STORE_DIR",
    "FNRUN_MEMCACHED", "FNRUN_ADMIN_TOKEN_FILE", "FNRUN_INVOKE_KEY_FILE",
    "FNRUN_CACHE_KEY_FILE", "FNRUN_TIMEOUT_MS", "FNRUN_TIMEOUT_MAX_MS",
    "FNRUN_HARD_GRACE_MS", "FNRUN_MEMORY_MB", "FNRUN_MEMORY_MAX_MB",
    "FNRUN_BODY_MAX_BYTES", "FNRUN_SOURCE_MAX_BYTES",
    "FNRUN_RESPONSE_MAX_BYTES", "FNRUN_LOG_MAX_BYTES", "FNRUN_STATE_DIR",
    "FNRUN_LISTEN", "FNRUN_PORT", "FNRUN_WORKERS", "FNRUN_MEMCACHED_PORT",
    "FNRUN_WORKER_BIN", "FNRUN_SOCKET" };

static void
write_file(const char *name, const char *content, char *path, size_t plen)
{
	FILE	*f;

	snprintf(path, plen, "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_ne(fputs(content, f), EOF);
	ck_assert_int_eq(fclose(f), 0);
}

/* A fresh directory with the three secret files, pointed at by the env. */
static void
cfg_setup(void)
{
	char	path[TPATH_MAX + 64];
	size_t	i;

	for (i = 0; i < sizeof(fnrun_vars) / sizeof(fnrun_vars[0]); i++)
		unsetenv(fnrun_vars[i]);
	snprintf(tmpdir, sizeof(tmpdir), "%s/check_config.XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	/* Never pick up a fnrun.conf from wherever the tests run. */
	snprintf(path, sizeof(path), "%s/absent.conf", tmpdir);
	setenv("FNRUN_CONFIG", path, 1);
	write_file("admin_token", "admin-secret\n", path, sizeof(path));
	setenv("FNRUN_ADMIN_TOKEN_FILE", path, 1);
	write_file("invoke_key", "invoke-secret", path, sizeof(path));
	setenv("FNRUN_INVOKE_KEY_FILE", path, 1);
	write_file("cache_key", "cache-secret\nsecond line\n", path,
	    sizeof(path));
	setenv("FNRUN_CACHE_KEY_FILE", path, 1);
}

static void
cfg_teardown(void)
{
	char	cmd[TPATH_MAX + 16];

	if (tmpdir[0] == '\0')
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	tmpdir[0] = '\0';
}

START_TEST(test_config_load_defaults)
{
	struct config	 cfg;
	char		 err[512] = "";

	ck_assert_msg(config_load(&cfg, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(cfg.timeout_ms, 1000);
	ck_assert_uint_eq(cfg.memory_mb, 32);
	ck_assert_uint_eq(cfg.body_max_bytes, 1048576);
	ck_assert_uint_eq(cfg.source_max_bytes, 262144);
	ck_assert_uint_eq(cfg.response_max_bytes, 6291456);
	ck_assert_uint_eq(cfg.log_max_bytes, 65536);
	ck_assert_uint_le(cfg.timeout_ms, cfg.timeout_max_ms);
	ck_assert_uint_le(cfg.memory_mb, cfg.memory_max_mb);
	/* secrets: first line, without its newline */
	ck_assert_str_eq(cfg.admin_token, "admin-secret");
	ck_assert_str_eq(cfg.invoke_key, "invoke-secret");
	ck_assert_str_eq(cfg.cache_key, "cache-secret");
}
END_TEST

START_TEST(test_config_load_file_and_env)
{
	struct config	 cfg;
	char		 err[512] = "", path[TPATH_MAX + 64];

	write_file("fnrun.conf",
	    "# fnrun test configuration\n"
	    "\n"
	    "timeout_ms = 1500\n"
	    "   # indented comment\n"
	    "memory_mb=48\n"
	    "  store_dir   =   /srv/fn store  \n"
	    "log_max_bytes = 2048\n"
	    "port = 9999\n",
	    path, sizeof(path));
	setenv("FNRUN_CONFIG", path, 1);
	setenv("FNRUN_TIMEOUT_MS", "2500", 1);
	ck_assert_msg(config_load(&cfg, err, sizeof(err)) == 0, "%s", err);
	/* the environment beats the file, the file beats the default */
	ck_assert_uint_eq(cfg.timeout_ms, 2500);
	ck_assert_uint_eq(cfg.memory_mb, 48);
	ck_assert_str_eq(cfg.store_dir, "/srv/fn store");
	ck_assert_uint_eq(cfg.log_max_bytes, 2048);
	ck_assert_uint_eq(cfg.response_max_bytes, 6291456);
	ck_assert_str_eq(cfg.admin_token, "admin-secret");
	ck_assert_str_eq(cfg.invoke_key, "invoke-secret");
	ck_assert_str_eq(cfg.cache_key, "cache-secret");

	/* without the override the file's value stands */
	unsetenv("FNRUN_TIMEOUT_MS");
	ck_assert_msg(config_load(&cfg, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(cfg.timeout_ms, 1500);
}
END_TEST

START_TEST(test_config_load_secret_files_in_file)
{
	struct config	 cfg;
	char		 err[512] = "", conf[TPATH_MAX * 2], path[TPATH_MAX + 64];

	unsetenv("FNRUN_ADMIN_TOKEN_FILE");
	write_file("other_admin", "from-conf-file\r\n", path, sizeof(path));
	snprintf(conf, sizeof(conf), "admin_token_file = %s\n", path);
	write_file("fnrun.conf", conf, path, sizeof(path));
	setenv("FNRUN_CONFIG", path, 1);
	ck_assert_msg(config_load(&cfg, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(cfg.admin_token, "from-conf-file");
}
END_TEST

START_TEST(test_config_load_empty_secret)
{
	static const char *const vars[] = { "FNRUN_ADMIN_TOKEN_FILE",
	    "FNRUN_INVOKE_KEY_FILE", "FNRUN_CACHE_KEY_FILE" };
	static const char *const empties[] = { "", "\n", "\r\n", "\nsecret\n" };
	struct config	 cfg;
	char		 err[512], path[TPATH_MAX + 64], saved[TPATH_MAX + 64];
	size_t		 i, j;

	for (i = 0; i < 3; i++) {
		snprintf(saved, sizeof(saved), "%s", getenv(vars[i]));
		for (j = 0; j < sizeof(empties) / sizeof(empties[0]); j++) {
			write_file("empty", empties[j], path, sizeof(path));
			setenv(vars[i], path, 1);
			err[0] = '\0';
			ck_assert_msg(config_load(&cfg, err, sizeof(err)) == -1,
			    "%s: empty secret #%zu accepted", vars[i], j);
			ck_assert_msg(err[0] != '\0', "err not filled");
		}
		setenv(vars[i], saved, 1);
	}
	/* still fine with all three restored */
	ck_assert_msg(config_load(&cfg, err, sizeof(err)) == 0, "%s", err);
}
END_TEST

START_TEST(test_config_load_missing_secret)
{
	struct config	 cfg;
	char		 err[512] = "", path[TPATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/does-not-exist", tmpdir);
	setenv("FNRUN_INVOKE_KEY_FILE", path, 1);
	ck_assert_int_eq(config_load(&cfg, err, sizeof(err)), -1);
	ck_assert_msg(err[0] != '\0', "err not filled");
}
END_TEST

START_TEST(test_config_load_default_above_max)
{
	struct config	 cfg;
	char		 err[512], path[TPATH_MAX + 64];

	/* above the default maximum */
	setenv("FNRUN_TIMEOUT_MS", "30001", 1);
	err[0] = '\0';
	ck_assert_int_eq(config_load(&cfg, err, sizeof(err)), -1);
	ck_assert_msg(err[0] != '\0', "err not filled");
	unsetenv("FNRUN_TIMEOUT_MS");

	/* above a lowered maximum, from the file */
	write_file("fnrun.conf", "timeout_ms = 2000\ntimeout_max_ms = 1000\n",
	    path, sizeof(path));
	setenv("FNRUN_CONFIG", path, 1);
	ck_assert_int_eq(config_load(&cfg, err, sizeof(err)), -1);

	/* memory too */
	write_file("fnrun.conf", "memory_mb = 300\n", path, sizeof(path));
	ck_assert_int_eq(config_load(&cfg, err, sizeof(err)), -1);

	/* equal is fine */
	write_file("fnrun.conf", "timeout_ms = 1000\ntimeout_max_ms = 1000\n",
	    path, sizeof(path));
	ck_assert_msg(config_load(&cfg, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(cfg.timeout_max_ms, 1000);
}
END_TEST

START_TEST(test_config_load_bad_file)
{
	struct config	 cfg;
	char		 err[512], path[TPATH_MAX + 64];

	write_file("fnrun.conf", "# ok\nno_such_key = 1\n", path,
	    sizeof(path));
	setenv("FNRUN_CONFIG", path, 1);
	err[0] = '\0';
	ck_assert_int_eq(config_load(&cfg, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, ":2") != NULL, "no line number in '%s'", err);

	write_file("fnrun.conf", "timeout_ms = 0\n", path, sizeof(path));
	ck_assert_int_eq(config_load(&cfg, err, sizeof(err)), -1);

	write_file("fnrun.conf", "just some words\n", path, sizeof(path));
	ck_assert_int_eq(config_load(&cfg, err, sizeof(err)), -1);

	/* a bad environment override fails too */
	write_file("fnrun.conf", "# nothing\n", path, sizeof(path));
	setenv("FNRUN_MEMORY_MB", "lots", 1);
	ck_assert_int_eq(config_load(&cfg, err, sizeof(err)), -1);
}
END_TEST

static Suite *
auth_config_suite(void)
{
	Suite	*s = suite_create("auth_config");
	TCase	*tc;

	tc = tcase_create("auth");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_auth_equal);
	tcase_add_test(tc, test_auth_equal_long);
	tcase_add_test(tc, test_auth_bearer);
	suite_add_tcase(s, tc);

	tc = tcase_create("config_set");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_config_set_known);
	tcase_add_test(tc, test_config_set_unknown);
	tcase_add_test(tc, test_config_set_bad_numbers);
	tcase_add_test(tc, test_config_set_long_string);
	suite_add_tcase(s, tc);

	/* These setenv: one forked child per test keeps them apart. */
	tc = tcase_create("config_load");
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, cfg_setup, cfg_teardown);
	tcase_add_test(tc, test_config_load_defaults);
	tcase_add_test(tc, test_config_load_file_and_env);
	tcase_add_test(tc, test_config_load_secret_files_in_file);
	tcase_add_test(tc, test_config_load_empty_secret);
	tcase_add_test(tc, test_config_load_missing_secret);
	tcase_add_test(tc, test_config_load_default_above_max);
	tcase_add_test(tc, test_config_load_bad_file);
	tcase_add_test(tc, test_config_tenants);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(auth_config_suite());
	int	 failed;

	/* Always fork: the config_load tests change the environment. */
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
