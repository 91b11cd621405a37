/*
 * redact.c - hides a project's environment values in text with one
 * Aho-Corasick automaton over all of them (Aho and Corasick, "Efficient
 * string matching", CACM 18(6), 1975): one pass over the text, whatever
 * the number of values or hits.
 *
 * Transitions are sparse - one open-addressing table keyed by (state, byte),
 * plus a dense row for the root, which the scan leaves and re-enters most
 * often - so memory is O(total value bytes), never x256. Every state keeps
 * its failure link and the length of the longest value that ends there,
 * through its failure chain. Values are borrowed, never copied.
 *
 * What is hidden is the union of all occurrences: intervals that share a
 * byte merge into one "***", intervals that only touch stay separate.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "redact.h"

#define ROOT		0u
#define MASK_TEXT	"***"

struct span {			/* text bytes [a, b) to hide */
	size_t	a, b;
};

struct redact_ac {
	uint32_t		 root[256];	/* goto(ROOT, c), ROOT if none */
	uint32_t		*fail;		/* per state */
	uint32_t		*out;		/* per state: longest value ending
						 * there, through the failure
						 * chain; 0 if none */
	uint32_t		*depth;		/* per state: its trie depth */
	/* goto(s, c) for s != ROOT: slot i holds key[i] = s << 8 | c and
	 * next[i]; next[i] == ROOT marks a free slot (ROOT is nobody's
	 * child). Linear probing, at most half full. */
	uint64_t		*key;
	uint32_t		*next;
	size_t			 mask;		/* slots - 1 */
	unsigned		 shift;		/* 64 - log2(slots) */
	size_t			 maxlen;	/* the longest value */
	struct span		*spans;		/* the scan's pending spans */
	size_t			 spancap;
	unsigned long long	 steps;
};

void
redact_init(struct redactor *r, const struct store_env_var *vars, size_t n)
{
	size_t i;

	memset(r, 0, sizeof(*r));
	r->vars = vars;
	r->nvars = n;
	for (i = 0; i < n; i++)
		if (vars[i].value != NULL && vars[i].len >= REDACT_MIN_LEN)
			r->n++;
}

void
redact_free(struct redactor *r)
{
	struct redact_ac *ac = r->ac;

	if (ac != NULL) {
		free(ac->fail);
		free(ac->out);
		free(ac->depth);
		free(ac->key);
		free(ac->next);
		free(ac->spans);
		free(ac);
	}
	memset(r, 0, sizeof(*r));
}

unsigned long long
redact_steps(const struct redactor *r)
{
	return r->ac != NULL ? r->ac->steps : 0;
}

static void *
xcalloc(size_t n, size_t size)
{
	void *p;

	if ((p = calloc(n, size)) == NULL)
		abort();
	return p;
}

/* Fibonacci hashing: the high bits of key * 2^64/phi. */
static size_t
slot_of(const struct redact_ac *ac, uint64_t key)
{
	return (size_t)((key * UINT64_C(0x9e3779b97f4a7c15)) >> ac->shift);
}

/* The slot holding goto(s, c), or the free slot where it would go. */
static size_t
slot_find(struct redact_ac *ac, uint32_t s, unsigned char c)
{
	uint64_t k = (uint64_t)s << 8 | c;
	size_t i;

	for (i = slot_of(ac, k); ac->next[i] != ROOT && ac->key[i] != k;
	    i = (i + 1) & ac->mask)
		ac->steps++;
	ac->steps++;
	return i;
}

static uint32_t
go(struct redact_ac *ac, uint32_t s, unsigned char c)
{
	return s == ROOT ? ac->root[c] : ac->next[slot_find(ac, s, c)];
}

/* The automaton's move from s on c: goto, else along failure links. Over a
 * whole text the failure steps are at most one per byte (each goto goes one
 * deeper, each failure link at least one shallower). */
static uint32_t
step(struct redact_ac *ac, uint32_t s, unsigned char c)
{
	uint32_t t = ROOT;

	while (s != ROOT && (t = go(ac, s, c)) == ROOT) {
		s = ac->fail[s];
		ac->steps++;
	}
	return s == ROOT ? ac->root[c] : t;
}

