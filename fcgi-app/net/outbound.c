/*
 * outbound.c - one call's outbound HTTP requests through libcurl's multi
 * interface (outbound.h). It owns the curl handles, the queue beyond
 * max_in_flight, redirects, the response bytes until they are taken, and
 * the record of each request. It never touches a JavaScript heap.
 *
 * Egress is checked where the connection is made, not where the URL is
 * read: CURLOPT_OPENSOCKETFUNCTION hands us the address libcurl resolved
 * and is about to connect to, for every connection of every hop, and we
 * create the socket only when egress_check admits that address. Checking
 * the URL's host instead would let a name that resolves (or re-resolves:
 * DNS rebinding) to 127.0.0.1 through, and every alternate spelling of an
 * address (0x7f.1, 2130706433, [::ffff:127.0.0.1]) would need its own
 * parser; at connect time there is one binary address and one check. A
 * resolve-check-pin of our own would duplicate libcurl's resolver and
 * happy-eyeballs, and miss the addresses it falls back to.
 *
 * Redirects are followed here, not by libcurl (CURLOPT_FOLLOWLOCATION off),
 * so each hop gets the project's host check, the Fetch standard's method
 * and header rules (303 -> GET, Authorization dropped across origins) and
 * the 10-hop limit, and manual/error modes see the 3xx themselves.
 * libcurl never uses a proxy from the environment (CURLOPT_PROXY "").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <curl/curl.h>

#include "buf.h"
#include "clock.h"
#include "outbound.h"

/* Response header bytes of one request, all hops: libcurl bounds one
 * line; this bounds their number. */
#define HEADER_BYTES_MAX	(256 * 1024)

enum state { T_QUEUED, T_RUNNING, T_DONE };

struct transfer {
	struct outbound		*o;
	unsigned		 id;
	enum state		 state;
	CURL			*easy;
	int			 in_multi;
	char			*method;
	char			*url;		/* this hop's, normalised */
	char			*display;	/* the first URL, for records */
	struct outbound_header	*h;
	size_t			 nh;
	char			*body;
	size_t			 body_len;
	int			 has_body;
	enum outbound_redirect	 redirect;
	unsigned		 hops;
	char			 host[256];	/* this hop's, lower case */
	char			 denied[300];	/* the rule that refused */
	char			 errbuf[CURL_ERROR_SIZE];
	char			 why[128];	/* our own reason to stop */
	struct curl_slist	*hlist;
	struct buf		 resp;
	size_t			 header_bytes;
	char			 status_text[128];
	int64_t			 t0;
	struct outbound_response done;	/* T_DONE */
};

struct outbound {
	const struct outbound_conf	*conf;
	CURLM				*multi;
	struct transfer			**v;
	size_t				 n;
	size_t				 cap;
	unsigned			 started;
	unsigned			 running;
	size_t				 buffered;	/* resp bytes held */
	size_t				 bodies;	/* request bytes held */
	size_t				 budget;
	int				 over_budget;
	struct outbound_records		 rec;
	size_t				 rec_cap;
};

static const struct egress_policy no_lists;

static void
record(struct outbound *o, const struct transfer *t, long status,
    enum fetch_outcome outcome, const char *error)
{
	struct outbound_record *r, *nv;
	size_t cap;

	if (o->rec.n == o->rec_cap) {
		cap = o->rec_cap > 0 ? o->rec_cap * 2 : 8;
		if ((nv = realloc(o->rec.v, cap * sizeof(*nv))) == NULL)
			abort();
		o->rec.v = nv;
		o->rec_cap = cap;
	}
	r = &o->rec.v[o->rec.n++];
	r->method = buf_memdup(t->method, strlen(t->method));
	r->url = buf_memdup(t->display, strlen(t->display));
	r->status = status;
	r->duration_ms = (double)(clock_ns() - t->t0) / 1e6;
	r->outcome = outcome;
	r->error = error != NULL ? buf_memdup(error, strlen(error)) : NULL;
}

char *
outbound_display_url(const char *url)
{
	CURLU *u;
	char *s = NULL, *out = NULL;

	if ((u = curl_url()) == NULL)
		return NULL;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_USER, NULL, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_PASSWORD, NULL, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_OPTIONS, NULL, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_QUERY, NULL, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_URL, &s, 0) == CURLUE_OK) {
		out = buf_memdup(s, strlen(s));
		curl_free(s);
	}
	curl_url_cleanup(u);
	return out;
}

