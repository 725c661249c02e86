/* Which probes nmap sends to a port, in which order. Verified in nmap
 * 7.93's ServiceNFO::nextProbe (service_scan.cc) and the reference guide
 * (--version-intensity, docs/refguide.xml):
 *  1. the NULL probe (TCP only);
 *  2. in file order, every probe of the protocol whose ports directive
 *     names the port, whatever its rarity ("tried regardless of intensity
 *     level", so DNS probes always reach 53 and the SSL probe 443);
 *  3. in file order, the other probes whose rarity <= intensity.
 * Intensity 0 is therefore the NULL probe and the port's own probes; 9
 * ("--version-all") is every probe; the default is 7, "--version-light"
 * 2. After a soft match of service S (below intensity 9), both passes
 * keep only probes with a rule naming S (serviceIsPossible), and pass 3
 * then ignores rarity: a rare probe that can confirm S is still sent.
 * Ports in the file's Exclude directive get no probe at all
 * (remove_excluded_ports, unless nmap's --allports). */
#include <stdlib.h>
#include <string.h>

#include "svcdb_int.h"

static bool in_ranges(const struct svc_range *r, unsigned n, uint16_t port)
{
	unsigned lo = 0, hi = n;

	/* Sorted and disjoint (svcdb.c): the last range starting at or
	 * below port is the only one that may hold it. */
	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;
		if (r[mid].lo <= port)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 && r[lo - 1].hi >= port;
}

int rs__svc_name_id(const struct rs_svcdb *db, const char *name)
{
	unsigned lo = 0, hi = db->nsvc;

	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;
		int c = strcmp(db->svcnames[mid], name);
		if (c == 0)
			return (int)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

bool rs_svcdb_excluded(const struct rs_svcdb *db, uint16_t port)
{
	return in_ranges(db->excl, db->nexcl, port);
}

static bool possible(const struct rs_svcdb *db, unsigned idx, int sid)
{
	return sid >= 0 && db->probes[idx].svcset[sid / 64] >> (sid % 64) & 1;
}

bool rs_svcdb_probe_can_match(const struct rs_svcdb *db, unsigned idx, const char *service)
{
	return idx < db->ntcp && possible(db, idx, rs__svc_name_id(db, service));
}

/* Is probe i next in pass 2 (probable) or 3 (not)? */
static bool wanted(const struct rs_svcdb *db, unsigned i, uint16_t port, int intensity, bool soft,
		   int sid, bool probable_pass)
{
	const struct svc_probe *p = &db->probes[i];

	if ((int)i == db->null_idx || in_ranges(p->ports, p->nports, port) != probable_pass)
		return false;
	if (soft)
		return intensity >= 9 || possible(db, i, sid);
	return probable_pass || (int)p->pub.rarity <= intensity;
}

int rs_svcdb_next(const struct rs_svcdb *db, uint16_t port, int intensity, const char *soft,
		  int prev)
{
	int sid = soft ? rs__svc_name_id(db, soft) : -1;
	unsigned from = 0;
	int pass = 2;

	intensity = intensity < 0 ? 0 : intensity > 9 ? 9 : intensity;
	if (prev >= (int)db->ntcp || prev < -1 || rs_svcdb_excluded(db, port))
		return -1;
	if (prev == -1 && db->null_idx >= 0)
		return db->null_idx;
	if (prev >= 0 && prev != db->null_idx) {
		const struct svc_probe *p = &db->probes[prev];
		pass = in_ranges(p->ports, p->nports, port) ? 2 : 3;
		from = (unsigned)prev + 1;
	}
	for (; pass <= 3; pass++, from = 0)
		for (unsigned i = from; i < db->ntcp; i++)
			if (wanted(db, i, port, intensity, soft != NULL, sid, pass == 2))
				return (int)i;
	return -1;
}

size_t rs_svcdb_plan(const struct rs_svcdb *db, uint16_t port, int intensity, uint16_t *out,
		     size_t max)
{
	size_t n = 0;

	for (int i = rs_svcdb_next(db, port, intensity, NULL, -1); i >= 0 && n < max;
	     i = rs_svcdb_next(db, port, intensity, NULL, i))
		out[n++] = (uint16_t)i;
	return n;
}
