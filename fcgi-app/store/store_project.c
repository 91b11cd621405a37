/*
 * store_project.c - a project's settings in the store (SPEC §7, §13):
 * its environment variables, <project>/.env/<NAME>, one file per value,
 * mode 0600 in a 0700 directory; its own limits, <project>/.limits; its
 * lock, <project>/.lock, under which quotas are checked; and what it holds
 * against its quotas; whether it has a setting at all (an egress list,
 * store_egress.c, counts). Values are written atomically (store_fs.c) and are
 * secrets: nothing here logs or returns them except to the caller that
 * asked with with_values.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "names.h"
#include "store.h"
#include "store_format.h"
#include "store_internal.h"

#define ENV_DIR_MODE	0700
#define ENV_FILE_MODE	0600
#define LIMITS_MAX	4096	/* a few short lines */

/* Opens <project>/.env, creating both when create is set. */
static int
env_open(struct store *st, const char *project, int create, int *envfd,
    char *err, size_t errlen)
{
	struct stat	sb;
	int		projfd = -1, efd = -1, rc;

	*envfd = -1;
	if (!create) {
		char path[NAME_MAX_LEN + 16];

		snprintf(path, sizeof(path), "%s/%s", project, ENV_DIR);
		if ((efd = fs_open_beneath(st->rootfd, path, O_RDONLY |
		    O_DIRECTORY, st->resolve)) != -1) {
			*envfd = efd;
			return STORE_OK;
		}
		if (errno == ENOENT || errno == ENOTDIR)
			return STORE_NOT_FOUND;
		fs_seterr(err, errlen, "open %s: %s", path, strerror(errno));
		return STORE_ERROR;
	}
	rc = fs_dir_open(st->rootfd, project, create, DIR_MODE, &projfd, err,
	    errlen);
	if (rc != STORE_OK)
		goto out;
	rc = fs_dir_open(projfd, ENV_DIR, create, ENV_DIR_MODE, &efd, err,
	    errlen);
	if (rc != STORE_OK)
		goto out;
	rc = STORE_ERROR;
	/* Values are secrets: the directory is 0700 whatever the umask. */
	if (create && (fstat(efd, &sb) == -1 ||
	    ((sb.st_mode & 07777) != ENV_DIR_MODE &&
	    fchmod(efd, ENV_DIR_MODE) == -1))) {
		fs_seterr(err, errlen, "chmod %s: %s", ENV_DIR, strerror(errno));
		goto out;
	}
	*envfd = efd;
	efd = -1;
	rc = STORE_OK;
out:
	fs_close(&efd);
	fs_close(&projfd);
	return rc;
}

int
store_project_lock(struct store *st, const char *project, int *lockfd,
    char *err, size_t errlen)
{
	int	projfd = -1, rc;

	*lockfd = -1;
	rc = fs_dir_open(st->rootfd, project, 1, DIR_MODE, &projfd, err,
	    errlen);
	if (rc == STORE_OK)
		rc = fs_lock_file(projfd, LOCK_FILE, FILE_MODE, lockfd, err,
		    errlen);
	fs_close(&projfd);
	/* The project directory is never removed: it cannot be missing. */
	return rc == STORE_OK ? STORE_OK : STORE_ERROR;
}

int
store_usage_env(struct store *st, const char *project, struct store_usage *u,
    char *err, size_t errlen)
{
	struct store_env_var	*vars = NULL;
	size_t			 n = 0, i;

	if (store_env_list(st, project, 0, &vars, &n, err, errlen) !=
	    STORE_OK)
		return STORE_ERROR;
	u->env_vars += (unsigned)n;
	for (i = 0; i < n; i++) {
		u->store_bytes += vars[i].len;
		if (vars[i].len > u->env_value_max)
			u->env_value_max = vars[i].len;
	}
	store_env_free(vars, n);
	return STORE_OK;
}

/* The quotas of setting name to len bytes, under the project's lock: the
 * count of variables (a new name), and the project's bytes (the old
 * value's replaced). STORE_OK, STORE_QUOTA or STORE_ERROR. */
