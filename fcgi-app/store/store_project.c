/*
 * store_project.c - a project's settings in the store (SPEC §7, §13):
 * its environment variables, <project>/.env/<NAME>, one file per value,
 * mode 0600 in a 0700 directory. Values are written atomically
 * (store_fs.c) and are secrets: nothing here logs or returns them except
 * to the caller that asked with with_values.
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
#include "store_internal.h"

#define ENV_DIR_MODE	0700
#define ENV_FILE_MODE	0600

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
store_env_set(struct store *st, const char *project, const char *name,
    const char *value, size_t len, char *err, size_t errlen)
{
	int	envfd = -1, rc = STORE_ERROR;

	if (project == NULL || !name_valid(project, strlen(project)) ||
	    name == NULL || !name_env_valid(name, strlen(name))) {
		fs_seterr(err, errlen, "invalid project or variable name");
		goto out;
	}
	if (env_open(st, project, 1, &envfd, err, errlen) != STORE_OK)
		goto out;
	rc = fs_write_atomic(&st->tmp, envfd, name, value != NULL ? value : "",
	    len, ENV_FILE_MODE, st->crash_hook, "env-written", err, errlen);
out:
	fs_close(&envfd);
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
	rc = STORE_ERROR;
	if (unlinkat(envfd, name, 0) == -1) {
		if (errno == ENOENT)
			rc = STORE_NOT_FOUND;
		else
			fs_seterr(err, errlen, "unlink %s/%s: %s", ENV_DIR, name,
			    strerror(errno));
		goto out;
	}
	if (fs_fsync(envfd) == -1) {
		fs_seterr(err, errlen, "fsync %s: %s", ENV_DIR, strerror(errno));
		goto out;
	}
	rc = STORE_OK;
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
