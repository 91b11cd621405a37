/*
 * check_outbound.c - unit tests for net/outbound.c: the status line
 * parser, the URL shown in records, the limits checked before anything
 * starts, the egress check at connect time (a listener on 127.0.0.1 this
 * test makes counts what reaches it), a canned HTTP answer from a thread
 * of this test, queueing beyond max_in_flight, the body budget, cancel
 * and the records of what was pending. Only 127.0.0.1 is ever contacted.
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "outbound.h"

/* A listener on 127.0.0.1 that answers each of its connections with
 * answer (NULL: closes at once) and counts them. */
struct server {
	int		 fd;
	unsigned	 port;
	const char	*answer;
	unsigned	 accepted;
	int		 stop;
	pthread_t	 thread;
};

static void *
serve(void *arg)
{
	struct server *s = arg;
	struct pollfd p = { .fd = s->fd, .events = POLLIN };
	char buf[4096];
	int c;

	while (!__atomic_load_n(&s->stop, __ATOMIC_RELAXED)) {
		if (poll(&p, 1, 50) <= 0)
			continue;
		if ((c = accept(s->fd, NULL, NULL)) == -1)
			continue;
		__atomic_add_fetch(&s->accepted, 1, __ATOMIC_RELAXED);
		if (s->answer != NULL) {
			/* The request fits one read in these tests. */
			(void)read(c, buf, sizeof(buf));
			(void)write(c, s->answer, strlen(s->answer));
		}
		close(c);
	}
	return NULL;
}

static void
server_start(struct server *s, const char *answer)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int one = 1;

	memset(s, 0, sizeof(*s));
	s->answer = answer;
	ck_assert_int_ne(s->fd = socket(AF_INET, SOCK_STREAM, 0), -1);
	setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(s->fd, 16), 0);
	ck_assert_int_eq(getsockname(s->fd, (struct sockaddr *)&sa, &len), 0);
	s->port = ntohs(sa.sin_port);
	ck_assert_int_eq(pthread_create(&s->thread, NULL, serve, s), 0);
}

static unsigned
server_stop(struct server *s)
{
	__atomic_store_n(&s->stop, 1, __ATOMIC_RELAXED);
	pthread_join(s->thread, NULL);
	close(s->fd);
	return s->accepted;
}

static struct outbound_conf
conf(const struct egress_policy *p)
{
	struct outbound_conf c = { .policy = p, .ca_file = NULL,
	    .max_per_call = 3, .max_in_flight = 6, .request_body_max = 16,
	    .project = "p", .host_check = NULL, .host_check_arg = NULL };

	return c;
}

static struct outbound_request
get(const char *url)
{
	struct outbound_request rq = { .method = "GET", .url = url,
	    .headers = NULL, .nheaders = 0, .body = NULL, .body_len = 0,
	    .redirect = OUTBOUND_FOLLOW };

	return rq;
}

/* Polls until a request is done (at most ~5 s: a test, not a deadline). */
static void
take(struct outbound *o, struct outbound_response *r)
{
	int i;

	for (i = 0; i < 500; i++) {
		if (outbound_take(o, r))
			return;
		outbound_poll(o, 10);
	}
	ck_abort_msg("no request finished");
}

static void
allow_port(struct egress_policy *p, unsigned port)
{
	char text[64], err[256];

	snprintf(text, sizeof(text), "127.0.0.1:%u", port);
	memset(p, 0, sizeof(*p));
	ck_assert_int_eq(egress_list_parse(text, &p->allow, err, sizeof(err)), 0);
}

START_TEST(test_status_line)
{
	char r[16];

	ck_assert_int_eq(outbound_parse_status_line("HTTP/1.1 404 Not Found\r\n",
	    24, r, sizeof(r)), 0);
	ck_assert_str_eq(r, "Not Found");
	ck_assert_int_eq(outbound_parse_status_line("HTTP/2 200 \r\n", 13, r,
	    sizeof(r)), 0);
	ck_assert_str_eq(r, "");
	ck_assert_int_eq(outbound_parse_status_line("HTTP/1.0 200\r\n", 14, r,
	    sizeof(r)), 0);
	ck_assert_str_eq(r, "");
	/* Cut to the buffer, never past the line's length. */
	ck_assert_int_eq(outbound_parse_status_line("HTTP/1.1 200 A very long "
	    "reason phrase\r\n", 39, r, sizeof(r)), 0);
	ck_assert_str_eq(r, "A very long rea");
	ck_assert_int_eq(outbound_parse_status_line("HTTP/1.1 20", 11, r,
	    sizeof(r)), -1);
	ck_assert_int_eq(outbound_parse_status_line("HTTP/1.1 2x0 OK", 15, r,
	    sizeof(r)), -1);
	ck_assert_int_eq(outbound_parse_status_line("HTTX/1.1 200 OK", 15, r,
	    sizeof(r)), -1);
	ck_assert_int_eq(outbound_parse_status_line("HTTP/", 5, r, sizeof(r)),
	    -1);
}
END_TEST