static int
env_quota(struct store *st, const char *project, const char *name,
    size_t len, char *err, size_t errlen)
{
	const struct store_quotas	*q = &st->quotas;
	struct store_env_var		*vars = NULL;
	struct store_usage		 u;
	uint64_t			 old = 0;
	size_t				 n = 0, i;
	int				 found = 0, rc = STORE_ERROR;

	memset(&u, 0, sizeof(u));
	if (store_env_list(st, project, 0, &vars, &n, err, errlen) !=
	    STORE_OK)
		goto out;
	for (i = 0; i < n; i++) {
		u.store_bytes += vars[i].len;
		if (strcmp(vars[i].name, name) == 0) {
			found = 1;
			old = vars[i].len;
		}
	}
	rc = STORE_QUOTA;
	if (!found && q->env_vars > 0 && n >= q->env_vars) {
		fs_seterr(err, errlen, "the project has %zu environment "
		    "variables, its limit (project_max_env_vars)", n);
		goto out;
	}
	rc = STORE_OK;
	if (q->store_bytes == 0)
		goto out;
	if ((rc = store_usage_fns(st, project, &u, err, errlen)) == STORE_OK)
		rc = store_bytes_quota(q, u.store_bytes, len, old, err,
		    errlen);
out:
	store_env_free(vars, n);
	return rc;
}

int
store_env_set(struct store *st, const char *project, const char *name,
    const char *value, size_t len, char *err, size_t errlen)
{
	const struct store_quotas	*q = &st->quotas;
	int				 envfd = -1, lockfd = -1;
	int				 rc = STORE_ERROR;

	if (project == NULL || !name_valid(project, strlen(project)) ||
	    name == NULL || !name_env_valid(name, strlen(name))) {
		fs_seterr(err, errlen, "invalid project or variable name");
		goto out;
	}
	/* What no state can allow is refused before anything is made. */
	if ((q->env_value_bytes > 0 && len > q->env_value_bytes) ||
	    (q->store_bytes > 0 && len > q->store_bytes)) {
		fs_seterr(err, errlen, "the value is %zu bytes; the limit is "
		    "%llu (%s)", len, q->env_value_bytes > 0 &&
		    len > q->env_value_bytes ?
		    (unsigned long long)q->env_value_bytes :
		    (unsigned long long)q->store_bytes,
		    q->env_value_bytes > 0 && len > q->env_value_bytes ?
		    "env_value_max_bytes" : "project_max_store_bytes");
		rc = STORE_QUOTA;
		goto out;
	}
	if (q->env_vars > 0 || q->store_bytes > 0) {
		if (store_project_lock(st, project, &lockfd, err, errlen) !=
		    STORE_OK)
			goto out;
		if ((rc = env_quota(st, project, name, len, err, errlen)) !=
		    STORE_OK)
			goto out;
		rc = STORE_ERROR;
	}
	if (env_open(st, project, 1, &envfd, err, errlen) != STORE_OK)
		goto out;
	rc = fs_write_atomic(&st->tmp, envfd, name, value != NULL ? value : "",
	    len, ENV_FILE_MODE, st->crash_hook, "env-written", err, errlen);
	store_gen_bump(st);
out:
	fs_close(&envfd);
	fs_close(&lockfd);
	return rc;
}

int
store_env_unset(struct store *st, const char *project, const char *name,
    char *err, size_t errlen)
{
	int	envfd = -1, rc = STORE_ERROR;

	if (project == NULL || !name_valid(project, strlen(project)) ||
	    name == NULL || !name_env_valid(name, strlen(name))) {
		fs_seterr(err, errlen, "invalid project or variable name");
		goto out;
	}
	if ((rc = env_open(st, project, 0, &envfd, err, errlen)) != STORE_OK)
		goto out;
	rc = fs_unlink_durable(envfd, name, name, err, errlen);
	store_gen_bump(st);
out:
	fs_close(&envfd);
	return rc;
}

static int
cmp_env(const void *a, const void *b)
{
	const struct store_env_var	*x = a, *y = b;

	return strcmp(x->name, y->name);
}

int
store_env_list(struct store *st, const char *project, int with_values,
    struct store_env_var **out, size_t *n, char *err, size_t errlen)
{
	struct store_env_var	*list = NULL, *nlist, *var;
	struct dirent		*de;
	struct stat		 sb;
	DIR			*d = NULL;
	char			 what[sizeof(ENV_DIR) + ENV_NAME_MAX_LEN + 1];
	size_t			 count = 0, cap = 0, nlen;
	int			 envfd = -1, rc = STORE_ERROR, r;