int
outbound_parse_status_line(const char *line, size_t len, char *reason,
    size_t reasonlen)
{
	size_t i = 5, j, n;

	if (reasonlen == 0 || len < 5 || memcmp(line, "HTTP/", 5) != 0)
		return -1;
	/* RFC 9112 §4: HTTP-version SP 3DIGIT SP [ reason-phrase ] */
	while (i < len && line[i] != ' ')
		i++;
	if (i + 4 > len || line[i] != ' ')
		return -1;
	for (j = i + 1; j < i + 4; j++)
		if (line[j] < '0' || line[j] > '9')
			return -1;
	i += 4;
	if (i < len && line[i] == ' ')
		i++;
	for (n = 0; i < len && line[i] != '\r' && line[i] != '\n' &&
	    n + 1 < reasonlen; i++)
		reason[n++] = line[i];
	reason[n] = '\0';
	return 0;
}

/* CURLOPT_OPENSOCKETFUNCTION: the egress check (see the header comment). */
static curl_socket_t
open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct transfer *t = clientp;
	const struct egress_policy *p = t->o->conf->policy != NULL ?
	    t->o->conf->policy : &no_lists;
	struct egress_addr addr;
	unsigned port;
	char rule[256];

	if (purpose != CURLSOCKTYPE_IPCXN ||
	    egress_from_sockaddr(&a->addr, &addr, &port) == -1) {
		snprintf(t->denied, sizeof(t->denied), "%s",
		    "only IPv4 and IPv6 connections are allowed");
		return CURL_SOCKET_BAD;
	}
	if (!egress_check(p, t->host, &addr, port, rule, sizeof(rule))) {
		snprintf(t->denied, sizeof(t->denied), "%s", rule);
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

static size_t
on_body(char *p, size_t size, size_t nmemb, void *ud)
{
	struct transfer *t = ud;
	struct outbound *o = t->o;
	size_t len = size * nmemb;

	if (o->bodies + o->buffered + len > o->budget) {
		o->over_budget = 1;
		return 0;	/* CURLE_WRITE_ERROR */
	}
	buf_append(&t->resp, p, len);
	o->buffered += len;
	return len;
}

static size_t
on_header(char *p, size_t size, size_t nmemb, void *ud)
{
	struct transfer *t = ud;
	size_t len = size * nmemb;

	t->header_bytes += len;
	if (t->header_bytes > HEADER_BYTES_MAX) {
		/* Not errbuf: libcurl writes its own words there. */
		snprintf(t->why, sizeof(t->why), "the response headers "
		    "exceed %d bytes", HEADER_BYTES_MAX);
		return 0;
	}
	/* The status line of each response (1xx, each hop): the last wins. */
	if (len >= 5 && memcmp(p, "HTTP/", 5) == 0 &&
	    outbound_parse_status_line(p, len, t->status_text,
	    sizeof(t->status_text)) == -1)
		t->status_text[0] = '\0';
	return len;
}

/* The request's headers as libcurl takes them, plus what keeps libcurl
 * from adding its own: a body's default Content-Type and Expect. */
static int
build_header_list(struct transfer *t)
{
	struct buf line = { 0 };
	struct curl_slist *l = NULL, *nl;
	int has_ctype = 0, has_expect = 0, rc = 0;
	size_t i;

	for (i = 0; i < t->nh && rc == 0; i++) {
		buf_reset(&line);
		buf_puts(&line, t->h[i].name);
		/* "name;" is how libcurl sends a header with no value. */
		if (t->h[i].value[0] == '\0')
			buf_puts(&line, ";");
		else {
			buf_puts(&line, ": ");
			buf_puts(&line, t->h[i].value);
		}
		has_ctype |= strcasecmp(t->h[i].name, "content-type") == 0;
		has_expect |= strcasecmp(t->h[i].name, "expect") == 0;
		if ((nl = curl_slist_append(l, line.data)) == NULL)
			rc = -1;
		else
			l = nl;
	}
	if (rc == 0 && t->has_body && !has_ctype &&
	    (nl = curl_slist_append(l, "Content-Type:")) != NULL)
		l = nl;
	if (rc == 0 && !has_expect && (nl = curl_slist_append(l, "Expect:")) !=
	    NULL)
		l = nl;
	buf_free(&line);
	curl_slist_free_all(t->hlist);
	t->hlist = l;
	return rc;
}

static int
apply_options(struct transfer *t)
{
	const struct outbound_conf *c = t->o->conf;
	CURL *e = t->easy;
	const curl_version_info_data *vi;
	CURLcode rc = CURLE_OK;

#define SET(opt, v)	do { if (rc == CURLE_OK) rc = curl_easy_setopt(e, opt, v); } while (0)
	SET(CURLOPT_URL, t->url);
	SET(CURLOPT_PRIVATE, t);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_PROXY, "");
	SET(CURLOPT_OPENSOCKETFUNCTION, open_socket);
	SET(CURLOPT_OPENSOCKETDATA, t);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, t);
	SET(CURLOPT_HEADERFUNCTION, on_header);
	SET(CURLOPT_HEADERDATA, t);
	SET(CURLOPT_ERRORBUFFER, t->errbuf);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	SET(CURLOPT_ACCEPT_ENCODING, "");
	if (c->ca_file != NULL && c->ca_file[0] != '\0') {
		/* CURLOPT_CAINFO replaces the default bundle file; the
		 * system's CAs still apply through the hashed directory
		 * (Debian's libcurl: --with-ca-path=/etc/ssl/certs), which
		 * OpenSSL searches beside the file. */
		vi = curl_version_info(CURLVERSION_NOW);
		SET(CURLOPT_CAINFO, c->ca_file);
		SET(CURLOPT_CAPATH, vi->capath != NULL ? vi->capath :
		    "/etc/ssl/certs");
	}
	if (strcmp(t->method, "GET") == 0 && !t->has_body)
		SET(CURLOPT_HTTPGET, 1L);
	else if (strcmp(t->method, "HEAD") == 0 && !t->has_body)
		SET(CURLOPT_NOBODY, 1L);
	else {
		if (strcmp(t->method, "POST") != 0)
			SET(CURLOPT_CUSTOMREQUEST, t->method);
		else
			SET(CURLOPT_POST, 1L);
		if (t->has_body || strcmp(t->method, "POST") == 0) {
			SET(CURLOPT_POSTFIELDSIZE_LARGE,
			    (curl_off_t)t->body_len);
			SET(CURLOPT_POSTFIELDS, t->body != NULL ? t->body : "");
		}
	}
	if (rc == CURLE_OK && build_header_list(t) == -1)
		return -1;
	SET(CURLOPT_HTTPHEADER, t->hlist);
