/*
 * store_egress.c - a project's host allowlist in the store:
 * <project>/.egress, read, replaced atomically (store_fs.c's write: a
 * reader sees the old list or the new, never part of one) and removed;
 * and the worker's per-project cache of the parsed list, checked against
 * the file's identity on every use so a change takes effect on the next
 * call without the file being read on every call. The file's bytes are
 * parsed strictly (egress_hosts_parse): anything with write access to the
 * store could have put them there.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "names.h"
#include "store_egress.h"
#include "store_internal.h"

/* EGRESS_HOSTS_MAX patterns of at most 253 bytes and a newline each. */
#define EGRESS_FILE_MAX	(EGRESS_HOSTS_MAX * (EGRESS_HOST_MAX_LEN + 1))
#define CACHE_SLOTS	64	/* projects a worker keeps a list of */

/* What identifies one version of the file: it is only ever replaced by a
 * rename, never written in place, so a new list is a new inode (and new
 * times, should an inode number be reused). */
struct file_id {
	dev_t		dev;
	ino_t		ino;
	off_t		size;
	struct timespec	mtime, ctime;
};

struct egress_slot {
	char			 project[NAME_MAX_LEN + 1];
	struct file_id		 id;
	struct egress_hosts	*list;
	unsigned long		 used;		/* tick of its last use */
};

struct store_egress_cache {
	struct egress_slot	slot[CACHE_SLOTS];
	unsigned long		tick;
	unsigned long		loads;
};

/* Opens <project>/.egress beneath the root into *fd with its stat in sb.
 * O_NONBLOCK and the type check keep a FIFO or a device put there from
 * blocking or feeding the worker. STORE_OK, STORE_NOT_FOUND or
 * STORE_ERROR; path receives the file's name for messages. */
static int
egress_open(struct store *st, const char *project, char *path, size_t size,
    int *fd, struct stat *sb, char *err, size_t errlen)
{
	*fd = -1;
	if (store_project_check(project, err, errlen) == -1)
		return STORE_ERROR;
	snprintf(path, size, "%s/%s", project, EGRESS_FILE);
	if ((*fd = fs_open_beneath(st->rootfd, path, O_RDONLY | O_NONBLOCK,
	    st->resolve)) == -1) {
		if (errno == ENOENT || errno == ENOTDIR)
			return STORE_NOT_FOUND;
		fs_seterr(err, errlen, "open %s: %s", path, strerror(errno));
		return STORE_ERROR;
	}
	if (fstat(*fd, sb) == -1 || !S_ISREG(sb->st_mode)) {
		fs_seterr(err, errlen, "%s: not a regular file", path);
		fs_close(fd);
		return STORE_ERROR;
	}
	return STORE_OK;
}

/* Reads and parses the open file. STORE_OK or STORE_ERROR. */
static int
egress_read(int fd, const char *path, struct egress_hosts **out, char *err,
    size_t errlen)
{
	char	*buf = NULL, why[128];
	size_t	 len;
	int	 rc = STORE_ERROR;

	if (fs_read_all(fd, EGRESS_FILE_MAX, &buf, &len) == -1)
		fs_seterr(err, errlen, "read %s: %s", path, strerror(errno));
	else if (egress_hosts_parse(buf, len, out, why, sizeof(why)) == -1)
		fs_seterr(err, errlen, "%s: %s", path, why);
	else
		rc = STORE_OK;
	free(buf);
	return rc;
}

int
store_egress_get(struct store *st, const char *project,
    struct egress_hosts **out, char *err, size_t errlen)
{
	char		path[NAME_MAX_LEN + sizeof(EGRESS_FILE) + 2];
	struct stat	sb;
	int		fd = -1, rc;

	*out = NULL;
	rc = egress_open(st, project, path, sizeof(path), &fd, &sb, err,
	    errlen);
	if (rc == STORE_OK)
		rc = egress_read(fd, path, out, err, errlen);
	fs_close(&fd);
	return rc == STORE_NOT_FOUND ? STORE_OK : rc;
}

