/*
 * lib_timers.c - setTimeout, setInterval, clearTimeout, clearInterval
 * (HTML "timers", without string callbacks). The schedule is kept in C,
 * sorted by due time, so the event loop (sandbox_loop.c) knows how long
 * it may wait; each timer's callback and arguments live in the heap's
 * stash, so the collector sees them. Timers exist only during a call:
 * whatever is still scheduled when its answer is known is dropped.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "lib.h"
#include "sandbox_internal.h"

#define HIDDEN_TIMERS	DUK_HIDDEN_SYMBOL("timers")

/* HTML clamps to a signed 32-bit ms delay; one timer table stays small
 * enough to scan. */
#define DELAY_MAX_MS	2147483647.0
#define TIMERS_MAX	10000

static void
push_callbacks(duk_context *ctx)
{
	lib_push_stash_object(ctx, HIDDEN_TIMERS);
}

/* Inserts tm after every timer due no later than it (so equal due times
 * keep their order of creation). */
static int
insert(struct lib_timers *t, const struct lib_timer *tm)
{
	struct lib_timer *nv;
	size_t lo = 0, hi = t->n, mid, cap;

	if (t->n == t->cap) {
		cap = t->cap > 0 ? t->cap * 2 : 8;
		if ((nv = realloc(t->v, cap * sizeof(*nv))) == NULL)
			return -1;
		t->v = nv;
		t->cap = cap;
	}
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (t->v[mid].due_ns <= tm->due_ns)
			lo = mid + 1;
		else
			hi = mid;
	}
	memmove(&t->v[lo + 1], &t->v[lo], (t->n - lo) * sizeof(*t->v));
	t->v[lo] = *tm;
	t->n++;
	return 0;
}

static int
remove_id(struct lib_timers *t, double id)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->v[i].id == id) {
			memmove(&t->v[i], &t->v[i + 1],
			    (t->n - i - 1) * sizeof(*t->v));
			t->n--;
			return 1;
		}
	return 0;
}

/* setTimeout(callback, delay, ...args) (magic 0) and setInterval (1). */
static duk_ret_t
timer_set(duk_context *ctx)
{
	struct sandbox *sb = sandbox_of(ctx);
	struct lib_timers *t = &sb->lib.timers;
	int repeat = duk_get_current_magic(ctx) == 1;
	duk_idx_t i, n = duk_get_top(ctx);
	struct lib_timer tm;
	double delay;

	if (!sb->lib.in_call)
		return duk_error(ctx, DUK_ERR_ERROR, "%s is not available at "
		    "the top level: call it from the handler", repeat ?
		    "setInterval" : "setTimeout");
	if (!duk_is_function(ctx, 0))
		return duk_type_error(ctx, "the callback must be a function");
	delay = n > 1 ? duk_to_number(ctx, 1) : 0;
	if (!(delay >= 0))
		delay = 0;
	if (delay > DELAY_MAX_MS)
		delay = 1;	/* as Node does with an overflowing delay */
	if (t->n >= TIMERS_MAX)
		return duk_range_error(ctx, "more than %d timers", TIMERS_MAX);
	tm.id = ++t->next_id;
	tm.due_ns = clock_ns() + (int64_t)(floor(delay) * 1e6);
	tm.interval_ns = repeat ? (int64_t)(floor(delay) * 1e6) : -1;
	/* [ callback, arg... ] in the stash first: once the timer is in
	 * the table, nothing may throw. */
	push_callbacks(ctx);
	duk_push_array(ctx);
	duk_dup(ctx, 0);
	duk_put_prop_index(ctx, -2, 0);
	for (i = 2; i < n; i++) {
		duk_dup(ctx, i);
		duk_put_prop_index(ctx, -2, (duk_uarridx_t)(i - 1));
	}
	duk_put_prop_index(ctx, -2, (duk_uarridx_t)tm.id);
	if (insert(t, &tm) == -1) {
		duk_del_prop_index(ctx, -1, (duk_uarridx_t)tm.id);
		return duk_error(ctx, DUK_ERR_RANGE_ERROR, "out of memory");
	}
	duk_push_number(ctx, tm.id);
	return 1;
}