#undef SET
	return rc == CURLE_OK ? 0 : -1;
}

/* Ends t with outcome and error (the response fields stay empty). */
static void
fail(struct transfer *t, enum fetch_outcome outcome, const char *fmt,
    const char *detail)
{
	struct outbound_response *d = &t->done;

	memset(d, 0, sizeof(*d));
	d->id = t->id;
	d->outcome = outcome;
	snprintf(d->error, sizeof(d->error), fmt, t->display, detail);
	record(t->o, t, 0, outcome, d->error);
	t->state = T_DONE;
}

static void
detach(struct transfer *t)
{
	struct outbound *o = t->o;

	if (t->easy == NULL)
		return;
	if (t->in_multi) {
		(void)curl_multi_remove_handle(o->multi, t->easy);
		t->in_multi = 0;
		o->running--;
	}
	curl_easy_cleanup(t->easy);
	t->easy = NULL;
	o->buffered -= t->resp.len;
}

/* Points t at url (its next hop): the scheme and the project's host list
 * are checked, then the transfer is (re)started. Returns 0, or -1 when t
 * ended (t->done says why). */
static int
start_hop(struct transfer *t, const char *url)
{
	const struct outbound_conf *c = t->o->conf;
	CURLU *u = NULL;
	char *scheme = NULL, *host = NULL, *norm = NULL, reason[300];
	size_t i;
	int rc = -1;

	if ((u = curl_url()) == NULL ||
	    curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &norm, 0) != CURLUE_OK) {
		fail(t, FETCH_FAILED, "fetch %s: %s", "the URL is not valid");
		goto out;
	}
	if (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0) {
		fail(t, FETCH_FAILED, "fetch %s: %s", "only http: and https: "
		    "URLs can be fetched");
		goto out;
	}
	snprintf(t->host, sizeof(t->host), "%s", host);
	for (i = 0; t->host[i] != '\0'; i++)
		if (t->host[i] >= 'A' && t->host[i] <= 'Z')
			t->host[i] = (char)(t->host[i] - 'A' + 'a');
	if (c->host_check != NULL && !c->host_check(c->host_check_arg, c->project, t->host,
	    reason, sizeof(reason))) {
		fail(t, FETCH_DENIED, "fetch %s refused: %s", reason);
		goto out;
	}
	free(t->url);
	t->url = buf_memdup(norm, strlen(norm));
	t->denied[0] = t->errbuf[0] = t->why[0] = t->status_text[0] = '\0';
	t->o->buffered -= t->resp.len;
	buf_reset(&t->resp);
	if (t->easy == NULL && (t->easy = curl_easy_init()) == NULL) {
		fail(t, FETCH_FAILED, "fetch %s: %s", "out of memory");
		goto out;
	}
	if (t->in_multi) {
		(void)curl_multi_remove_handle(t->o->multi, t->easy);
		t->in_multi = 0;
		t->o->running--;
	}
	curl_easy_reset(t->easy);
	if (apply_options(t) == -1 ||
	    curl_multi_add_handle(t->o->multi, t->easy) != CURLM_OK) {
		detach(t);
		fail(t, FETCH_FAILED, "fetch %s: %s", "libcurl refused the "
		    "request");
		goto out;
	}
	t->state = T_RUNNING;
	t->in_multi = 1;
	t->o->running++;
	rc = 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(norm);
	curl_url_cleanup(u);
	return rc;
}