int
store_egress_set(struct store *st, const char *project,
    const struct egress_hosts *l, char *err, size_t errlen)
{
	struct buf	b = { 0 };
	int		projfd = -1, rc;

	if (store_project_check(project, err, errlen) == -1)
		return STORE_ERROR;
	egress_hosts_format(l, &b);
	if ((rc = fs_dir_open(st->rootfd, project, 1, DIR_MODE, &projfd, err,
	    errlen)) == STORE_OK)
		rc = fs_write_atomic(&st->tmp, projfd, EGRESS_FILE,
		    b.data != NULL ? b.data : "", b.len, FILE_MODE,
		    st->crash_hook, "egress-written", err, errlen);
	store_gen_bump(st);
	fs_close(&projfd);
	buf_free(&b);
	return rc == STORE_OK ? STORE_OK : STORE_ERROR;
}

int
store_egress_delete(struct store *st, const char *project, char *err,
    size_t errlen)
{
	int	projfd = -1, rc;

	if (store_project_check(project, err, errlen) == -1)
		return STORE_ERROR;
	if ((rc = fs_dir_open(st->rootfd, project, 0, DIR_MODE, &projfd, err,
	    errlen)) == STORE_OK)
		rc = fs_unlink_durable(projfd, EGRESS_FILE, EGRESS_FILE, err,
		    errlen);
	store_gen_bump(st);
	fs_close(&projfd);
	return rc;
}

static void
file_id_of(const struct stat *sb, struct file_id *id)
{
	memset(id, 0, sizeof(*id));
	id->dev = sb->st_dev;
	id->ino = sb->st_ino;
	id->size = sb->st_size;
	id->mtime = sb->st_mtim;
	id->ctime = sb->st_ctim;
}

static int
file_id_equal(const struct file_id *a, const struct file_id *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	    a->mtime.tv_sec == b->mtime.tv_sec &&
	    a->mtime.tv_nsec == b->mtime.tv_nsec &&
	    a->ctime.tv_sec == b->ctime.tv_sec &&
	    a->ctime.tv_nsec == b->ctime.tv_nsec;
}

/* The project's slot, or the least recently used one (emptied) to reuse. */
static struct egress_slot *
cache_slot(struct store_egress_cache *c, const char *project)
{
	struct egress_slot	*s, *lru = &c->slot[0];
	size_t			 i;

	for (i = 0; i < CACHE_SLOTS; i++) {
		s = &c->slot[i];
		if (strcmp(s->project, project) == 0)
			return s;
		if (s->used < lru->used)
			lru = s;
	}
	egress_hosts_free(lru->list);
	memset(lru, 0, sizeof(*lru));
	return lru;
}

int
store_egress_cached(struct store *st, const char *project,
    const struct egress_hosts **out, char *err, size_t errlen)
{
	char			 path[NAME_MAX_LEN + sizeof(EGRESS_FILE) + 2];
	struct egress_hosts	*list = NULL;
	struct egress_slot	*s;
	struct file_id		 id;
	struct stat		 sb;
	int			 fd = -1, rc;

	*out = NULL;
	if (st->egress == NULL &&
	    (st->egress = calloc(1, sizeof(*st->egress))) == NULL) {
		fs_seterr(err, errlen, "out of memory");
		return STORE_ERROR;
	}
	rc = egress_open(st, project, path, sizeof(path), &fd, &sb, err,
	    errlen);
	if (rc != STORE_OK)
		return rc == STORE_NOT_FOUND ? STORE_OK : rc;
	file_id_of(&sb, &id);
	s = cache_slot(st->egress, project);
	s->used = ++st->egress->tick;
	if (s->project[0] != '\0' && file_id_equal(&s->id, &id)) {
		*out = s->list;
		rc = STORE_OK;
		goto out;
	}
	/* Read from the descriptor just checked: the bytes are the ones of
	 * the identity kept with them. */
	st->egress->loads++;
	if ((rc = egress_read(fd, path, &list, err, errlen)) != STORE_OK)
		goto out;
	egress_hosts_free(s->list);
	memcpy(s->project, project, strlen(project) + 1);
	s->id = id;
	s->list = list;
	*out = list;
out:
	fs_close(&fd);
	return rc;
}

unsigned long
store_egress_loads(const struct store *st)
{
	return st->egress != NULL ? st->egress->loads : 0;
}

void
store_egress_cache_free(struct store *st)
{
	size_t	i;

	if (st->egress == NULL)
		return;
	for (i = 0; i < CACHE_SLOTS; i++)
		egress_hosts_free(st->egress->slot[i].list);
	free(st->egress);
	st->egress = NULL;
}