/*
 * The trie of the values, then failure links breadth first: a state's link
 * is one shallower, so it is final before the state needs it. Child lists
 * (first, sib, label) and the queue only live for the build. O(total value
 * bytes) in time (the failure-link argument of step(), per value) and space.
 */
static struct redact_ac *
ac_build(const struct redactor *r)
{
	struct redact_ac *ac;
	uint32_t *first, *sib, *queue, s, t, u, nstates = 1;
	unsigned char *label, c;
	size_t i, j, total = 0, slots = 16, qhead = 0, qtail = 0;

	for (i = 0; i < r->nvars; i++)
		if (r->vars[i].value != NULL && r->vars[i].len >= REDACT_MIN_LEN)
			total += r->vars[i].len;
	/* States are uint32_t: one per value byte, plus the root. */
	if (total >= UINT32_MAX)
		abort();
	ac = xcalloc(1, sizeof(*ac));
	while (slots < 2 * total)
		slots *= 2;
	ac->mask = slots - 1;
	for (ac->shift = 64; slots > 1; slots /= 2)
		ac->shift--;
	ac->key = xcalloc(ac->mask + 1, sizeof(*ac->key));
	ac->next = xcalloc(ac->mask + 1, sizeof(*ac->next));
	ac->fail = xcalloc(total + 1, sizeof(*ac->fail));
	ac->out = xcalloc(total + 1, sizeof(*ac->out));
	ac->depth = xcalloc(total + 1, sizeof(*ac->depth));
	first = xcalloc(total + 1, sizeof(*first));
	sib = xcalloc(total + 1, sizeof(*sib));
	queue = xcalloc(total + 1, sizeof(*queue));
	label = xcalloc(total + 1, sizeof(*label));

	for (i = 0; i < r->nvars; i++) {
		const struct store_env_var *v = &r->vars[i];

		if (v->value == NULL || v->len < REDACT_MIN_LEN)
			continue;
		for (s = ROOT, j = 0; j < v->len; j++, s = t) {
			c = (unsigned char)v->value[j];
			if ((t = go(ac, s, c)) != ROOT)
				continue;
			t = nstates++;
			if (s == ROOT)
				ac->root[c] = t;
			else {
				size_t k = slot_find(ac, s, c);

				ac->key[k] = (uint64_t)s << 8 | c;
				ac->next[k] = t;
			}
			label[t] = c;
			ac->depth[t] = (uint32_t)(j + 1);
			sib[t] = first[s];
			first[s] = t;
		}
		ac->out[s] = (uint32_t)v->len;
		if (v->len > ac->maxlen)
			ac->maxlen = v->len;
	}

	/* Depth one fails to the root; every other state through its parent. */
	for (t = first[ROOT]; t != ROOT; t = sib[t])
		queue[qtail++] = t;
	while (qhead < qtail) {
		u = queue[qhead++];
		for (t = first[u]; t != ROOT; t = sib[t]) {
			ac->fail[t] = step(ac, ac->fail[u], label[t]);
			/* A state's own value is the longest ending there. */
			if (ac->out[t] == 0)
				ac->out[t] = ac->out[ac->fail[t]];
			queue[qtail++] = t;
			ac->steps++;
		}
	}
	free(first);
	free(sib);
	free(queue);
	free(label);
	return ac;
}

/*
 * The automaton, built on first use. It is a cache: building it changes
 * how r redacts, never what, which is why the redacting functions take a
 * const redactor. r itself is never a const object (redact_init wrote it).
 */
static struct redact_ac *
automaton(const struct redactor *r)
{
	if (r->ac == NULL)
		((struct redactor *)r)->ac = ac_build(r);
	return r->ac;
}

/* Appends the text up to sp (but none at or past limit) and "***" for sp;
 * *done moves past sp. */
static void
emit(struct buf *out, const char *s, size_t *done, const struct span *sp,
    size_t limit)
{
	size_t end = sp->a < limit ? sp->a : limit;

	if (end > *done)
		buf_append(out, s + *done, end - *done);
	buf_append(out, MASK_TEXT, sizeof(MASK_TEXT) - 1);
	*done = sp->b;
}

