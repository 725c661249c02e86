/* Replacing an output file whole: the new contents go to a nameless file
 * in the same directory (O_TMPFILE), which takes the old one's name only
 * once complete and on disk. A scan killed while writing (kill -9, a
 * second signal, a full disk) leaves the old file as it was, never half
 * of the new one, and no stray file behind. Used where a whole file is
 * written again at the end (nmap XML, sorted from the inventory). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "replace.h"

int rs_replace_open(struct rs_replace *r, const char *path, int cur_fd)
{
	struct stat cur, named;
	char dir[PATH_MAX];

	r->fd = cur_fd;
	r->path = NULL;
	/* Only a regular file that still is the one the scan opened: not
	 * stdout, a pipe, a device, or a name now pointing elsewhere (a
	 * symlink is written through, in place). */
	if (!path || fstat(cur_fd, &cur) < 0 || !S_ISREG(cur.st_mode) || lstat(path, &named) < 0 ||
	    !S_ISREG(named.st_mode) || named.st_dev != cur.st_dev || named.st_ino != cur.st_ino ||
	    access("/proc/self/fd", X_OK) < 0 || strlen(path) >= sizeof(dir))
		return 0;
	strcpy(dir, path);
	int fd = open(dirname(dir), O_TMPFILE | O_WRONLY | O_CLOEXEC, cur.st_mode & 07777);
	if (fd < 0)
		return 0;			   /* a file system without O_TMPFILE: in place */
	if (fchmod(fd, cur.st_mode & 07777) < 0) { /* the umask's share back */
		close(fd);
		return 0;
	}
	r->fd = fd;
	r->path = path;
	return 0;
}

int rs_replace_commit(struct rs_replace *r)
{
	char proc[64], tmp[PATH_MAX];
	int ret = 0;

	if (!r->path)
		return 0;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", r->fd);
	if (snprintf(tmp, sizeof(tmp), "%s.ringscan-%ld", r->path, (long)getpid()) >=
	    (int)sizeof(tmp))
		ret = -ENAMETOOLONG;
	else if (fdatasync(r->fd) < 0 ||
		 linkat(AT_FDCWD, proc, AT_FDCWD, tmp, AT_SYMLINK_FOLLOW) < 0)
		ret = -errno;
	else if (rename(tmp, r->path) < 0) {
		ret = -errno;
		unlink(tmp);
	}
	rs_replace_abort(r);
	return ret;
}

void rs_replace_abort(struct rs_replace *r)
{
	if (r->path)
		close(r->fd);
	r->path = NULL;
	r->fd = -1;
}
