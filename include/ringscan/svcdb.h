/* nmap's service probe database (nmap-service-probes), read at run time and
 * compiled with PCRE2 (JIT): which probes to send to a port, in nmap's
 * order, and what a response says about the service. Pure code: no
 * sockets, no clocks. The semantics follow nmap 7.93's service_scan.cc
 * (Debian 12's nmap; the comments in src/svcdb*.c cite the functions);
 * the file format is nmap.org/book/vscan-fileformat.html.
 *
 * What the engine that drives the probes must do to agree with nmap -sV
 * (service_scan.cc: nextProbe, startNextProbe, servicescan_read_handler):
 *  - Ports in the file's Exclude directive (T:9100-9107 in nmap's file:
 *    printers print whatever they get) are not service-scanned at all;
 *    rs_svcdb_plan() returns no probe for them.
 *  - The NULL probe (empty payload) just listens, for its totalwait_ms. A
 *    connection the service closes without a byte within the NULL probe's
 *    tcpwrapped_ms is "tcpwrapped". When the NULL probe's wait runs out
 *    without a hard match, the next probe is sent on the SAME connection
 *    and its response is APPENDED to what the NULL probe read: rules see
 *    the concatenation. Every other next probe (and any after the service
 *    closed or reset the connection) gets a new connection and an empty
 *    buffer.
 *  - While a probe's response has no hard match, nmap keeps reading until
 *    the probe's totalwait_ms is spent or it holds 4096 bytes or more, and
 *    matches the whole buffer again after every read.
 *  - The first rule that matches (rs_svcdb_match) decides. A hard match
 *    ends the service. A soft match ends nothing: it is kept (a later soft
 *    match of another name is ignored, the first one stays), and later
 *    probes are only those that may still hard-match that service
 *    (rs_svcdb_next with soft set). If nothing hard-matches, the answer is
 *    the soft match's name and fields.
 *  - Matches on the "ssl" service make nmap restart the probes through TLS
 *    (sslports); ringscan has no TLS, so that is left to the caller.
 */
#ifndef RINGSCAN_SVCDB_H
#define RINGSCAN_SVCDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RS_SVCDB_DEFAULT_PATH	   "/usr/share/nmap/nmap-service-probes"
#define RS_SVCDB_INTENSITY_DEFAULT 7	  /* nmap's --version-intensity default */
#define RS_SVCDB_MAXRESP	   65534  /* longest response rs_svcdb_match takes */
#define RS_SVCDB_NOCAP		   0xffff /* cap[] value of a group that did not match */

struct rs_svcdb;      /* opaque, immutable after load: shared by forked workers */
struct rs_svcscratch; /* per-worker mutable match state (PCRE2 match data, JIT stack) */

/* Load and compile path (TCP probes, and the UDP probes a TCP probe names
 * as fallback). 0, or -errno (open/read errors, -ENOMEM); on a syntax
 * error -EINVAL and err = "FILE:LINE: what". err may be NULL. */
int rs_svcdb_load(const char *path, struct rs_svcdb **db, char *err, size_t errlen);
void rs_svcdb_free(struct rs_svcdb *db);

/* One TCP probe. The NULL probe (index 0 when the file has one) has len 0.
 * name and payload live as long as the db. */
struct rs_svcprobe {
	const char *name;
	const uint8_t *payload;
	size_t len;
	unsigned rarity;	/* 1-9, default 5 */
	unsigned totalwait_ms;	/* default 5000 */
	unsigned tcpwrapped_ms; /* default 2000 */
};

/* The TCP probes, indices 0 .. nprobes-1. */
unsigned rs_svcdb_nprobes(const struct rs_svcdb *db);
const struct rs_svcprobe *rs_svcdb_probe(const struct rs_svcdb *db, unsigned idx);
/* Index of the TCP probe called name, or -ENOENT. */
int rs_svcdb_find_probe(const struct rs_svcdb *db, const char *name);
/* Number of compiled match/softmatch rules, and a rule's line in the file. */
unsigned rs_svcdb_nrules(const struct rs_svcdb *db);
unsigned rs_svcdb_rule_line(const struct rs_svcdb *db, int32_t rule);

