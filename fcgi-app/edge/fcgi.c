/*
 * fcgi.c - the only file that includes fcgiapp.h (never fcgi_stdio.h).
 * Accepts one request at a time, copies what it needs out of libfcgi's
 * envp, and writes whole answers. With kept connections (nginx's
 * fastcgi_keep_conn) it holds one libfcgi request per connection and polls
 * them all with the listening socket, so that an idle kept connection
 * never pins the worker (libfcgi alone blocks reading the next request
 * from the connection it kept). Nothing is written to the connection
 * before the answer is complete - error-stream lines are buffered and go
 * out with it - which is what makes the emergency answer (raw FastCGI
 * records written from a signal handler) well-formed.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fastcgi.h>
#include <fcgiapp.h>

#include "buf.h"
#include "fcgi.h"

struct fcgi_conn {
	FCGX_Request	*slots;		/* one per connection held */
	size_t		 nslots;
	FCGX_Request	*cur;		/* the request served, one of slots */
	size_t		 ready;		/* slot fcgi_wait found readable, or
					 * nslots: accept a new connection */
	size_t		 next;		/* where fcgi_wait's scan starts: a
					 * slot, or nslots for fd 0 */
	struct pollfd	*pfd;		/* fcgi_wait's, nslots + 1 */
	size_t		*pfd_slot;	/* pfd[i] is slots[pfd_slot[i]] */
	size_t		*found;		/* what the last poll found readable */
	size_t		 nfound, taken;	/* found[taken..nfound) not served */
	int		active;		/* between accept and finish */
	int		input_read;	/* the request's input was read to its end */
	struct buf	err;		/* error-stream lines, sent with the answer */
};

/* The prepared answers. The signal handler reads one only while its ready
 * flag is set; the flag is cleared before and set after the fields change,
 * each behind a signal fence, so it never sees a half-written one. */
static struct {
	char			*bytes;		/* malloc'd, any size */
	size_t			 len;
	int			 fd;
	int			 request_id;	/* encoded into bytes */
	uint64_t		 tag;		/* the caller's; 0: none */
} emergency[FCGI_EMERGENCY_COUNT];
static volatile sig_atomic_t emergency_ready[FCGI_EMERGENCY_COUNT];

/* Whether allow is a comma-separated list of IPv4 addresses in dotted
 * quads: libfcgi compares each entry's inet_addr(3) with the peer, which
 * would take "10.1" or garbage (INADDR_NONE) without a word. */
static int
allow_list_valid(const char *allow)
{
	char one[INET_ADDRSTRLEN];
	struct in_addr a;
	const char *p, *comma;
	size_t len;

	for (p = allow; ; p = comma + 1) {
		comma = strchr(p, ',');
		len = comma != NULL ? (size_t)(comma - p) : strlen(p);
		if (len == 0 || len >= sizeof(one))
			return 0;
		memcpy(one, p, len);
		one[len] = '\0';
		if (inet_pton(AF_INET, one, &a) != 1)
			return 0;
		if (comma == NULL)
			return 1;
	}
}

/*
 * A pool on TCP must accept connections only from the front (SPEC §14).
 * libfcgi does this itself from FCGI_WEB_SERVER_ADDRS, read once by
 * FCGX_Init: OS_Accept closes a connection whose IPv4 peer is not listed.
 * It checks IPv4 peers only (an IPv6 one passes) and lets everyone in when
 * the list is empty, so a TCP listener needs a list and must be IPv4. A
 * unix socket is guarded by its file mode instead.
 */
static int
restrict_peers(const char *allow, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(0, (struct sockaddr *)&ss, &len) == -1) {
		snprintf(err, errlen, "fd 0 is not a socket: %s",
		    strerror(errno));
		return -1;
	}
	switch (ss.ss_family) {
	case AF_UNIX:
		return 0;
	case AF_INET:
		if (allow[0] == '\0') {
			snprintf(err, errlen, "listening on TCP with an empty "
			    "fcgi_allow: list the front's addresses");
			return -1;
		}
		if (!allow_list_valid(allow)) {
			snprintf(err, errlen, "fcgi_allow '%s' is not a "
			    "comma-separated list of IPv4 addresses", allow);
			return -1;
		}
		if (setenv("FCGI_WEB_SERVER_ADDRS", allow, 1) == -1) {
			snprintf(err, errlen, "setenv: %s", strerror(errno));
			return -1;
		}
		return 0;
	default:
		snprintf(err, errlen, "listening on an address libfcgi cannot "
		    "restrict to fcgi_allow (it checks IPv4 peers only): "
		    "listen on an IPv4 address or a unix socket");
		return -1;
	}
}

