/*
 * check_sandbox_alloc.c - unit tests for sandbox_alloc.c, the capped
 * allocator behind every Duktape heap: exact accounting, refusal at the
 * cap, per-instance state (no statics), and the free lists of small
 * blocks every heap of a thread shares.
 */
#include <check.h>
#include <pthread.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox_alloc.h"

/* Duktape's need on this platform (DUK_USE_ALIGN_BY 8): doubles and
 * 64-bit integers. */
#define ALIGNED(p)	(((uintptr_t)(p) % 8) == 0)

static struct sandbox_alloc
new_alloc(size_t limit)
{
	struct sandbox_alloc	a;

	memset(&a, 0, sizeof(a));
	a.limit = limit;
	return a;
}

START_TEST(test_malloc_free_accounting)
{
	struct sandbox_alloc	 a = new_alloc(1 << 20);
	char			*p, *q, *r;

	p = sandbox_alloc_malloc(&a, 300);
	ck_assert_ptr_nonnull(p);
	memset(p, 'p', 300);
	ck_assert_uint_eq(a.used, 300);
	ck_assert_uint_eq(a.peak, 300);
	q = sandbox_alloc_malloc(&a, 400);
	ck_assert_ptr_nonnull(q);
	memset(q, 'q', 400);
	ck_assert_uint_eq(a.used, 700);
	ck_assert_uint_eq(a.peak, 700);
	sandbox_alloc_free(&a, q);
	ck_assert_uint_eq(a.used, 300);
	ck_assert_uint_eq(a.peak, 700);
	r = sandbox_alloc_malloc(&a, 100);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(a.used, 400);
	ck_assert_uint_eq(a.peak, 700);
	sandbox_alloc_free(&a, p);
	sandbox_alloc_free(&a, r);
	ck_assert_uint_eq(a.used, 0);
	ck_assert_uint_eq(a.peak, 700);
	ck_assert_int_eq(a.hit_limit, 0);
}
END_TEST

START_TEST(test_many_blocks)
{
	struct sandbox_alloc	 a = new_alloc(64 << 20);
	void			*p[1000];
	size_t			 i, total = 0;

	for (i = 0; i < 1000; i++) {
		p[i] = sandbox_alloc_malloc(&a, i + 1);
		ck_assert_ptr_nonnull(p[i]);
		memset(p[i], (int)i, i + 1);
		total += i + 1;
	}
	ck_assert_uint_eq(a.used, total);
	ck_assert_uint_eq(a.peak, total);
	for (i = 0; i < 1000; i += 2)
		sandbox_alloc_free(&a, p[i]);
	for (i = 0; i < 1000; i += 2)
		total -= i + 1;
	ck_assert_uint_eq(a.used, total);
	for (i = 1; i < 1000; i += 2) {
		p[i] = sandbox_alloc_realloc(&a, p[i], 2 * (i + 1));
		ck_assert_ptr_nonnull(p[i]);
		ck_assert_uint_eq(((unsigned char *)p[i])[i], (unsigned char)i);
		total += i + 1;
	}
	ck_assert_uint_eq(a.used, total);
	for (i = 1; i < 1000; i += 2)
		sandbox_alloc_free(&a, p[i]);
	ck_assert_uint_eq(a.used, 0);
}
END_TEST