static void
start_queued(struct outbound *o)
{
	size_t i;

	for (i = 0; i < o->n && o->running < o->conf->max_in_flight; i++)
		if (o->v[i]->state == T_QUEUED)
			(void)start_hop(o->v[i], o->v[i]->url);
}

static int
is_redirect(long status)
{
	return status == 301 || status == 302 || status == 303 ||
	    status == 307 || status == 308;
}

static int
same_origin(const char *a, const char *b)
{
	CURLU *ua = curl_url(), *ub = curl_url();
	char *sa = NULL, *sb = NULL, *ha = NULL, *hb = NULL, *pa = NULL,
	    *pb = NULL;
	int same = 0;

	if (ua != NULL && ub != NULL &&
	    curl_url_set(ua, CURLUPART_URL, a, 0) == CURLUE_OK &&
	    curl_url_set(ub, CURLUPART_URL, b, 0) == CURLUE_OK &&
	    curl_url_get(ua, CURLUPART_SCHEME, &sa, 0) == CURLUE_OK &&
	    curl_url_get(ub, CURLUPART_SCHEME, &sb, 0) == CURLUE_OK &&
	    curl_url_get(ua, CURLUPART_HOST, &ha, 0) == CURLUE_OK &&
	    curl_url_get(ub, CURLUPART_HOST, &hb, 0) == CURLUE_OK &&
	    curl_url_get(ua, CURLUPART_PORT, &pa, CURLU_DEFAULT_PORT) ==
	    CURLUE_OK &&
	    curl_url_get(ub, CURLUPART_PORT, &pb, CURLU_DEFAULT_PORT) ==
	    CURLUE_OK)
		same = strcasecmp(sa, sb) == 0 && strcasecmp(ha, hb) == 0 &&
		    strcmp(pa, pb) == 0;
	curl_free(sa);
	curl_free(sb);
	curl_free(ha);
	curl_free(hb);
	curl_free(pa);
	curl_free(pb);
	curl_url_cleanup(ua);
	curl_url_cleanup(ub);
	return same;
}

static void
drop_header(struct transfer *t, const char *name)
{
	size_t i = 0;

	while (i < t->nh) {
		if (strcasecmp(t->h[i].name, name) == 0) {
			free(t->h[i].name);
			free(t->h[i].value);
			memmove(&t->h[i], &t->h[i + 1],
			    (t->nh - i - 1) * sizeof(*t->h));
			t->nh--;
		} else
			i++;
	}
}

