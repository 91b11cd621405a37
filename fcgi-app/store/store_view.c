/*
 * store_view.c - the view of store_view.h: direct-mapped tables of what
 * invocations read (a function's active version, a version's meta, a
 * project's environment and limits), filled on a miss from the store and
 * emptied by store_view_begin whenever the store's generation token is
 * not the one they were read under. Exactness rests on the token
 * (store_gen.c): it is read before anything it covers, and every store
 * write replaces it after its change, so what a table holds was read
 * after the last write that had returned when this call began. Only
 * successful reads are kept; an error or an absence goes to the store
 * again on the next call. Environment values are secrets: they are wiped
 * before their memory is freed, and nothing here logs them.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "store_internal.h"
#include "store_view.h"

#define FN_SLOTS	256	/* active versions, and metas, kept */
#define PROJECT_SLOTS	64	/* projects whose settings are kept */
#define KEY_MAX		(3 * (NAME_MAX_LEN + 1) + 12)	/* p/r/f@N */

struct active_slot {
	char			key[KEY_MAX];	/* "" when empty */
	unsigned		version;
};

struct meta_slot {
	char			key[KEY_MAX];
	struct store_version	meta;
};

struct project_slot {
	char			 project[NAME_MAX_LEN + 1];
	int			 has_env, has_limits;
	struct store_env_var	*env;
	size_t			 nenv;
	struct store_project_limits limits;
};

struct store_view {
	unsigned char		token[STORE_GEN_LEN];
	int			trusted;	/* token read, tables valid */
	unsigned long		loads;
	struct active_slot	active[FN_SLOTS];
	struct meta_slot	meta[FN_SLOTS];
	struct project_slot	project[PROJECT_SLOTS];
	struct project_slot	loose;	/* a list read while not trusted:
					 * the call's until the next begin */
};

/* FNV-1a: the keys are validated names, so no one picks collisions to
 * any effect but a miss. */
static size_t
slot_of(const char *key, size_t slots)
{
	uint32_t	h = 2166136261u;

	for (; *key != '\0'; key++)
		h = (h ^ (unsigned char)*key) * 16777619u;
	return h % slots;
}

static void
env_wipe(struct project_slot *p)
{
	size_t	i;

	for (i = 0; p->env != NULL && i < p->nenv; i++)
		if (p->env[i].value != NULL)
			explicit_bzero(p->env[i].value, p->env[i].len);
	store_env_free(p->env, p->nenv);
	p->env = NULL;
	p->nenv = 0;
	p->has_env = 0;
}

static void
view_drop(struct store_view *v)
{
	size_t	i;

	for (i = 0; i < FN_SLOTS; i++) {
		v->active[i].key[0] = '\0';
		v->meta[i].key[0] = '\0';
	}
	for (i = 0; i < PROJECT_SLOTS; i++) {
		env_wipe(&v->project[i]);
		v->project[i].project[0] = '\0';
		v->project[i].has_limits = 0;
	}
	env_wipe(&v->loose);
}

void
store_view_free(struct store *st)
{
	if (st->view == NULL)
		return;
	view_drop(st->view);
	free(st->view);
	st->view = NULL;
}

void
store_view_begin(struct store *st)
{
	unsigned char	tok[STORE_GEN_LEN];
	struct store_view *v = st->view;

	if (v == NULL && (v = st->view = calloc(1, sizeof(*v))) == NULL)
		return;		/* every read goes to the store */
	env_wipe(&v->loose);
	if (store_gen_read(st, tok) == -1) {
		view_drop(v);
		v->trusted = 0;
		return;
	}
	if (v->trusted && memcmp(tok, v->token, sizeof(tok)) == 0)
		return;
	view_drop(v);
	memcpy(v->token, tok, sizeof(tok));
	v->trusted = 1;
}

/* The view when it may be used, else NULL (then the caller reads the
 * store, and keeps nothing). */
static struct store_view *
view_of(struct store *st)
{
	return st->view != NULL && st->view->trusted ? st->view : NULL;
}

