/*
 * check_arena.c - unit tests for the request arena (fcgi-app/base/arena.c):
 * copies are exact and NUL-terminated, every allocation is aligned and
 * disjoint from the others, one larger than a chunk works, and freeing
 * leaves an arena that can be used again.
 */
#include <check.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"

START_TEST(test_memdup_exact)
{
	struct arena	 a = { 0 };
	char		*s = arena_memdup(&a, "abc\0def", 7);

	ck_assert_int_eq(memcmp(s, "abc\0def", 8), 0);
	ck_assert_str_eq(arena_memdup(&a, "", 0), "");
	ck_assert_str_eq(arena_memdup(&a, NULL, 0), "");
	arena_free(&a);
}
END_TEST

/* Many allocations of every size across chunk boundaries: each aligned,
 * each still holding its own bytes at the end. */
START_TEST(test_aligned_and_disjoint)
{
	struct arena	 a = { 0 };
	unsigned char	*p[600];
	size_t		 i, j, n;

	for (i = 0; i < 600; i++) {
		n = i * 7 % 301;
		if (i % 97 == 0)
			n = 10000;	/* larger than a chunk */
		p[i] = arena_alloc(&a, n + 1);
		ck_assert_uint_eq((uintptr_t)p[i] % alignof(max_align_t), 0);
		memset(p[i], (int)(i & 0xff), n + 1);
	}
	for (i = 0; i < 600; i++) {
		n = i % 97 == 0 ? 10000 : i * 7 % 301;
		for (j = 0; j <= n; j++)
			ck_assert_uint_eq(p[i][j], i & 0xff);
	}
	arena_free(&a);
	ck_assert_ptr_null(a.head);
	ck_assert_str_eq(arena_memdup(&a, "again", 5), "again");
	arena_free(&a);
	arena_free(&a);		/* empty: harmless */
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("arena");
	TCase	*tc = tcase_create("arena");
	SRunner	*sr;
	int	 failed;

	tcase_add_test(tc, test_memdup_exact);
	tcase_add_test(tc, test_aligned_and_disjoint);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
