/* Networks that answer, but not every time: a host or firewall that limits
 * the SYNs it answers per second drops most of a fast scan's probes to it,
 * and a retry budget set by the loss of the whole scan would call its
 * closed and open ports filtered. A small table counts, per /24 (IPv4) or
 * /64 (IPv6), the probes answered at their first attempt and those
 * answered only later; where the later ones are a tenth or more, and
 * three times their share over the whole scan (a link's random loss and a
 * congested bottleneck hit every network alike) or half of them, a probe
 * that runs out of attempts gets more, spaced further and further apart,
 * up to RS_LOSSY_ATTEMPTS. Half is enough whatever the scan's share: an
 * emulator that lagged made a third of a scan's first attempts time out,
 * three times that is all, and a /24 limited to 300 SYNs/s, 81% of whose
 * answers came late, lost 27 ports for want of the extra attempts. Fixed
 * size, direct-mapped: a busy scan forgets old networks, never grows.
 * Pure code. */
#ifndef RS_LOSSY_H
#define RS_LOSSY_H

#include <stdbool.h>
#include <stdint.h>

#include "ringscan/types.h"

#define RS_LOSSY_SLOTS	   4096 /* a power of two */
#define RS_LOSSY_ATTEMPTS  20
#define RS_LOSSY_SHARE_MIN 0.1 /* a network's share of late answers that counts */
#define RS_LOSSY_SHARE_MAX 0.5 /* and that always does */

struct rs_lossy {
	struct {
		uint64_t key;	       /* the network, tagged; 0 = empty */
		uint32_t first, later; /* answers at the first attempt, later */
	} net[RS_LOSSY_SLOTS];
};

/* A probe to ep was answered, at its first attempt or only later. */
void rs_lossy_note(struct rs_lossy *t, const struct rs_endpoint *ep, bool later);
/* Does ep's network lose many more probes than the rest, where a share
 * scan_later of all answers came only at a later attempt? */
bool rs_lossy_seen(const struct rs_lossy *t, const struct rs_endpoint *ep, double scan_later);

#endif