static void
conn_free(struct fcgi_conn *c)
{
	free(c->slots);
	free(c->pfd);
	free(c->pfd_slot);
	free(c->found);
	free(c);
}

struct fcgi_conn *
fcgi_open(const char *allow, size_t max_conns, char *err, size_t errlen)
{
	struct fcgi_conn *c;
	size_t i;

	if (restrict_peers(allow, err, errlen) == -1)
		return NULL;
	if (max_conns == 0)
		max_conns = 1;
	if (FCGX_Init() != 0 || (c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errlen, "cannot initialise libfcgi");
		return NULL;
	}
	c->slots = calloc(max_conns, sizeof(*c->slots));
	c->pfd = calloc(max_conns + 1, sizeof(*c->pfd));
	c->pfd_slot = calloc(max_conns + 1, sizeof(*c->pfd_slot));
	c->found = calloc(max_conns + 1, sizeof(*c->found));
	if (c->slots == NULL || c->pfd == NULL || c->pfd_slot == NULL ||
	    c->found == NULL) {
		snprintf(err, errlen, "out of memory");
		conn_free(c);
		return NULL;
	}
	c->nslots = max_conns;
	for (i = 0; i < max_conns; i++)
		if (FCGX_InitRequest(&c->slots[i], 0,
		    FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
			snprintf(err, errlen, "cannot initialise libfcgi's "
			    "request");
			conn_free(c);
			return NULL;
		}
	c->cur = &c->slots[0];
	c->ready = max_conns;
	return c;
}

/* A slot holding no connection, or nslots. */
static size_t
free_slot(const struct fcgi_conn *c)
{
	size_t i;

	for (i = 0; i < c->nslots; i++)
		if (c->slots[i].ipcFd < 0)
			return i;
	return c->nslots;
}

size_t
fcgi_kept(const struct fcgi_conn *c)
{
	size_t i, n = 0;

	for (i = 0; i < c->nslots; i++)
		n += c->slots[i].ipcFd >= 0;
	return n;
}

/* Whether i (a slot, or nslots for the listening socket) may be served:
 * a slot still holding its connection, or a new connection with a slot
 * free for it. */
static int
servable(const struct fcgi_conn *c, size_t i, int accept_new)
{
	if (i < c->nslots)
		return c->slots[i].ipcFd >= 0;
	return accept_new && free_slot(c) < c->nslots;
}

/*
 * Polls the kept connections and, with accept_new and a slot free, the
 * listening socket (fd 0), and picks one that is readable for
 * fcgi_accept: the scan starts after the last one served, so that every
 * connection gets its turn. A kept connection is readable when nginx sent
 * its next request on it or closed it; fcgi_accept tells the two apart.
 * Everything one poll finds readable is served before the next poll, so
 * that a loaded worker polls once for several requests: only this worker
 * reads its connections, so what was readable stays so until served.
 */
int
fcgi_wait(struct fcgi_conn *c, int accept_new, int timeout_ms,
    const sigset_t *mask)
{
	struct timespec ts, *tsp = NULL;
	size_t i, k, n = 0;
	int rc;

	c->ready = c->nslots;
	for (; c->taken < c->nfound; c->taken++)
		if (servable(c, c->found[c->taken], accept_new)) {
			c->ready = c->found[c->taken];
			return 1;
		}
	/* The slots and, last, the listening socket, as one ring. */
	for (k = 0; k <= c->nslots; k++) {
		i = (c->next + k) % (c->nslots + 1);
		if (!servable(c, i, accept_new))
			continue;
		c->pfd[n] = (struct pollfd){ .events = POLLIN,
		    .fd = i == c->nslots ? 0 : c->slots[i].ipcFd };
		c->pfd_slot[n++] = i;
	}
	if (n == 0)
		return 0;
	if (timeout_ms >= 0) {
		ts.tv_sec = timeout_ms / 1000;
		ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000L;
		tsp = &ts;
	}
	if ((rc = ppoll(c->pfd, n, tsp, mask)) <= 0)
		return rc;
	c->nfound = c->taken = 0;
	for (i = 0; i < n; i++)
		if (c->pfd[i].revents != 0)
			c->found[c->nfound++] = c->pfd_slot[i];
	if (c->nfound == 0)
		return 0;
	c->ready = c->found[0];
	return 1;
}

/* Whether nginx closed the kept connection fd (or it failed) rather than
 * sending its next request: libfcgi, finding no request, would close it
 * and accept a new connection in its place, which a draining worker must
 * not do. */
static int
peer_closed(int fd)
{
	char b;
	ssize_t n;

	while ((n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT)) == -1 &&
	    errno == EINTR)
		;
	return n == 0 || (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK);
}