START_TEST(test_display_url)
{
	char *s;

	s = outbound_display_url("https://user:pw@api.example.com:8443/v1/x"
	    "?key=secret#frag");
	ck_assert_str_eq(s, "https://api.example.com:8443/v1/x");
	free(s);
	s = outbound_display_url("http://API.example.com");
	ck_assert_str_eq(s, "http://API.example.com/");
	free(s);
	ck_assert_ptr_null(outbound_display_url("not a url"));
	ck_assert_ptr_null(outbound_display_url("/relative"));
}
END_TEST

START_TEST(test_refused_before_start)
{
	struct outbound_conf c = conf(NULL);
	struct outbound *o = outbound_new(&c);
	struct outbound_request rq = get("http://127.0.0.1:9/");
	struct outbound_header bad = { "x-a", "1\r\nInjected: yes" };
	char err[512];

	rq.method = "GE T";
	ck_assert_uint_eq(outbound_start(o, &rq, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(err, "method"));
	rq = get("http://127.0.0.1:9/");
	rq.headers = &bad;
	rq.nheaders = 1;
	ck_assert_uint_eq(outbound_start(o, &rq, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(err, "header"));
	rq = get("http://127.0.0.1:9/");
	rq.method = "POST";
	rq.body = "01234567890123456";	/* 17 > 16 */
	rq.body_len = 17;
	ck_assert_uint_eq(outbound_start(o, &rq, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(err, "request body"));
	rq = get("::::");
	ck_assert_uint_eq(outbound_start(o, &rq, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(err, "URL"));
	ck_assert_uint_eq(outbound_pending(o), 0);
	/* Request bodies held count against the budget (the memory left). */
	outbound_set_budget(o, 20);
	rq = get("http://127.0.0.1:9/");
	rq.method = "POST";
	rq.body = "0123456789";
	rq.body_len = 10;
	ck_assert_uint_ne(outbound_start(o, &rq, err, sizeof(err)), 0);
	ck_assert_uint_ne(outbound_start(o, &rq, err, sizeof(err)), 0);
	ck_assert_uint_eq(outbound_start(o, &rq, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(err, "memory limit"));
	outbound_free(o, FETCH_FAILED, "x", NULL);
}
END_TEST

START_TEST(test_default_policy_refuses_at_connect)
{
	static const char *const spellings[] = { "http://127.0.0.1:%u/",
	    "http://localhost:%u/", "http://0x7f.1:%u/",
	    "http://2130706433:%u/", "http://[::ffff:127.0.0.1]:%u/" };
	struct server s;
	struct outbound_conf c = conf(NULL);
	struct outbound *o;
	struct outbound_response r;
	struct outbound_records rec;
	struct outbound_request rq;
	char url[128], err[512];
	size_t i;

	server_start(&s, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	c.max_per_call = 10;
	o = outbound_new(&c);
	for (i = 0; i < sizeof(spellings) / sizeof(spellings[0]); i++) {
		snprintf(url, sizeof(url), spellings[i], s.port);
		rq = get(url);
		ck_assert_uint_ne(outbound_start(o, &rq, err, sizeof(err)), 0);
		take(o, &r);
		ck_assert_msg(r.outcome == FETCH_DENIED, "%s: %s", url, r.error);
		ck_assert_ptr_nonnull(strstr(r.error, "loopback"));
		outbound_response_free(&r);
	}
	outbound_free(o, FETCH_FAILED, "x", &rec);
	ck_assert_uint_eq(rec.n, 5);
	ck_assert_int_eq(rec.v[0].outcome, FETCH_DENIED);
	outbound_records_free(&rec);
	ck_assert_uint_eq(server_stop(&s), 0);
}
END_TEST

START_TEST(test_allowed_answer)
{
	struct server s;
	struct egress_policy p;
	struct outbound_conf c;
	struct outbound *o;
	struct outbound_response r;
	struct outbound_request rq;
	char url[128], err[512];

	server_start(&s, "HTTP/1.1 201 Made It\r\nX-One: 1\r\nContent-Type: "
	    "text/plain\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello");
	allow_port(&p, s.port);
	c = conf(&p);
	o = outbound_new(&c);
	snprintf(url, sizeof(url), "http://user:pw@127.0.0.1:%u/a?q=1", s.port);
	rq = get(url);
	ck_assert_uint_eq(outbound_start(o, &rq, err, sizeof(err)), 1);
	take(o, &r);
	ck_assert_int_eq(r.outcome, FETCH_OK);
	ck_assert_int_eq(r.status, 201);
	ck_assert_str_eq(r.status_text, "Made It");
	ck_assert_uint_eq(r.body_len, 5);
	ck_assert_int_eq(memcmp(r.body, "hello", 5), 0);
	ck_assert_uint_ge(r.nheaders, 3);
	ck_assert_str_eq(r.headers[0].name, "X-One");
	ck_assert_str_eq(r.headers[0].value, "1");
	outbound_response_free(&r);
	outbound_free(o, FETCH_FAILED, "x", NULL);
	egress_list_free(&p.allow);
	ck_assert_uint_eq(server_stop(&s), 1);
}
END_TEST

START_TEST(test_limits_queue_budget_cancel)
{
	struct server s;
	struct egress_policy p;
	struct outbound_conf c;
	struct outbound *o;
	struct outbound_response r;
	struct outbound_records rec;
	struct outbound_request rq;
	char url[128], err[512];
	unsigned a, b;

	server_start(&s, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n"
	    "Connection: close\r\n\r\n0123456789");
	allow_port(&p, s.port);
	c = conf(&p);
	c.max_in_flight = 1;
	o = outbound_new(&c);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/", s.port);
	rq = get(url);
	/* Two at once with one in flight: the second waits, both finish. */
	ck_assert_uint_ne(a = outbound_start(o, &rq, err, sizeof(err)), 0);
	ck_assert_uint_ne(b = outbound_start(o, &rq, err, sizeof(err)), 0);
	take(o, &r);
	ck_assert_int_eq(r.outcome, FETCH_OK);
	outbound_response_free(&r);
	take(o, &r);
	ck_assert_int_eq(r.outcome, FETCH_OK);
	outbound_response_free(&r);
	/* The third is the last of max_per_call = 3: over budget. */
	outbound_set_budget(o, 4);
	ck_assert_uint_ne(outbound_start(o, &rq, err, sizeof(err)), 0);
	take(o, &r);
	ck_assert_int_eq(r.outcome, FETCH_FAILED);
	ck_assert(outbound_over_budget(o));
	outbound_response_free(&r);
	ck_assert_uint_eq(outbound_start(o, &rq, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(err, "fetch_max_per_call"));
	outbound_free(o, FETCH_FAILED, "x", &rec);
	ck_assert_uint_eq(rec.n, 3);
	outbound_records_free(&rec);
	/* Cancel, and what is pending at the end is recorded as told. */
	c.max_per_call = 5;
	o = outbound_new(&c);
	a = outbound_start(o, &rq, err, sizeof(err));
	b = outbound_start(o, &rq, err, sizeof(err));
	ck_assert_int_eq(outbound_cancel(o, a, "aborted"), 1);
	ck_assert_int_eq(outbound_cancel(o, a, "aborted"), 0);
	ck_assert_uint_eq(outbound_pending(o), 1);
	outbound_free(o, FETCH_TIMEOUT, "at the deadline", &rec);
	ck_assert_uint_eq(rec.n, 2);
	ck_assert_int_eq(rec.v[0].outcome, FETCH_FAILED);
	ck_assert_ptr_nonnull(strstr(rec.v[0].error, "aborted"));
	ck_assert_int_eq(rec.v[1].outcome, FETCH_TIMEOUT);
	ck_assert_str_eq(rec.v[1].method, "GET");
	outbound_records_free(&rec);
	egress_list_free(&p.allow);
	server_stop(&s);
}
END_TEST

static int
only_example(void *arg, const char *project, const char *host, char *reason,
    size_t len)
{
	(void)arg;
	if (strcmp(host, "api.example.com") == 0)
		return 1;
	snprintf(reason, len, "host %s is not in project %s's list", host,
	    project);
	return 0;
}

START_TEST(test_project_host_hook)
{
	struct outbound_conf c = conf(NULL);
	struct outbound *o;
	struct outbound_response r;
	struct outbound_request rq = get("http://Other.invalid/x");
	char err[512];

	c.host_check = only_example;
	o = outbound_new(&c);
	ck_assert_uint_ne(outbound_start(o, &rq, err, sizeof(err)), 0);
	take(o, &r);
	ck_assert_int_eq(r.outcome, FETCH_DENIED);
	ck_assert_ptr_nonnull(strstr(r.error,
	    "host other.invalid is not in project p's list"));
	outbound_response_free(&r);
	outbound_free(o, FETCH_FAILED, "x", NULL);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("outbound");
	TCase *tc = tcase_create("outbound");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_status_line);
	tcase_add_test(tc, test_display_url);
	tcase_add_test(tc, test_refused_before_start);
	tcase_add_test(tc, test_default_policy_refuses_at_connect);
	tcase_add_test(tc, test_allowed_answer);
	tcase_add_test(tc, test_limits_queue_budget_cancel);
	tcase_add_test(tc, test_project_host_hook);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