/*
 * Adds [a, b) to the pending spans spans[*head..*tail), which are sorted and
 * disjoint, with ends at most b. The ones it shares a byte with merge into
 * it; a longer value may start before spans already pending, hence a list,
 * not a single span.
 */
static void
span_add(struct redact_ac *ac, size_t *head, size_t *tail, size_t a, size_t b)
{
	while (*tail > *head && ac->spans[*tail - 1].b > a) {
		(*tail)--;
		if (ac->spans[*tail].a < a)
			a = ac->spans[*tail].a;
		ac->steps++;
	}
	if (*tail == ac->spancap) {
		if (*head > 0 && *head >= ac->spancap / 2) {
			/* Moves at most as many spans as were added since the
			 * last move: amortised O(1). */
			memmove(ac->spans, ac->spans + *head,
			    (*tail - *head) * sizeof(*ac->spans));
			ac->steps += *tail - *head;
			*tail -= *head;
			*head = 0;
		} else {
			ac->spancap = ac->spancap > 0 ? 2 * ac->spancap : 16;
			if (ac->spancap > SIZE_MAX / sizeof(*ac->spans) ||
			    (ac->spans = realloc(ac->spans,
			    ac->spancap * sizeof(*ac->spans))) == NULL)
				abort();
		}
	}
	ac->spans[*tail].a = a;
	ac->spans[*tail].b = b;
	(*tail)++;
	ac->steps++;
}

/* The length of the longest suffix of s[0..len) that is the start of a
 * value (the depth of the automaton's state after s). */
static size_t
partial_tail(struct redact_ac *ac, const char *s, size_t len)
{
	uint32_t st = ROOT;
	size_t i;

	for (i = 0; i < len; i++) {
		st = step(ac, st, (unsigned char)s[i]);
		ac->steps++;
	}
	return ac->depth[st];
}

/* With cut, s was cut from a longer text: its last bytes may be the start
 * of a value that went on past the cut. Those are dropped (dropped, not
 * masked: the text only shrinks). */
static void
scan(const struct redactor *r, struct buf *out, const char *s, size_t len,
    int cut)
{
	struct redact_ac *ac;
	size_t i, done = 0, head = 0, tail = 0, limit = len;
	uint32_t st = ROOT, hit;

	if (r->n == 0 || len == 0) {
		buf_append(out, s, len);
		return;
	}
	ac = automaton(r);
	if (cut)
		limit = len - partial_tail(ac, s, len);
	for (i = 0; i < len; i++) {
		st = step(ac, st, (unsigned char)s[i]);
		ac->steps++;
		if ((hit = ac->out[st]) != 0)
			span_add(ac, &head, &tail, i + 1 - hit, i + 1);
		/* A later hit ends past i and starts at i + 2 - maxlen or
		 * after: spans ending before that are final. */
		while (head < tail && ac->spans[head].b + ac->maxlen <= i + 2) {
			emit(out, s, &done, &ac->spans[head++], limit);
			ac->steps++;
		}
		if (head == tail)
			head = tail = 0;
	}
	while (head < tail)
		emit(out, s, &done, &ac->spans[head++], limit);
	if (limit > done)
		buf_append(out, s + done, limit - done);
}

void
redact_append(const struct redactor *r, struct buf *out, const char *s,
    size_t len)
{
	scan(r, out, s, len, 0);
}

void
redact_append_cut(const struct redactor *r, struct buf *out, const char *s,
    size_t len)
{
	scan(r, out, s, len, 1);
}

void
redact_inplace(const struct redactor *r, char *s, const char *cut_marker)
{
	struct buf b = { 0 };
	size_t len, mlen = cut_marker != NULL ? strlen(cut_marker) : 0;
	int cut = 0;

	if (r->n == 0 || s == NULL || *s == '\0')
		return;
	len = strlen(s);
	if (mlen > 0 && len >= mlen && memcmp(s + len - mlen, cut_marker,
	    mlen) == 0) {
		len -= mlen;
		cut = 1;
	}
	scan(r, &b, s, len, cut);
	if (cut)
		buf_append(&b, cut_marker, mlen);
	/* "***" is shorter than any value, and a cut only drops bytes: the
	 * result fits. */
	memcpy(s, b.data, b.len + 1);
	buf_free(&b);
}