/* clearTimeout(id), clearInterval(id): either clears either kind, and
 * anything else is ignored (HTML). */
static duk_ret_t
timer_clear(duk_context *ctx)
{
	struct sandbox *sb = sandbox_of(ctx);
	double id;

	if (!duk_is_number(ctx, 0))
		return 0;
	id = duk_get_number(ctx, 0);
	if (remove_id(&sb->lib.timers, id)) {
		push_callbacks(ctx);
		duk_del_prop_index(ctx, -1, (duk_uarridx_t)id);
	}
	return 0;
}

void
lib_push_timers_set(duk_context *ctx)
{
	duk_push_c_function(ctx, timer_set, DUK_VARARGS);
	duk_set_magic(ctx, -1, 0);
}

void
lib_timers_load(duk_context *ctx)
{
	static const char *const names[] = { "setTimeout", "setInterval" };
	static const char *const clears[] = { "clearTimeout",
	    "clearInterval" };
	int i;

	for (i = 0; i < 2; i++) {
		duk_push_c_function(ctx, timer_set, DUK_VARARGS);
		duk_set_magic(ctx, -1, i);
		lib_define_global(ctx, names[i]);
		duk_push_c_function(ctx, timer_clear, 1);
		lib_define_global(ctx, clears[i]);
	}
}

int64_t
lib_timers_next_due(const struct sandbox *sb)
{
	return sb->lib.timers.n > 0 ? sb->lib.timers.v[0].due_ns : -1;
}

/* [ ] -> [ ]: runs the callback of timer *udata, if it was not cleared. */
static duk_ret_t
fire_safe(duk_context *ctx, void *udata)
{
	const struct lib_timer *tm = udata;
	duk_uarridx_t idx = (duk_uarridx_t)tm->id;
	duk_size_t i, n;

	push_callbacks(ctx);
	if (!duk_get_prop_index(ctx, -1, idx))
		return 0;
	if (tm->interval_ns < 0)
		duk_del_prop_index(ctx, -2, idx);
	n = duk_get_length(ctx, -1);
	for (i = 0; i < n; i++)
		duk_get_prop_index(ctx, -1 - (duk_idx_t)i, (duk_uarridx_t)i);
	duk_call(ctx, (duk_idx_t)n - 1);
	return 0;
}

int
lib_timers_run_due(struct sandbox *sb, int64_t now)
{
	struct lib_timers *t = &sb->lib.timers;
	struct lib_timer tm;
	int64_t next;

	/* Only what is due now: an interval rescheduled meanwhile waits
	 * for the next turn of the loop. */
	while (t->n > 0 && t->v[0].due_ns <= now) {
		tm = t->v[0];
		memmove(&t->v[0], &t->v[1], (t->n - 1) * sizeof(*t->v));
		t->n--;
		if (tm.interval_ns >= 0) {
			next = clock_ns() + tm.interval_ns;
			tm.due_ns = next > now ? next : now + 1;
			/* Room was just made: this cannot fail. */
			(void)insert(t, &tm);
		}
		if (lib_run_task(sb, fire_safe, &tm) == -1)
			return -1;
	}
	return 0;
}

void
lib_timers_clear(struct sandbox *sb)
{
	sb->lib.timers.n = 0;
	if (!lib_loaded(sb, LIB_TIMERS))
		return;
	/* The callbacks go with their table (a fresh one on the next
	 * call); nothing here may throw, so no new object is made. */
	duk_push_global_stash(sb->ctx);
	duk_del_prop_string(sb->ctx, -1, HIDDEN_TIMERS);
	duk_pop(sb->ctx);
}

void
lib_timers_free(struct lib_timers *t)
{
	free(t->v);
	memset(t, 0, sizeof(*t));
}
