/* What src/svcdb*.c answers against nmap's database, for run.sh.
 *   describe DB < "PROBE HEX" lines: the response HEX matched to PROBE;
 *   describe DB PORT < "HEX" lines: a service on PORT that stays silent and
 *     answers every probe with HEX: the first probe of nmap's plan
 *     (intensity 7) after the NULL probe whose rules match it.
 * One line out per line in: "none", or "hard|soft<TAB>name<TAB>product
 * <TAB>version<TAB>info<TAB>hostname<TAB>os<TAB>device<TAB>ssl<TAB>cpes"
 * (cpes comma-separated). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ringscan/svcdb.h"

static size_t unhex(const char *h, uint8_t *out, size_t max)
{
	size_t n = 0;
	unsigned v;
	while (n < max && h[0] && h[1] && sscanf(h, "%2x", &v) == 1) {
		out[n++] = (uint8_t)v;
		h += 2;
	}
	return n;
}

static void answer(const struct rs_svcdb *db, int rc, const struct rs_svcmatch *m,
		   const uint8_t *resp, size_t n)
{
	struct rs_svcinfo i;
	if (rc <= 0 || rs_svcdb_describe(db, m, resp, n, &i)) {
		printf("none\n");
		return;
	}
	printf("%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t", rc == 1 ? "hard" : "soft", i.name, i.product,
	       i.version, i.info, i.hostname, i.os, i.device, i.ssl);
	for (unsigned k = 0; k < i.ncpe; k++)
		printf("%s%s", k ? "," : "", i.cpe[k]);
	printf("\n");
}

int main(int argc, char **argv)
{
	struct rs_svcdb *db;
	struct rs_svcscratch *s;
	static char line[2 * RS_SVCDB_MAXRESP + 256];
	static uint8_t resp[RS_SVCDB_MAXRESP];
	char err[512];
	int port = argc > 2 ? atoi(argv[2]) : -1;

	if (argc < 2 || rs_svcdb_load(argv[1], &db, err, sizeof(err)) ||
	    rs_svcscratch_create(db, &s)) {
		fprintf(stderr, "describe: %s\n", argc < 2 ? "usage: describe DB [PORT]" : err);
		return 1;
	}
	while (fgets(line, sizeof(line), stdin)) {
		struct rs_svcmatch m;
		char *hex = port >= 0 ? line : strchr(line, ' ');
		int rc = 0;
		if (!hex)
			return 1;
		if (port < 0)
			*hex++ = '\0';
		hex[strcspn(hex, "\n")] = '\0';
		size_t n = unhex(hex, resp, sizeof(resp));
		if (port < 0) {
			int p = rs_svcdb_find_probe(db, line);
			rc = p < 0 ? -1 : rs_svcdb_match(db, s, (unsigned)p, resp, n, &m);
		} else {
			int p = rs_svcdb_next(db, (uint16_t)port, RS_SVCDB_INTENSITY_DEFAULT, NULL,
					      -1);
			while (rc == 0 &&
			       (p = rs_svcdb_next(db, (uint16_t)port, RS_SVCDB_INTENSITY_DEFAULT,
						  NULL, p)) >= 0)
				rc = rs_svcdb_match(db, s, (unsigned)p, resp, n, &m);
		}
		answer(db, rc, &m, resp, n);
	}
	rs_svcscratch_free(s);
	rs_svcdb_free(db);
	return 0;
}