enum fcgi_accept_result
fcgi_accept(struct fcgi_conn *c, struct req *r)
{
	size_t i = c->ready;

	memset(r, 0, REQ_ZEROED);
	c->ready = c->nslots;
	if (c->taken < c->nfound && c->found[c->taken] == i)
		c->taken++;
	/* A new connection goes to a free slot (the listening socket is
	 * non-blocking: a connection a sibling took first costs an EAGAIN);
	 * a kept one's next request is read from its own fd. */
	c->next = (i + 1) % (c->nslots + 1);
	if (i == c->nslots && (i = free_slot(c)) == c->nslots) {
		errno = EAGAIN;
		return FCGI_NONE;
	}
	c->cur = &c->slots[i];
	if (c->cur->ipcFd >= 0 && peer_closed(c->cur->ipcFd)) {
		FCGX_Free(c->cur, 1);
		errno = EAGAIN;
		return FCGI_NONE;
	}
	if (FCGX_Accept_r(c->cur) < 0)
		return FCGI_NONE;
	c->active = 1;
	/* libfcgi: do not keep pointers into envp; request.c copies. */
	return request_from_params(r, c->cur->envp) == 0 ? FCGI_ACCEPTED :
	    FCGI_MALFORMED;
}

enum fcgi_body_result
fcgi_read_body(struct fcgi_conn *c, struct req *r, size_t max)
{
	struct buf b = { 0 };
	char chunk[16384];
	int n;

	if (r->content_length > max)
		return FCGI_BODY_TOO_LARGE;
	while ((n = FCGX_GetStr(chunk, sizeof(chunk), c->cur->in)) > 0) {
		if (b.len + (size_t)n > max) {
			buf_free(&b);
			return FCGI_BODY_TOO_LARGE;
		}
		buf_append(&b, chunk, (size_t)n);
	}
	if (FCGX_GetError(c->cur->in) != 0) {
		buf_free(&b);
		return FCGI_BODY_ERROR;
	}
	if (b.data == NULL)
		buf_append(&b, "", 0);
	request_set_body(r, b.data, b.len);
	c->input_read = 1;
	return FCGI_BODY_OK;
}

static const char *
reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Payload Too Large";
	case 422: return "Unprocessable Content";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "";
	}
}

/* The CGI response header block (RFC 3875 §6.3.3: Status). */
static void
encode_head(struct buf *out, const struct resp *rs)
{
	const char *p;
	size_t i, n;

	buf_append(out, "Status: ", 8);
	buf_uint(out, (unsigned)rs->status);
	buf_append(out, " ", 1);
	buf_puts(out, reason(rs->status));
	buf_append(out, "\r\n", 2);
	for (i = 0; i < rs->nheaders; i++) {
		p = response_header_name(rs, i, &n);
		buf_append(out, p, n);
		buf_append(out, ": ", 2);
		p = response_header_value(rs, i, &n);
		buf_append(out, p, n);
		buf_append(out, "\r\n", 2);
	}
	buf_append(out, "\r\n", 2);
}

/* The buffered error-stream lines go first: nginx logs them as they come. */
static void
flush_err(struct fcgi_conn *c)
{
	if (c->err.len > 0)
		FCGX_PutStr(c->err.data, (int)c->err.len, c->cur->err);
	buf_reset(&c->err);
}

void
fcgi_send(struct fcgi_conn *c, const struct resp *rs)
{
	struct buf head = { 0 };

	flush_err(c);
	encode_head(&head, rs);
	FCGX_PutStr(head.data, (int)head.len, c->cur->out);
	if (rs->body.len > 0 && rs->status != 204)
		FCGX_PutStr(rs->body.data, (int)rs->body.len, c->cur->out);
	buf_free(&head);
}

