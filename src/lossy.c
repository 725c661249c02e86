/* Lossy networks (see lossy.h). */
#include <string.h>
#include <sys/socket.h>

#include "lossy.h"

/* The network of ep, tagged with its family so that no key is 0. */
static uint64_t key_of(const struct rs_endpoint *ep)
{
	uint64_t k = 0;

	if (ep->family == AF_INET6) {
		memcpy(&k, ep->addr, 8); /* the /64 */
		return k ^ 0x6000000000000000ull ^ 0x9e3779b97f4a7c15ull;
	}
	return (uint64_t)ep->addr[0] << 16 | (uint64_t)ep->addr[1] << 8 | ep->addr[2] |
	       0x4000000000000000ull;
}

static unsigned slot_of(uint64_t k)
{
	return (unsigned)((k * 0x9e3779b97f4a7c15ull) >> 52) & (RS_LOSSY_SLOTS - 1);
}

void rs_lossy_note(struct rs_lossy *t, const struct rs_endpoint *ep, bool later)
{
	uint64_t k = key_of(ep);
	unsigned i = slot_of(k);

	if (t->net[i].key != k) {
		t->net[i].key = k;
		t->net[i].first = t->net[i].later = 0;
	}
	if (later)
		t->net[i].later++;
	else
		t->net[i].first++;
}

bool rs_lossy_seen(const struct rs_lossy *t, const struct rs_endpoint *ep, double scan_later)
{
	uint64_t k = key_of(ep);
	unsigned i = slot_of(k);

	if (t->net[i].key != k)
		return false;
	double later = t->net[i].later, all = later + t->net[i].first;
	double share = 3 * scan_later;

	share = share < RS_LOSSY_SHARE_MIN   ? RS_LOSSY_SHARE_MIN
		: share > RS_LOSSY_SHARE_MAX ? RS_LOSSY_SHARE_MAX
					     : share;
	return later >= 2 && later >= share * all;
}