/* Fetch standard, "HTTP-redirect fetch": the next hop's request. */
static void
follow(struct transfer *t, long status, const char *location)
{
	char *next = buf_memdup(location, strlen(location));

	if (t->hops >= OUTBOUND_MAX_HOPS) {
		detach(t);
		fail(t, FETCH_FAILED, "fetch %s: %s", "more than 10 redirects");
		goto out;
	}
	t->hops++;
	if ((status == 303 && strcmp(t->method, "HEAD") != 0) ||
	    ((status == 301 || status == 302) &&
	    strcmp(t->method, "POST") == 0)) {
		free(t->method);
		t->method = buf_memdup("GET", 3);
		t->o->bodies -= t->body_len;
		free(t->body);
		t->body = NULL;
		t->body_len = 0;
		t->has_body = 0;
		drop_header(t, "content-type");
		drop_header(t, "content-length");
		drop_header(t, "content-encoding");
		drop_header(t, "content-language");
		drop_header(t, "content-location");
	}
	/* Credentials of one origin never go to another. */
	if (!same_origin(t->url, next)) {
		drop_header(t, "authorization");
		drop_header(t, "cookie");
		drop_header(t, "proxy-authorization");
	}
	if (start_hop(t, next) == -1)
		detach(t);
out:
	free(next);
}

static void
collect_headers(struct transfer *t)
{
	struct outbound_response *d = &t->done;
	struct curl_header *h, *prev = NULL;
	size_t n = 0;

	while ((h = curl_easy_nextheader(t->easy, CURLH_HEADER, -1, prev)) !=
	    NULL) {
		n++;
		prev = h;
	}
	if (n == 0)
		return;
	if ((d->headers = calloc(n, sizeof(*d->headers))) == NULL)
		abort();
	prev = NULL;
	while (d->nheaders < n && (h = curl_easy_nextheader(t->easy,
	    CURLH_HEADER, -1, prev)) != NULL) {
		d->headers[d->nheaders].name = buf_memdup(h->name,
		    strlen(h->name));
		d->headers[d->nheaders].value = buf_memdup(h->value,
		    strlen(h->value));
		d->nheaders++;
		prev = h;
	}
}

/* libcurl is done with t's current hop. */
static void
finished(struct outbound *o, struct transfer *t, CURLcode cc)
{
	struct outbound_response *d = &t->done;
	char *loc = NULL, *eff = NULL;
	long status = 0;

	if (cc != CURLE_OK) {
		detach(t);
		if (t->denied[0] != '\0')
			fail(t, FETCH_DENIED, "fetch %s refused by the egress "
			    "policy: %s", t->denied);
		else if (o->over_budget)
			fail(t, FETCH_FAILED, "fetch %s: %s", "the response "
			    "bodies exceed the function's memory limit");
		else if (t->why[0] != '\0')
			fail(t, FETCH_FAILED, "fetch %s: %s", t->why);
		else if (cc == CURLE_COULDNT_RESOLVE_HOST)
			fail(t, FETCH_FAILED, "fetch %s: %s", "the host name "
			    "does not resolve");
		else
			fail(t, FETCH_FAILED, "fetch %s: %s", t->errbuf[0] !=
			    '\0' ? t->errbuf : curl_easy_strerror(cc));
		return;
	}
	(void)curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
	(void)curl_easy_getinfo(t->easy, CURLINFO_REDIRECT_URL, &loc);
	if (is_redirect(status) && loc != NULL && t->redirect != OUTBOUND_MANUAL) {
		if (t->redirect == OUTBOUND_ERROR) {
			detach(t);
			fail(t, FETCH_FAILED, "fetch %s: %s", "the answer is a "
			    "redirect and the request's redirect mode is "
			    "'error'");
		} else
			follow(t, status, loc);
		return;
	}
	memset(d, 0, sizeof(*d));
	d->id = t->id;
	d->status = status;
	d->outcome = status >= 400 ? FETCH_HTTP_ERROR : FETCH_OK;
	d->status_text = buf_memdup(t->status_text, strlen(t->status_text));
	(void)curl_easy_getinfo(t->easy, CURLINFO_EFFECTIVE_URL, &eff);
	d->url = buf_memdup(eff != NULL ? eff : t->url,
	    strlen(eff != NULL ? eff : t->url));
	d->redirected = t->hops > 0;
	collect_headers(t);
	detach(t);
	d->body_len = t->resp.len;
	d->body = t->resp.data;
	memset(&t->resp, 0, sizeof(t->resp));
	/* Held until taken: still counted. */
	o->buffered += d->body_len;
	record(o, t, status, d->outcome, NULL);
	t->state = T_DONE;
}

