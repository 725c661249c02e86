/* Plain-data types shared by every ringscan module and by the worker
 * processes through shared memory: no pointers in anything here. */
#ifndef RINGSCAN_TYPES_H
#define RINGSCAN_TYPES_H

#include <stdint.h>

/* Terminal state of one probe (DESIGN.md invariant 3). */
enum rs_state {
	RS_OPEN = 0,
	RS_CLOSED,
	RS_FILTERED,
	RS_UNREACHABLE,
	RS_ERROR,
	RS_NSTATES,
};

/* One (address, port) pair. Addresses are stored as 16 bytes so IPv6 can
 * share the record; an IPv4 address occupies addr[0..3], network order. */
struct rs_endpoint {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t pad;
	uint16_t port; /* host order */
	uint8_t addr[16];
};

/* One probe's answer, as a worker publishes it to the coordinator. */
struct rs_result {
	uint64_t pos;	/* permutation position in [0, N) */
	uint64_t ts_ns; /* CLOCK_REALTIME when the answer arrived */
	uint32_t rtt_us;
	int32_t err; /* positive errno for RS_ERROR, else 0 */
	struct rs_endpoint ep;
	uint8_t state;	  /* enum rs_state */
	uint8_t attempts; /* connect attempts that reached the wire */
	uint8_t svc;	  /* a service record (svc.h) waits in the worker's ring */
	uint8_t pad;
	uint16_t worker;
};

const char *rs_state_name(enum rs_state s);

#endif
