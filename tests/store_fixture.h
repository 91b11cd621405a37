/*
 * store_fixture.h - what the store's unit tests (check_store.c,
 * check_store_view.c) share: a function id from its three names, and the
 * nftw callback that removes a test's store directory.
 */
#ifndef FNRUN_TESTS_STORE_FIXTURE_H
#define FNRUN_TESTS_STORE_FIXTURE_H

#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>

#include "names.h"

static inline int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static inline struct fn_id
mkid(const char *p, const char *r, const char *f)
{
	struct fn_id	id;

	ck_assert_int_eq(name_fn_id(&id, p, strlen(p), r, strlen(r), f,
	    strlen(f)), 0);
	return id;
}

#endif