struct outbound *
outbound_new(const struct outbound_conf *conf)
{
	/* Process-wide, as libcurl requires: once, before any handle. */
	static int curl_ready;
	struct outbound *o;

	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return NULL;
		curl_ready = 1;
	}
	if ((o = calloc(1, sizeof(*o))) == NULL)
		return NULL;
	o->conf = conf;
	o->budget = (size_t)-1;
	if ((o->multi = curl_multi_init()) == NULL) {
		free(o);
		return NULL;
	}
	return o;
}

static void
transfer_free(struct transfer *t)
{
	size_t i;

	detach(t);
	t->o->buffered -= t->done.body_len;
	outbound_response_free(&t->done);
	for (i = 0; i < t->nh; i++) {
		free(t->h[i].name);
		free(t->h[i].value);
	}
	free(t->h);
	curl_slist_free_all(t->hlist);
	free(t->method);
	free(t->url);
	free(t->display);
	t->o->bodies -= t->body_len;
	free(t->body);
	buf_free(&t->resp);
	free(t);
}

static void
remove_at(struct outbound *o, size_t i)
{
	transfer_free(o->v[i]);
	memmove(&o->v[i], &o->v[i + 1], (o->n - i - 1) * sizeof(*o->v));
	o->n--;
}

void
outbound_free(struct outbound *o, enum fetch_outcome why, const char *msg,
    struct outbound_records *rec)
{
	char err[600];

	if (o == NULL)
		return;
	while (o->n > 0) {
		if (o->v[0]->state != T_DONE) {
			snprintf(err, sizeof(err), "fetch %s: %s",
			    o->v[0]->display, msg);
			record(o, o->v[0], 0, why, err);
		}
		remove_at(o, 0);
	}
	free(o->v);
	curl_multi_cleanup(o->multi);
	if (rec != NULL)
		*rec = o->rec;
	else
		outbound_records_free(&o->rec);
	free(o);
}

void
outbound_records_free(struct outbound_records *rec)
{
	size_t i;

	for (i = 0; i < rec->n; i++) {
		free(rec->v[i].method);
		free(rec->v[i].url);
		free(rec->v[i].error);
	}
	free(rec->v);
	rec->v = NULL;
	rec->n = 0;
}

static int
token(const char *s)
{
	static const char extra[] = "!#$%&'*+-.^_`|~";

	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || strchr(extra, *s) != NULL))
			return 0;
	return 1;
}

static int
header_ok(const struct outbound_header *h)
{
	return token(h->name) && strpbrk(h->value, "\r\n") == NULL;
}