START_TEST(test_limit_refused)
{
	struct sandbox_alloc	 a = new_alloc(1000);
	void			*p, *q;

	/* more than the whole cap */
	ck_assert_ptr_null(sandbox_alloc_malloc(&a, 1001));
	ck_assert_int_eq(a.hit_limit, 1);
	ck_assert_uint_eq(a.used, 0);
	ck_assert_uint_eq(a.peak, 0);

	a.hit_limit = 0;
	p = sandbox_alloc_malloc(&a, 600);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(a.hit_limit, 0);
	/* more than what is left */
	ck_assert_ptr_null(sandbox_alloc_malloc(&a, 401));
	ck_assert_int_eq(a.hit_limit, 1);
	ck_assert_uint_eq(a.used, 600);
	ck_assert_uint_eq(a.peak, 600);
	/* exactly what is left is fine */
	q = sandbox_alloc_malloc(&a, 400);
	ck_assert_ptr_nonnull(q);
	ck_assert_uint_eq(a.used, 1000);
	ck_assert_ptr_null(sandbox_alloc_malloc(&a, 1));
	sandbox_alloc_free(&a, p);
	sandbox_alloc_free(&a, q);
	ck_assert_uint_eq(a.used, 0);
	/* a huge size is refused, not wrapped */
	ck_assert_ptr_null(sandbox_alloc_malloc(&a, SIZE_MAX));
	ck_assert_ptr_null(sandbox_alloc_malloc(&a, SIZE_MAX - 8));
	ck_assert_ptr_null(sandbox_alloc_realloc(&a, NULL, SIZE_MAX));
	ck_assert_uint_eq(a.used, 0);
}
END_TEST

START_TEST(test_realloc_growth_refused)
{
	struct sandbox_alloc	 a = new_alloc(1000);
	unsigned char		*p, *q;
	size_t			 i;

	p = sandbox_alloc_malloc(&a, 600);
	ck_assert_ptr_nonnull(p);
	for (i = 0; i < 600; i++)
		p[i] = (unsigned char)(i * 7);
	q = sandbox_alloc_realloc(&a, p, 1001);
	ck_assert_ptr_null(q);
	ck_assert_int_eq(a.hit_limit, 1);
	ck_assert_uint_eq(a.used, 600);
	/* the old block is intact and still owned */
	for (i = 0; i < 600; i++)
		ck_assert_uint_eq(p[i], (unsigned char)(i * 7));
	/* growth to exactly the cap is fine: old size does not count twice */
	q = sandbox_alloc_realloc(&a, p, 1000);
	ck_assert_ptr_nonnull(q);
	ck_assert_uint_eq(a.used, 1000);
	ck_assert_uint_eq(a.peak, 1000);
	for (i = 0; i < 600; i++)
		ck_assert_uint_eq(q[i], (unsigned char)(i * 7));
	q[999] = 1;
	ck_assert_ptr_null(sandbox_alloc_realloc(&a, q, SIZE_MAX));
	ck_assert_uint_eq(a.used, 1000);
	sandbox_alloc_free(&a, q);
	ck_assert_uint_eq(a.used, 0);
}
END_TEST

START_TEST(test_realloc_with_others_live)
{
	struct sandbox_alloc	 a = new_alloc(1000);
	char			*p, *q;

	p = sandbox_alloc_malloc(&a, 500);
	q = sandbox_alloc_malloc(&a, 300);
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(q);
	/* 300 -> 501 would make 1001 */
	ck_assert_ptr_null(sandbox_alloc_realloc(&a, q, 501));
	ck_assert_uint_eq(a.used, 800);
	q = sandbox_alloc_realloc(&a, q, 500);
	ck_assert_ptr_nonnull(q);
	ck_assert_uint_eq(a.used, 1000);
	sandbox_alloc_free(&a, p);
	sandbox_alloc_free(&a, q);
	ck_assert_uint_eq(a.used, 0);
}
END_TEST

START_TEST(test_realloc_shrink)
{
	struct sandbox_alloc	 a = new_alloc(1 << 20);
	char			*p;

	p = sandbox_alloc_malloc(&a, 4096);
	ck_assert_ptr_nonnull(p);
	memcpy(p, "keep me", 8);
	p = sandbox_alloc_realloc(&a, p, 16);
	ck_assert_ptr_nonnull(p);
	ck_assert_str_eq(p, "keep me");
	ck_assert_uint_eq(a.used, 16);
	ck_assert_uint_eq(a.peak, 4096);
	ck_assert(ALIGNED(p));
	sandbox_alloc_free(&a, p);
	ck_assert_uint_eq(a.used, 0);
}
END_TEST

