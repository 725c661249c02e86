/* ringscan diff's comparison (inv_diff.c): two ordered answer sets, the
 * changes as JSON lines. */
#ifndef RS_INV_DIFF_H
#define RS_INV_DIFF_H

#include <stdint.h>
#include <stdio.h>

#include "ringscan/inventory.h"

enum { RS_DIFF_KINDS = 5 }; /* newly-open, no-longer-open, state, service, banner */

struct rs_diff_counts {
	uint64_t n[RS_DIFF_KINDS];
	uint64_t old, new; /* answers read on each side */
};

/* Scans old and new of db. 0, or -EIO (rs_inv_errmsg says why). */
int rs_inv_diff_scans(struct rs_inv *db, int64_t old, int64_t new, FILE *out,
		      struct rs_diff_counts *dc);
/* Two files, each JSON lines (ringscan's) or nmap XML (ringscan's -f xml,
 * nmap's -oX), told apart by their first byte that is not whitespace: '<'
 * is XML. 0, -EINVAL (a line that is not one of ringscan's, XML that is
 * not well-formed or not nmap's), -ENODATA (XML cut short), -E2BIG (an XML
 * tag beyond xmlread's bounds) or -errno, with a line in err naming the
 * file and the line. */
int rs_inv_diff_files(const char *old, const char *new, FILE *out, struct rs_diff_counts *dc,
		      char *err, size_t errlen);

/* One answer of a file being read, decoded (bytes, not escapes); NULL:
 * absent. */
struct rs_diff_row {
	const char *ip, *state, *service, *product, *version;
	const char *banner;
	size_t blen;
	int port;
};
/* Where a file's answers go: 0, or -errno with a message in err. */
typedef int (*rs_diff_put_fn)(void *arg, const struct rs_diff_row *r, char *err, size_t errlen);
/* The answers of the nmap XML on f (line: the line its next byte is on;
 * path: its name in messages) to put, in the file's order
 * (inv_diff_xml.c). 0 or -errno as rs_inv_diff_files, err set. */
int rs_inv_diff_xml(FILE *f, unsigned long line, const char *path, rs_diff_put_fn put, void *arg,
		    char *err, size_t errlen);
/* A banner script's output (\xNN escapes, \\) back to its bytes, in
 * place; the new length. */
size_t rs_diff_banner_bytes(char *s, size_t n);

#endif