unsigned
outbound_start(struct outbound *o, const struct outbound_request *rq,
    char *err, size_t errlen)
{
	struct transfer *t, **nv;
	char *display;
	size_t i, cap;

	if (o->started >= o->conf->max_per_call) {
		snprintf(err, errlen, "fetch: more than %u requests in one "
		    "call (fetch_max_per_call)", o->conf->max_per_call);
		return 0;
	}
	if (rq->body != NULL && rq->body_len > o->conf->request_body_max) {
		snprintf(err, errlen, "fetch: the request body is over %zu "
		    "bytes", o->conf->request_body_max);
		return 0;
	}
	/* Our copies of the bodies count as the responses do: one 6 MiB
	 * buffer sent 50 times is 300 MiB outside the heap. */
	if (rq->body != NULL && o->bodies + o->buffered + rq->body_len >
	    o->budget) {
		snprintf(err, errlen, "%s", "fetch: the request bodies in "
		    "flight exceed the function's memory limit");
		return 0;
	}
	if (!token(rq->method)) {
		snprintf(err, errlen, "fetch: '%s' is not a valid method",
		    rq->method);
		return 0;
	}
	for (i = 0; i < rq->nheaders; i++)
		if (!header_ok(&rq->headers[i])) {
			snprintf(err, errlen, "fetch: header '%s' is not valid",
			    rq->headers[i].name);
			return 0;
		}
	if ((display = outbound_display_url(rq->url)) == NULL) {
		snprintf(err, errlen, "%s", "fetch: the URL is not valid");
		return 0;
	}
	if (o->n == o->cap) {
		cap = o->cap > 0 ? o->cap * 2 : 8;
		if ((nv = realloc(o->v, cap * sizeof(*nv))) == NULL)
			abort();
		o->v = nv;
		o->cap = cap;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (rq->nheaders > 0 &&
	    (t->h = calloc(rq->nheaders, sizeof(*t->h))) == NULL))
		abort();
	t->o = o;
	t->id = ++o->started;
	t->state = T_QUEUED;
	t->t0 = clock_ns();
	t->display = display;
	t->method = buf_memdup(rq->method, strlen(rq->method));
	t->url = buf_memdup(rq->url, strlen(rq->url));
	for (i = 0; i < rq->nheaders; i++) {
		t->h[i].name = buf_memdup(rq->headers[i].name,
		    strlen(rq->headers[i].name));
		t->h[i].value = buf_memdup(rq->headers[i].value,
		    strlen(rq->headers[i].value));
	}
	t->nh = rq->nheaders;
	if (rq->body != NULL) {
		t->body = buf_memdup(rq->body, rq->body_len);
		t->body_len = rq->body_len;
		t->has_body = 1;
		o->bodies += t->body_len;
	}
	t->redirect = rq->redirect;
	o->v[o->n++] = t;
	if (o->running < o->conf->max_in_flight)
		(void)start_hop(t, t->url);
	return t->id;
}

static size_t
find(const struct outbound *o, unsigned id)
{
	size_t i;

	for (i = 0; i < o->n; i++)
		if (o->v[i]->id == id)
			return i;
	return (size_t)-1;
}

int
outbound_cancel(struct outbound *o, unsigned id, const char *msg)
{
	size_t i = find(o, id);
	char err[600];

	if (i == (size_t)-1)
		return 0;
	if (o->v[i]->state != T_DONE) {
		snprintf(err, sizeof(err), "fetch %s: %s", o->v[i]->display,
		    msg);
		record(o, o->v[i], 0, FETCH_FAILED, err);
	}
	remove_at(o, i);
	start_queued(o);
	return 1;
}

size_t
outbound_pending(const struct outbound *o)
{
	return o != NULL ? o->n : 0;
}

void
outbound_set_budget(struct outbound *o, size_t bytes)
{
	o->budget = bytes;
}

int
outbound_over_budget(const struct outbound *o)
{
	return o->over_budget;
}

static int
has_done(const struct outbound *o)
{
	size_t i;

	for (i = 0; i < o->n; i++)
		if (o->v[i]->state == T_DONE)
			return 1;
	return 0;
}

void
outbound_poll(struct outbound *o, int timeout_ms)
{
	struct transfer *t;
	CURLMsg *m;
	int still, left;

	if (has_done(o))
		timeout_ms = 0;
	if (o->running > 0)
		(void)curl_multi_poll(o->multi, NULL, 0, timeout_ms, NULL);
	(void)curl_multi_perform(o->multi, &still);
	while ((m = curl_multi_info_read(o->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		t = NULL;
		(void)curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE,
		    (char **)&t);
		if (t != NULL)
			finished(o, t, m->data.result);
	}
	start_queued(o);
}

int
outbound_take(struct outbound *o, struct outbound_response *out)
{
	struct transfer *t;
	size_t i;

	for (i = 0; i < o->n; i++) {
		t = o->v[i];
		if (t->state != T_DONE)
			continue;
		*out = t->done;
		o->buffered -= t->done.body_len;
		memset(&t->done, 0, sizeof(t->done));
		remove_at(o, i);
		return 1;
	}
	return 0;
}

void
outbound_response_free(struct outbound_response *r)
{
	size_t i;

	for (i = 0; i < r->nheaders; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	free(r->headers);
	free(r->status_text);
	free(r->url);
	free(r->body);
	memset(r, 0, sizeof(*r));
}