START_TEST(test_realloc_null_is_malloc)
{
	struct sandbox_alloc	 a = new_alloc(1000);
	char			*p;

	p = sandbox_alloc_realloc(&a, NULL, 100);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(a.used, 100);
	ck_assert_ptr_null(sandbox_alloc_realloc(&a, NULL, 901));
	ck_assert_int_eq(a.hit_limit, 1);
	sandbox_alloc_free(&a, p);
	ck_assert_uint_eq(a.used, 0);
}
END_TEST

START_TEST(test_free_null_and_size_zero)
{
	struct sandbox_alloc	 a = new_alloc(1000);
	void			*p;

	sandbox_alloc_free(&a, NULL);
	ck_assert_uint_eq(a.used, 0);
	ck_assert_int_eq(a.hit_limit, 0);

	/* size 0: NULL or a freeable pointer, never a refusal */
	p = sandbox_alloc_malloc(&a, 0);
	ck_assert_int_eq(a.hit_limit, 0);
	sandbox_alloc_free(&a, p);
	ck_assert_uint_eq(a.used, 0);

	/* realloc to 0 releases the block (or returns a 0-size one) */
	p = sandbox_alloc_malloc(&a, 200);
	ck_assert_ptr_nonnull(p);
	p = sandbox_alloc_realloc(&a, p, 0);
	ck_assert_int_eq(a.hit_limit, 0);
	sandbox_alloc_free(&a, p);
	ck_assert_uint_eq(a.used, 0);
	ck_assert_uint_eq(a.peak, 200);

	p = sandbox_alloc_realloc(&a, NULL, 0);
	sandbox_alloc_free(&a, p);
	ck_assert_uint_eq(a.used, 0);
	ck_assert_int_eq(a.hit_limit, 0);
}
END_TEST

START_TEST(test_independent_instances)
{
	struct sandbox_alloc	 a = new_alloc(1000), b = new_alloc(1000);
	void			*pa, *pb, *pb2;

	pa = sandbox_alloc_malloc(&a, 800);
	ck_assert_ptr_nonnull(pa);
	/* b has its own cap: a's 800 do not count against it */
	pb = sandbox_alloc_malloc(&b, 800);
	ck_assert_ptr_nonnull(pb);
	ck_assert_uint_eq(a.used, 800);
	ck_assert_uint_eq(b.used, 800);
	/* a refusal in a leaves b alone */
	ck_assert_ptr_null(sandbox_alloc_malloc(&a, 300));
	ck_assert_int_eq(a.hit_limit, 1);
	ck_assert_int_eq(b.hit_limit, 0);
	pb2 = sandbox_alloc_malloc(&b, 200);
	ck_assert_ptr_nonnull(pb2);
	ck_assert_uint_eq(b.used, 1000);
	ck_assert_uint_eq(a.used, 800);
	sandbox_alloc_free(&a, pa);
	ck_assert_uint_eq(a.used, 0);
	ck_assert_uint_eq(b.used, 1000);
	ck_assert_uint_eq(a.peak, 800);
	ck_assert_uint_eq(b.peak, 1000);
	sandbox_alloc_free(&b, pb);
	sandbox_alloc_free(&b, pb2);
	ck_assert_uint_eq(b.used, 0);

	/* different caps */
	a = new_alloc(100);
	b = new_alloc(10000);
	ck_assert_ptr_null(sandbox_alloc_malloc(&a, 5000));
	pb = sandbox_alloc_malloc(&b, 5000);
	ck_assert_ptr_nonnull(pb);
	sandbox_alloc_free(&b, pb);
}
END_TEST

