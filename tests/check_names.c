/*
 * check_names.c - unit tests for names.c: the validators that stand
 * between untrusted path segments and the store (SPEC §2, §7).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"

/* Valid iff name_valid says so for the whole C string. */
#define VALID(s)	name_valid((s), strlen(s))
#define ENV_VALID(s)	name_env_valid((s), strlen(s))

static char *
repeat(char c, size_t n)
{
	char	*s = malloc(n + 1);

	ck_assert_ptr_nonnull(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

START_TEST(test_name_valid_accepts)
{
	ck_assert_int_eq(VALID("a"), 1);
	ck_assert_int_eq(VALID("Z"), 1);
	ck_assert_int_eq(VALID("0"), 1);
	ck_assert_int_eq(VALID("p1"), 1);
	ck_assert_int_eq(VALID("myFunction"), 1);
	ck_assert_int_eq(VALID("a-b_c-9"), 1);
	ck_assert_int_eq(VALID("9_"), 1);
	ck_assert_int_eq(VALID("x-"), 1);
}
END_TEST

START_TEST(test_name_valid_rejects)
{
	ck_assert_int_eq(VALID(""), 0);
	ck_assert_int_eq(VALID("."), 0);
	ck_assert_int_eq(VALID(".."), 0);
	ck_assert_int_eq(VALID(".env"), 0);
	ck_assert_int_eq(VALID("a.b"), 0);
	ck_assert_int_eq(VALID("a/b"), 0);
	ck_assert_int_eq(VALID("/a"), 0);
	ck_assert_int_eq(VALID("-a"), 0);
	ck_assert_int_eq(VALID("_a"), 0);
	ck_assert_int_eq(VALID("%2e%2e"), 0);
	ck_assert_int_eq(VALID("a%2fb"), 0);
	ck_assert_int_eq(VALID("a b"), 0);
	ck_assert_int_eq(VALID("a\n"), 0);
	ck_assert_int_eq(VALID("a\\b"), 0);
	ck_assert_int_eq(VALID("caf\xc3\xa9"), 0);	/* UTF-8 é */
	ck_assert_int_eq(VALID("\xc3\xa9"), 0);
	ck_assert_int_eq(VALID("a\xff"), 0);
	ck_assert_int_eq(name_valid(NULL, 0), 0);
	ck_assert_int_eq(name_valid(NULL, 3), 0);
}
END_TEST

START_TEST(test_name_valid_nul_inside)
{
	ck_assert_int_eq(name_valid("ab\0cd", 5), 0);
	ck_assert_int_eq(name_valid("ab\0", 3), 0);
	ck_assert_int_eq(name_valid("\0ab", 3), 0);
	/* The length decides, not the terminator. */
	ck_assert_int_eq(name_valid("ab\0cd", 2), 1);
	ck_assert_int_eq(name_valid("abc", 0), 0);
}
END_TEST

START_TEST(test_name_valid_length)
{
	char	*s64 = repeat('a', 64), *s65 = repeat('a', 65);

	ck_assert_int_eq(VALID(s64), 1);
	ck_assert_int_eq(VALID(s65), 0);
	ck_assert_int_eq(name_valid(s65, 64), 1);
	free(s64);
	free(s65);
}
END_TEST

START_TEST(test_env_valid_accepts)
{
	ck_assert_int_eq(ENV_VALID("A"), 1);
	ck_assert_int_eq(ENV_VALID("_"), 1);
	ck_assert_int_eq(ENV_VALID("API_KEY"), 1);
	ck_assert_int_eq(ENV_VALID("_PRIVATE2"), 1);
	ck_assert_int_eq(ENV_VALID("X9"), 1);
}
END_TEST

START_TEST(test_env_valid_rejects)
{
	ck_assert_int_eq(ENV_VALID(""), 0);
	ck_assert_int_eq(ENV_VALID("api_key"), 0);
	ck_assert_int_eq(ENV_VALID("Api"), 0);
	ck_assert_int_eq(ENV_VALID("API_key"), 0);
	ck_assert_int_eq(ENV_VALID("1API"), 0);
	ck_assert_int_eq(ENV_VALID("9"), 0);
	ck_assert_int_eq(ENV_VALID("API-KEY"), 0);
	ck_assert_int_eq(ENV_VALID("A.B"), 0);
	ck_assert_int_eq(ENV_VALID(".ENV"), 0);
	ck_assert_int_eq(ENV_VALID(".."), 0);
	ck_assert_int_eq(ENV_VALID("A B"), 0);
	ck_assert_int_eq(ENV_VALID("A/B"), 0);
	ck_assert_int_eq(ENV_VALID("\xc3\x89"), 0);
	ck_assert_int_eq(name_env_valid("AB\0C", 4), 0);
	ck_assert_int_eq(name_env_valid(NULL, 0), 0);
}
END_TEST

START_TEST(test_env_valid_length)
{
	char	*s128 = repeat('A', 128), *s129 = repeat('A', 129);

	ck_assert_int_eq(ENV_VALID(s128), 1);
	ck_assert_int_eq(ENV_VALID(s129), 0);
	free(s128);
	free(s129);
}
END_TEST

START_TEST(test_fn_id_ok)
{
	struct fn_id	 id;
	char		*s64 = repeat('z', 64);

	ck_assert_int_eq(name_fn_id(&id, "p1", 2, "r1", 2, "myFunction", 10),
	    0);
	ck_assert_str_eq(id.project, "p1");
	ck_assert_str_eq(id.request, "r1");
	ck_assert_str_eq(id.fn, "myFunction");

	/* Not NUL-terminated input is copied by length and terminated. */
	ck_assert_int_eq(name_fn_id(&id, "p1xx", 2, "r1yy", 2, "fnzz", 2), 0);
	ck_assert_str_eq(id.project, "p1");
	ck_assert_str_eq(id.request, "r1");
	ck_assert_str_eq(id.fn, "fn");

	ck_assert_int_eq(name_fn_id(&id, s64, 64, s64, 64, s64, 64), 0);
	ck_assert_str_eq(id.fn, s64);
	free(s64);
}
END_TEST

static int
all_zero(const struct fn_id *id)
{
	const unsigned char	*p = (const unsigned char *)id;
	size_t			 i;

	for (i = 0; i < sizeof(*id); i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

START_TEST(test_fn_id_rejects)
{
	struct fn_id	 id;
	char		*s65 = repeat('z', 65);

	memset(&id, 'x', sizeof(id));
	ck_assert_int_eq(name_fn_id(&id, "..", 2, "r1", 2, "f", 1), -1);
	ck_assert(all_zero(&id));

	memset(&id, 'x', sizeof(id));
	ck_assert_int_eq(name_fn_id(&id, "p1", 2, "", 0, "f", 1), -1);
	ck_assert(all_zero(&id));

	memset(&id, 'x', sizeof(id));
	ck_assert_int_eq(name_fn_id(&id, "p1", 2, "r1", 2, "a/b", 3), -1);
	ck_assert(all_zero(&id));

	memset(&id, 'x', sizeof(id));
	ck_assert_int_eq(name_fn_id(&id, "p1", 2, "r1", 2, s65, 65), -1);
	ck_assert(all_zero(&id));

	memset(&id, 'x', sizeof(id));
	ck_assert_int_eq(name_fn_id(&id, "p\0", 2, "r1", 2, "f", 1), -1);
	ck_assert(all_zero(&id));
	free(s65);
}
END_TEST

/* name_fn_key writes what "%s/%s/%s@%u" would, up to the longest names
 * and version. */
START_TEST(test_fn_key)
{
	struct fn_id	id;
	char		key[NAME_FN_KEY_MAX], want[NAME_FN_KEY_MAX + 8];
	char		longest[NAME_MAX_LEN];
	static const unsigned versions[] = { 0, 1, 9, 10, 99, 100, 4096,
	    999999999u, 1000000000u, 4294967295u };
	size_t		i, n;

	ck_assert_int_eq(name_fn_id(&id, "p1", 2, "r-1", 3, "hello_", 6), 0);
	for (i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		n = name_fn_key(key, &id, versions[i]);
		snprintf(want, sizeof(want), "p1/r-1/hello_@%u", versions[i]);
		ck_assert_str_eq(key, want);
		ck_assert_uint_eq(n, strlen(want));
	}
	memset(longest, 'z', sizeof(longest));
	ck_assert_int_eq(name_fn_id(&id, longest, NAME_MAX_LEN, longest,
	    NAME_MAX_LEN, longest, NAME_MAX_LEN), 0);
	n = name_fn_key(key, &id, 4294967295u);
	ck_assert_uint_eq(n, NAME_FN_KEY_MAX - 1);
	ck_assert_uint_eq(key[n], '\0');
	ck_assert_str_eq(key + n - 11, "@4294967295");
}
END_TEST

static Suite *
names_suite(void)
{
	Suite	*s = suite_create("names");
	TCase	*tc;

	tc = tcase_create("name");
	tcase_add_test(tc, test_name_valid_accepts);
	tcase_add_test(tc, test_name_valid_rejects);
	tcase_add_test(tc, test_name_valid_nul_inside);
	tcase_add_test(tc, test_name_valid_length);
	suite_add_tcase(s, tc);

	tc = tcase_create("env");
	tcase_add_test(tc, test_env_valid_accepts);
	tcase_add_test(tc, test_env_valid_rejects);
	tcase_add_test(tc, test_env_valid_length);
	suite_add_tcase(s, tc);

	tc = tcase_create("fn_id");
	tcase_add_test(tc, test_fn_id_ok);
	tcase_add_test(tc, test_fn_id_rejects);
	tcase_add_test(tc, test_fn_key);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(names_suite());
	int	 failed;

	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