_Static_assert(KEY_MAX >= NAME_FN_KEY_MAX, "a slot's key holds any name_fn_key");

int
store_view_active(struct store *st, const struct fn_id *id,
    unsigned *version, char *err, size_t errlen)
{
	struct store_view	*v = view_of(st);
	struct active_slot	*s;
	char			 key[KEY_MAX];
	int			 rc;

	if (v == NULL)
		return store_get_active(st, id, version, err, errlen);
	(void)name_fn_key(key, id, 0);
	s = &v->active[slot_of(key, FN_SLOTS)];
	if (strcmp(s->key, key) == 0) {
		*version = s->version;
		return STORE_OK;
	}
	v->loads++;
	if ((rc = store_get_active(st, id, version, err, errlen)) ==
	    STORE_OK) {
		memcpy(s->key, key, sizeof(key));
		s->version = *version;
	}
	return rc;
}

int
store_view_meta(struct store *st, const struct fn_id *id, unsigned version,
    struct store_version *out, char *err, size_t errlen)
{
	struct store_view	*v = view_of(st);
	struct meta_slot	*s;
	char			 key[KEY_MAX];
	int			 rc;

	if (v == NULL)
		return store_get_version(st, id, version, out, err, errlen);
	(void)name_fn_key(key, id, version);
	s = &v->meta[slot_of(key, FN_SLOTS)];
	if (strcmp(s->key, key) == 0) {
		*out = s->meta;
		return STORE_OK;
	}
	v->loads++;
	if ((rc = store_get_version(st, id, version, out, err, errlen)) ==
	    STORE_OK) {
		memcpy(s->key, key, sizeof(key));
		s->meta = *out;
	}
	return rc;
}

/* The project's slot, taken over from whatever project held it. NULL
 * when the view may not be used or the name is too long for a key. */
static struct project_slot *
project_slot(struct store *st, const char *project)
{
	struct store_view	*v = view_of(st);
	struct project_slot	*p;
	size_t			 len = strlen(project);

	if (v == NULL || len > NAME_MAX_LEN)
		return NULL;
	p = &v->project[slot_of(project, PROJECT_SLOTS)];
	if (strcmp(p->project, project) != 0) {
		env_wipe(p);
		p->has_limits = 0;
		memcpy(p->project, project, len + 1);
	}
	return p;
}

int
store_view_env(struct store *st, const char *project,
    const struct store_env_var **env, size_t *n, char *err, size_t errlen)
{
	struct project_slot	*p = project_slot(st, project);
	struct store_env_var	*list = NULL;
	size_t			 count = 0;
	int			 rc;

	*env = NULL;
	*n = 0;
	if (p != NULL && p->has_env) {
		*env = p->env;
		*n = p->nenv;
		return STORE_OK;
	}
	if (p == NULL) {
		/* Not trusted: read for this call alone, kept loose. */
		if (st->view == NULL) {
			snprintf(err, errlen, "out of memory for the view");
			return STORE_ERROR;
		}
		p = &st->view->loose;
		env_wipe(p);
	} else
		st->view->loads++;
	if ((rc = store_env_list(st, project, 1, &list, &count, err,
	    errlen)) != STORE_OK)
		return rc;
	p->env = list;
	p->nenv = count;
	p->has_env = 1;
	*env = list;
	*n = count;
	return STORE_OK;
}

int
store_view_limits(struct store *st, const char *project,
    struct store_project_limits *out, char *err, size_t errlen)
{
	struct project_slot	*p = project_slot(st, project);
	int			 rc;

	if (p != NULL && p->has_limits) {
		*out = p->limits;
		return STORE_OK;
	}
	if (p != NULL)
		st->view->loads++;
	rc = store_project_limits_get(st, project, out, err, errlen);
	if (rc == STORE_OK && p != NULL) {
		p->limits = *out;
		p->has_limits = 1;
	}
	return rc;
}

unsigned long
store_view_loads(const struct store *st)
{
	return st->view != NULL ? st->view->loads : 0;
}