START_TEST(test_alignment)
{
	struct sandbox_alloc	 a = new_alloc(16 << 20);
	void			*p[64];
	size_t			 i;

	for (i = 0; i < 64; i++) {
		p[i] = sandbox_alloc_malloc(&a, i * 13 + 1);
		ck_assert_ptr_nonnull(p[i]);
		ck_assert_msg(ALIGNED(p[i]), "malloc(%zu) = %p misaligned",
		    i * 13 + 1, p[i]);
	}
	for (i = 0; i < 64; i++) {
		p[i] = sandbox_alloc_realloc(&a, p[i], i * 1000 + 17);
		ck_assert_ptr_nonnull(p[i]);
		ck_assert_msg(ALIGNED(p[i]), "realloc -> %p misaligned",
		    p[i]);
		/* the alignment is usable for what Duktape stores */
		*(double *)p[i] = 1.5;
		*(uint64_t *)p[i] = 3;
	}
	for (i = 0; i < 64; i++)
		sandbox_alloc_free(&a, p[i]);
	ck_assert_uint_eq(a.used, 0);
}
END_TEST

/*
 * Regression (bug found by this test): with a cap near SIZE_MAX (no cap at
 * all), a request that cannot be represented with the allocator's block
 * header must still fail cleanly. malloc(HDR + size) used to wrap for
 * size SIZE_MAX - 8 to a 23-byte block returned (and accounted) as if it
 * held SIZE_MAX - 8 bytes.
 */
START_TEST(test_no_wrap_without_cap)
{
	struct sandbox_alloc	 a = new_alloc(SIZE_MAX);
	void			*p;

	ck_assert_ptr_null(sandbox_alloc_malloc(&a, SIZE_MAX - 8));
	ck_assert_uint_eq(a.used, 0);
	p = sandbox_alloc_malloc(&a, 64);
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_null(sandbox_alloc_realloc(&a, p, SIZE_MAX - 8));
	ck_assert_uint_eq(a.used, 64);
	sandbox_alloc_free(&a, p);
	ck_assert_uint_eq(a.used, 0);
}
END_TEST

/* A small block freed by one heap is the next one of its class another
 * heap gets (the thread's free lists), each heap counting its own. */
START_TEST(test_freed_block_reused_across_heaps)
{
	struct sandbox_alloc	 a = new_alloc(1000), b = new_alloc(1000);
	char			*p, *q;

	p = sandbox_alloc_malloc(&a, 40);
	ck_assert_ptr_nonnull(p);
	sandbox_alloc_free(&a, p);
	q = sandbox_alloc_malloc(&b, 37);
	ck_assert_ptr_eq(q, p);
	memset(q, 'q', 37);
	ck_assert_uint_eq(a.used, 0);
	ck_assert_uint_eq(b.used, 37);
	sandbox_alloc_free(&b, q);
	ck_assert_uint_eq(b.used, 0);
}
END_TEST

/* Every small size, grown and shrunk through every class by realloc,
 * keeps its bytes, and blocks handed out again are whole. */
START_TEST(test_sizes_through_classes)
{
	struct sandbox_alloc	 a = new_alloc(16 << 20);
	unsigned char		*p[600];
	size_t			 i, j, n;

	for (i = 1; i < 600; i++) {
		p[i] = sandbox_alloc_malloc(&a, i);
		ck_assert_ptr_nonnull(p[i]);
		memset(p[i], (int)(i & 0xff), i);
	}
	for (i = 1; i < 600; i += 2)
		sandbox_alloc_free(&a, p[i]);
	for (i = 1; i < 600; i += 2) {
		p[i] = sandbox_alloc_malloc(&a, 600 - i);
		ck_assert_ptr_nonnull(p[i]);
		memset(p[i], (int)(i & 0xff), 600 - i);
	}
	for (i = 1; i < 600; i++) {
		n = i % 2 ? 600 - i : i;
		p[i] = sandbox_alloc_realloc(&a, p[i], n + 1 + i % 37);
		ck_assert_ptr_nonnull(p[i]);
		for (j = 0; j < n; j++)
			ck_assert_uint_eq(p[i][j], i & 0xff);
		memset(p[i], (int)(i & 0xff), n + 1 + i % 37);
		p[i] = sandbox_alloc_realloc(&a, p[i], n / 2 + 1);
		ck_assert_ptr_nonnull(p[i]);
		for (j = 0; j < n / 2 + 1; j++)
			ck_assert_uint_eq(p[i][j], i & 0xff);
	}
	for (i = 1; i < 600; i++)
		sandbox_alloc_free(&a, p[i]);
	ck_assert_uint_eq(a.used, 0);
}
END_TEST

