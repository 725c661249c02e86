/* Replacing an output file whole, atomically (replace.c). */
#ifndef RINGSCAN_REPLACE_H
#define RINGSCAN_REPLACE_H

struct rs_replace {
	int fd;		  /* write the new contents here */
	const char *path; /* NULL: fd is the file itself, written in place */
};

/* Prepare to replace path, which the scan holds open as cur_fd: r->fd is
 * a nameless file beside it, or cur_fd itself where that cannot be done
 * (not a regular file, no O_TMPFILE or /proc): the caller then truncates
 * and writes in place as before. Returns 0. */
int rs_replace_open(struct rs_replace *r, const char *path, int cur_fd);
/* The new contents are written: sync them and give them path's name.
 * 0 or -errno (the old file is then untouched). Closes r->fd. */
int rs_replace_commit(struct rs_replace *r);
/* Give up the new contents; path stays as it was. */
void rs_replace_abort(struct rs_replace *r);

#endif
