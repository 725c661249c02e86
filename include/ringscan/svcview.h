/* What the coordinator makes of a service record (svc.h) for the sinks:
 * the service's name and fields, the banner, and the protocol objects.
 * Pure: derived from the record's bytes alone (the recognisers run again
 * on them: cheaper than carrying their results through shared memory). */
#ifndef RINGSCAN_SVCVIEW_H
#define RINGSCAN_SVCVIEW_H

#include <stdbool.h>
#include <stddef.h>

#include "ringscan/ssh.h"
#include "ringscan/svc.h"
#include "ringscan/telnet.h"

#define RS_BANNER_MAX 1024 /* bytes of a banner written out */

struct rs_svcview {
	const struct rs_svcrec *rec;
	const char *name;   /* "ssh", "telnet", "tcpwrapped", ...; NULL: not recognised */
	const char *method; /* "banner" (it spoke first) or "probed" */
	const char *probe;  /* the probe its answer came from: "NULL" (none sent) */
	/* The fields: nmap's (rec->info) when its rules matched, else from
	 * the SSH identification; "" when unknown. */
	const char *product, *version, *info, *hostname, *os, *device;
	const char *cpe[4];
	unsigned ncpe;
	char own[3][128]; /* product, version, info made here */
	bool truncated;	  /* the banner is longer than what is written */
	bool ssh;	  /* an identification line: id */
	struct rs_ssh_ident id;
	bool kex; /* and a KEXINIT: kx (offsets into rec->data + rec->kex.off) */
	struct rs_ssh_kexinit kx;
	bool telnet; /* negotiation: tn */
	struct rs_telnet tn;
};

/* Length of the valid UTF-8 sequence at s (n >= 1 bytes left), or 0:
 * overlong forms, surrogates and code points beyond U+10FFFF are not. */
size_t rs_utf8_len(const uint8_t *s, size_t n);

/* Fill v from r. */
void rs_svc_describe(const struct rs_svcrec *r, struct rs_svcview *v);

/* Its JSON members, each preceded by a comma (",\"service\":{...},
 * \"banner\":\"...\",..."), into dst (cap bytes at most, never more:
 * a member that does not fit is cut short and closed). Returns the length. */
size_t rs_fmt_svc_json(char *dst, size_t cap, const struct rs_svcview *v);

/* Room a line with service members may need (RS_LINE_MAX more). */
#define RS_SVC_LINE_MAX 32768

#endif