	*out = NULL;
	*n = 0;
	if (store_project_check(project, err, errlen) == -1)
		goto out;
	if ((rc = env_open(st, project, 0, &envfd, err, errlen)) != STORE_OK)
		goto out;
	rc = STORE_ERROR;
	if ((d = fs_dir_stream(envfd, ENV_DIR, err, errlen)) == NULL)
		goto out;
	while ((de = readdir(d)) != NULL) {
		nlen = strlen(de->d_name);
		if (!name_env_valid(de->d_name, nlen))
			continue;
		if (fstatat(envfd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) ==
		    -1 || !S_ISREG(sb.st_mode))
			continue;
		if ((nlist = store_grow(list, count, &cap, sizeof(*list), err,
		    errlen)) == NULL)
			goto out;
		list = nlist;
		var = &list[count];
		memset(var, 0, sizeof(*var));
		memcpy(var->name, de->d_name, nlen);
		var->len = (size_t)sb.st_size;
		if (with_values) {
			/* name_env_valid bounded the name; the precision
			 * tells the compiler. */
			snprintf(what, sizeof(what), "%s/%.*s", ENV_DIR,
			    ENV_NAME_MAX_LEN, de->d_name);
			r = fs_file_read(envfd, de->d_name, what, SIZE_MAX - 1,
			    &var->value, &var->len, err, errlen);
			if (r == STORE_NOT_FOUND)	/* unset meanwhile */
				continue;
			if (r != STORE_OK)
				goto out;
		}
		count++;
	}
	if (count > 0)
		qsort(list, count, sizeof(*list), cmp_env);
	*out = list;
	*n = count;
	list = NULL;
	rc = STORE_OK;
out:
	if (list != NULL)
		store_env_free(list, count);
	if (d != NULL)
		closedir(d);
	fs_close(&envfd);
	/* Only .env can be missing (a variable unset meanwhile is skipped):
	 * an unknown project has no variables. */
	return rc == STORE_NOT_FOUND ? STORE_OK : rc;
}

void
store_env_free(struct store_env_var *vars, size_t n)
{
	size_t	i;

	if (vars == NULL)
		return;
	for (i = 0; i < n; i++)
		free(vars[i].value);
	free(vars);
}

int
store_project_usage(struct store *st, const char *project,
    struct store_usage *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (store_project_check(project, err, errlen) == -1)
		return STORE_ERROR;
	if (store_usage_fns(st, project, out, err, errlen) != STORE_OK ||
	    store_usage_env(st, project, out, err, errlen) != STORE_OK)
		return STORE_ERROR;
	return STORE_OK;
}

int
store_project_limits_get(struct store *st, const char *project,
    struct store_project_limits *out, char *err, size_t errlen)
{
	char	path[NAME_MAX_LEN + sizeof(LIMITS_FILE) + 2], *buf = NULL;
	size_t	len;
	int	rc;

	memset(out, 0, sizeof(*out));
	if (store_project_check(project, err, errlen) == -1)
		return STORE_ERROR;
	snprintf(path, sizeof(path), "%s/%s", project, LIMITS_FILE);
	rc = fs_read_beneath(st->rootfd, path, st->resolve, LIMITS_MAX, &buf,
	    &len, err, errlen);
	if (rc == STORE_OK && store_format_limits(buf, len, out) == -1) {
		memset(out, 0, sizeof(*out));
		fs_seterr(err, errlen, "%s: malformed", path);
		rc = STORE_ERROR;
	}
	free(buf);
	return rc == STORE_NOT_FOUND ? STORE_OK : rc;
}

int
store_project_limits_set(struct store *st, const char *project,
    const struct store_project_limits *limits, char *err, size_t errlen)
{
	char	buf[64];
	int	projfd = -1, len, rc;

	if (store_project_check(project, err, errlen) == -1)
		return STORE_ERROR;
	len = limits->concurrency > 0 ? snprintf(buf, sizeof(buf),
	    "concurrency=%u\n", limits->concurrency) : 0;
	if ((rc = fs_dir_open(st->rootfd, project, 1, DIR_MODE, &projfd, err,
	    errlen)) == STORE_OK)
		rc = fs_write_atomic(&st->tmp, projfd, LIMITS_FILE, buf,
		    (size_t)len, FILE_MODE, st->crash_hook, "limits-written",
		    err, errlen);
	store_gen_bump(st);
	fs_close(&projfd);
	return rc == STORE_OK ? STORE_OK : STORE_ERROR;
}

int
store_project_has_settings(struct store *st, const char *project, int *has,
    char *err, size_t errlen)
{
	struct stat	sb;
	int		projfd = -1, rc;

	*has = 0;
	rc = fs_dir_open(st->rootfd, project, 0, DIR_MODE, &projfd, err,
	    errlen);
	if (rc == STORE_OK) {
		/* An empty .limits is what setting every limit back to its
		 * default leaves. */
		*has = (fstatat(projfd, EGRESS_FILE, &sb, AT_SYMLINK_NOFOLLOW) ==
		    0 && S_ISREG(sb.st_mode)) ||
		    (fstatat(projfd, LIMITS_FILE, &sb, AT_SYMLINK_NOFOLLOW) ==
		    0 && S_ISREG(sb.st_mode) && sb.st_size > 0);
	}
	fs_close(&projfd);
	return rc == STORE_ERROR ? STORE_ERROR : STORE_OK;
}
