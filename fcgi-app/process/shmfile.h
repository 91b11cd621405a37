/*
 * shmfile.h - a file mapped MAP_SHARED by every worker of a host, in
 * records each claimed by one process's pid (shmfile.c): what metrics.c
 * and concurrency.c share. spawn-fcgi starts the slots as unrelated
 * processes, so a file is what they can all map.
 */
#ifndef FNRUN_SHMFILE_H
#define FNRUN_SHMFILE_H

#include <stddef.h>
#include <stdint.h>

/* Maps the file at path (created 0600, grown to size), with its first 8
 * bytes set to magic. Returns the mapping, or NULL. */
void	*shmfile_map(const char *path, size_t size, uint64_t magic);

/* Is pid a live process (a record's owner)? A zombie is not. */
int	 shmfile_alive(int32_t pid);

/* Claims the record whose owner is *pid for the calling process: when it
 * is already its own, unused (0) or its owner is dead, by compare-and-swap.
 * Returns 1 when claimed, 0 when another live process holds it. */
int	 shmfile_claim(int32_t *pid);

#endif