/* True if the file's Exclude directive names this TCP port. */
bool rs_svcdb_excluded(const struct rs_svcdb *db, uint16_t port);

/* The probes to try on port at intensity 0-9 (clamped), in nmap's order,
 * before any soft match: the NULL probe, then (in file order) every probe
 * whose ports directive names the port whatever its rarity, then the
 * others whose rarity <= intensity. Up to max indices into out; returns
 * the count (0 for an Excluded port). */
size_t rs_svcdb_plan(const struct rs_svcdb *db, uint16_t port, int intensity, uint16_t *out,
		     size_t max);

/* The probe after prev (-1: the first) in nmap's order for port at this
 * intensity, or -1 when there is none. soft: NULL, or the service a soft
 * match named; then, below intensity 9, only probes that may hard-match it
 * follow, and those are tried whatever their rarity (nmap's nextProbe).
 * With soft NULL the sequence is exactly rs_svcdb_plan's. */
int rs_svcdb_next(const struct rs_svcdb *db, uint16_t port, int intensity, const char *soft,
		  int prev);

/* After a softmatch of service: may probe idx still match it? (a rule of
 * the probe itself names it; nmap's serviceIsPossible) */
bool rs_svcdb_probe_can_match(const struct rs_svcdb *db, unsigned idx, const char *service);

/* Scratch space for rs_svcdb_match: one per worker process (or thread),
 * created after load (before or after fork). 0 or -ENOMEM. */
int rs_svcscratch_create(const struct rs_svcdb *db, struct rs_svcscratch **s);
void rs_svcscratch_free(struct rs_svcscratch *s);

/* rule -1: none; ncap: number of groups set ($0 included, at most 10);
 * cap[2k], cap[2k+1]: start and end offsets of $k in the response, or
 * RS_SVCDB_NOCAP for a group that took no part in the match. */
struct rs_svcmatch {
	int32_t rule;
	uint8_t soft;
	uint8_t ncap;
	uint16_t cap[2 * 10];
};

/* Match the response to probe idx: its own rules in file order, then its
 * fallbacks' (the fallback directive's probes, then the NULL probe), as
 * nmap does; the first rule that matches decides. 1 hard match, 2 soft
 * match, 0 none; -EINVAL for a bad probe index, -EMSGSIZE if len >
 * RS_SVCDB_MAXRESP. Binary-safe (no UTF). A rule whose match errs (PCRE2
 * match or JIT stack limit) counts as not matching, as in nmap. */
int rs_svcdb_match(const struct rs_svcdb *db, struct rs_svcscratch *s, unsigned probe,
		   const uint8_t *resp, size_t len, struct rs_svcmatch *m);

/* The service fields of a match, as nmap -sV reports them. Fields nmap
 * would leave empty are "": a field a rule does not set, or whose
 * template fails (a $n beyond the groups that matched, a result longer
 * than nmap's own buffer: 80 bytes for product, version, hostname and a
 * CPE, 256 for info, 32 for os and device). Every byte that is not
 * printable ASCII is '.', as in nmap's output: fields are plain ASCII.
 * cpe: at most one per part, in the order a, h, o; the last template of
 * a part wins. A soft match keeps its name as written (nmap's
 * scanThroughTunnel strips "ssl/" on hard matches only). */
struct rs_svcinfo {
	char name[64], product[128], version[128], info[256], hostname[128], os[64], device[64];
	char cpe[4][256];
	unsigned ncpe;
	bool ssl; /* a hard match of "ssl/NAME": name is NAME, spoken over TLS (nmap's XML
		     tunnel="ssl"; its normal output prints "ssl/NAME") */
};

/* Fill out from m, with resp/len the bytes the match was made on. 0, or
 * -EINVAL if m holds no rule of db. */
int rs_svcdb_describe(const struct rs_svcdb *db, const struct rs_svcmatch *m, const uint8_t *resp,
		      size_t len, struct rs_svcinfo *out);

#endif