/* Far more freed small blocks than the lists keep: the rest go back to
 * malloc, and all of them can be had again. */
START_TEST(test_lists_bounded)
{
	struct sandbox_alloc	 a = new_alloc(64 << 20);
	enum { N = 40000 };	/* 40,000 x 24 bytes: past the lists' bound */
	void			**p;
	size_t			 i;

	p = calloc(N, sizeof(*p));
	ck_assert_ptr_nonnull(p);
	for (i = 0; i < N; i++)
		ck_assert_ptr_nonnull(p[i] = sandbox_alloc_malloc(&a, 16));
	for (i = 0; i < N; i++)
		sandbox_alloc_free(&a, p[i]);
	for (i = 0; i < N; i++)
		ck_assert_ptr_nonnull(p[i] = sandbox_alloc_malloc(&a, 16));
	ck_assert_uint_eq(a.used, 16 * N);
	for (i = 0; i < N; i++)
		sandbox_alloc_free(&a, p[i]);
	ck_assert_uint_eq(a.used, 0);
	free(p);
}
END_TEST

struct freer {
	struct sandbox_alloc	*a;
	void			*p;
};

static void *
free_in_thread(void *arg)
{
	struct freer *f = arg;

	sandbox_alloc_free(f->a, f->p);
	f->p = sandbox_alloc_malloc(f->a, 100);
	sandbox_alloc_free(f->a, f->p);
	return NULL;
}

/* A block made in one thread may be freed in another (the spare heap is
 * made by a thread of its own); a thread's lists go when it exits (under
 * ASan, a leak there would fail this test's process). */
START_TEST(test_free_in_another_thread)
{
	struct sandbox_alloc	 a = new_alloc(1000);
	struct freer		 f = { &a, NULL };
	pthread_t		 t;

	f.p = sandbox_alloc_malloc(&a, 100);
	ck_assert_ptr_nonnull(f.p);
	ck_assert_int_eq(pthread_create(&t, NULL, free_in_thread, &f), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_uint_eq(a.used, 0);
	ck_assert_uint_eq(a.peak, 100);
}
END_TEST

static Suite *
sandbox_alloc_suite(void)
{
	Suite	*s = suite_create("sandbox_alloc");
	TCase	*tc;

	tc = tcase_create("accounting");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_malloc_free_accounting);
	tcase_add_test(tc, test_many_blocks);
	tcase_add_test(tc, test_realloc_shrink);
	tcase_add_test(tc, test_realloc_null_is_malloc);
	tcase_add_test(tc, test_free_null_and_size_zero);
	tcase_add_test(tc, test_alignment);
	suite_add_tcase(s, tc);

	tc = tcase_create("free lists");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_freed_block_reused_across_heaps);
	tcase_add_test(tc, test_sizes_through_classes);
	tcase_add_test(tc, test_lists_bounded);
	tcase_add_test(tc, test_free_in_another_thread);
	suite_add_tcase(s, tc);

	tc = tcase_create("limit");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_limit_refused);
	tcase_add_test(tc, test_realloc_growth_refused);
	tcase_add_test(tc, test_realloc_with_others_live);
	tcase_add_test(tc, test_independent_instances);
	tcase_add_test(tc, test_no_wrap_without_cap);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(sandbox_alloc_suite());
	int	 failed;

	/* Fork mode unless CK_FORK=no (for a debugger). */
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
