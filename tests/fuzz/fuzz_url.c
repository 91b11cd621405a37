/*
 * fuzz_url.c - URL parsing (fcgi-app/net/url.c: libcurl's URL API with the
 * URL Standard's normalization around it) and form encoding. The input up
 * to its first newline is a base URL, the rest the URL parsed against it
 * (no newline: no base); both are bytes as a function's strings hold them.
 * Invariants: a parsed URL's parts are printable ASCII with no space, its
 * host lower case, its port decimal and never the scheme's default, its
 * userinfo free of its delimiters; its serialization parses again to
 * itself (the Standard's idempotence), also as the base of "" and of
 * "#x"; form encoding writes only its safe bytes and decodes back to its
 * input when that is UTF-8. Corpus: tests/fuzz/corpus/url/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "url.h"
#include "utf8.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)	do { if (!(c)) abort(); } while (0)

static void
check_printable(const char *s, const char *also_forbidden)
{
	for (; *s != '\0'; s++) {
		CHECK((unsigned char)*s > 0x20 && (unsigned char)*s < 0x7f);
		CHECK(strchr(also_forbidden, *s) == NULL);
	}
}

static void
check_parts(const struct url *u)
{
	const char *p;

	check_printable(u->scheme, "");
	CHECK(u->scheme[0] != '\0');
	check_printable(u->username, ":@/?#");
	check_printable(u->password, "@/?#");
	check_printable(u->host, "/?#@");
	for (p = u->host; *p != '\0'; p++)
		CHECK(!(*p >= 'A' && *p <= 'Z'));
	for (p = u->port; *p != '\0'; p++)
		CHECK(*p >= '0' && *p <= '9');
	if (strcmp(u->scheme, "https") == 0)
		CHECK(strcmp(u->port, "443") != 0);
	if (strcmp(u->scheme, "http") == 0)
		CHECK(strcmp(u->port, "80") != 0);
	check_printable(u->path, "?#");
	if (u->query != NULL)
		check_printable(u->query, "#");
	if (u->fragment != NULL)
		check_printable(u->fragment, "");
}

/* rel against href (rel NULL: href alone) serializes to href without its
 * fragment, plus suffix. */
static void
check_reparse(const char *href, size_t len, const char *rel,
    const char *suffix)
{
	struct url again;
	struct buf b = { 0 }, want = { 0 };
	const char *why, *hash = memchr(href, '#', len);

	if (rel == NULL)
		CHECK(url_parse(&again, href, len, NULL, 0, &why) == 0);
	else
		CHECK(url_parse(&again, rel, strlen(rel), href, len, &why) == 0);
	url_serialize(&again, &b);
	buf_append(&want, href, rel == NULL || hash == NULL ? len :
	    (size_t)(hash - href));
	buf_puts(&want, suffix);
	CHECK(b.len == want.len && memcmp(b.data, want.data, b.len) == 0);
	url_free(&again);
	buf_free(&b);
	buf_free(&want);
}

static void
check_form(const char *s, size_t len)
{
	struct buf enc = { 0 }, dec = { 0 };
	size_t i;
	char c;

	url_form_encode(&enc, s, len);
	for (i = 0; i < enc.len; i++) {
		c = enc.data[i];
		CHECK((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("*-._+%", c) != NULL);
	}
	url_percent_decode(&dec, enc.data, enc.len, 1);
	CHECK(dec.len <= enc.len);
	if (utf8_valid_prefix(s, len) == len)
		CHECK(dec.len == len && memcmp(dec.data, s, len) == 0);
	buf_free(&enc);
	buf_free(&dec);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data, *nl, *why;
	const char *base = NULL, *in = s;
	size_t blen = 0, len = size;
	struct url u;
	struct buf href = { 0 };

	if ((nl = memchr(s, '\n', size)) != NULL) {
		base = s;
		blen = (size_t)(nl - s);
		in = nl + 1;
		len = size - blen - 1;
	}
	if (url_parse(&u, in, len, base, blen, &why) == 0) {
		check_parts(&u);
		url_serialize(&u, &href);
		check_reparse(href.data, href.len, NULL, "");
		check_reparse(href.data, href.len, "", "");
		check_reparse(href.data, href.len, "#x", "#x");
		url_free(&u);
		buf_free(&href);
	} else
		CHECK(why != NULL && u.scheme == NULL);
	check_form(in, len);
	return 0;
}