void
fcgi_finish(struct fcgi_conn *c)
{
	if (!c->active)
		return;
	flush_err(c);
	/* libfcgi's close shuts down the write side and then waits, up to 2
	 * s, for nginx to close first, so that unread input never turns into
	 * a reset that loses the answer. Once the input was read to its end
	 * there is nothing to reset: the worker closes at once instead of
	 * idling until nginx's event loop comes round (libfcgi's "detached"
	 * request closes without that wait). */
	c->cur->detached = c->input_read;
	FCGX_Finish_r(c->cur);
	c->input_read = 0;
	c->active = 0;
}

void
fcgi_log_sink(void *ctx, const char *line, size_t len)
{
	struct fcgi_conn *c = ctx;

	if (c != NULL && c->active)
		buf_append(&c->err, line, len);
	else
		(void)!write(STDERR_FILENO, line, len);
}

static void
record(struct buf *out, int type, int id, const char *p, size_t len)
{
	FCGI_Header h;
	size_t pad = (8 - len % 8) % 8;
	static const char zeros[8];

	h.version = FCGI_VERSION_1;
	h.type = (unsigned char)type;
	h.requestIdB1 = (unsigned char)(id >> 8);
	h.requestIdB0 = (unsigned char)id;
	h.contentLengthB1 = (unsigned char)(len >> 8);
	h.contentLengthB0 = (unsigned char)len;
	h.paddingLength = (unsigned char)pad;
	h.reserved = 0;
	buf_append(out, &h, sizeof(h));
	buf_append(out, p, len);
	buf_append(out, zeros, pad);
}

void
fcgi_emergency_prepare(struct fcgi_conn *c, enum fcgi_emergency which,
    const struct resp *rs, uint64_t tag)
{
	struct buf payload = { 0 }, out = { 0 };
	FCGI_EndRequestBody end;
	size_t off, n;

	memset(&end, 0, sizeof(end));
	end.protocolStatus = FCGI_REQUEST_COMPLETE;
	encode_head(&payload, rs);
	buf_append(&payload, rs->body.data, rs->body.len);
	for (off = 0; off < payload.len; off += n) {
		n = payload.len - off > 65535 ? 65535 : payload.len - off;
		record(&out, FCGI_STDOUT, c->cur->requestId, payload.data + off,
		    n);
	}
	record(&out, FCGI_STDOUT, c->cur->requestId, "", 0);
	record(&out, FCGI_END_REQUEST, c->cur->requestId, (const char *)&end,
	    sizeof(end));
	emergency_ready[which] = 0;
	atomic_signal_fence(memory_order_seq_cst);
	free(emergency[which].bytes);
	emergency[which].bytes = out.data;	/* taken from out */
	emergency[which].len = out.len;
	emergency[which].fd = c->cur->ipcFd;
	emergency[which].request_id = c->cur->requestId;
	emergency[which].tag = tag;
	atomic_signal_fence(memory_order_seq_cst);
	emergency_ready[which] = 1;
	buf_free(&payload);
}

int
fcgi_emergency_reuse(struct fcgi_conn *c, uint64_t tag)
{
	int i;

	if (tag == 0)
		return -1;
	for (i = 0; i < FCGI_EMERGENCY_COUNT; i++)
		if (emergency[i].bytes == NULL || emergency[i].tag != tag ||
		    emergency[i].request_id != c->cur->requestId)
			return -1;
	/* Not ready (guard_end cleared them) while the fd changes. */
	for (i = 0; i < FCGI_EMERGENCY_COUNT; i++) {
		emergency_ready[i] = 0;
		atomic_signal_fence(memory_order_seq_cst);
		emergency[i].fd = c->cur->ipcFd;
		atomic_signal_fence(memory_order_seq_cst);
		emergency_ready[i] = 1;
	}
	return 0;
}

void
fcgi_emergency_clear(void)
{
	int i;

	for (i = 0; i < FCGI_EMERGENCY_COUNT; i++)
		emergency_ready[i] = 0;
}

int
fcgi_emergency_send(enum fcgi_emergency which)
{
	size_t off = 0;
	ssize_t n;

	if (!emergency_ready[which])
		return -1;
	emergency_ready[which] = 0;
	while (off < emergency[which].len) {
		n = write(emergency[which].fd, emergency[which].bytes + off,
		    emergency[which].len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}
