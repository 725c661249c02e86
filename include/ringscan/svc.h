/* The service stage of an open connection (DESIGN.md, "Service stage"):
 * what ringscan reads, sends and decides after the handshake, whatever the
 * backend. A session is a fixed-size buffer and a small state machine fed
 * the outcome of each read; it says what to do next (read again, send
 * then read, or done) and how long the next read may wait. It allocates
 * nothing, and no server can keep it past the read timeout or make it
 * hold more than RS_SVC_DATA bytes. Pure: unit tests drive it with bytes. */
#ifndef RINGSCAN_SVC_H
#define RINGSCAN_SVC_H

#include <stdbool.h>
#include <stdint.h>

#include "ringscan/telnet.h"

#define RS_SVC_DATA 4096 /* bytes kept of what one service says */

enum rs_svc_flag {
	RS_SVCF_EOF = 1 << 0,	  /* the service closed the connection */
	RS_SVCF_RESET = 1 << 1,	  /* ... with a reset */
	RS_SVCF_FULL = 1 << 2,	  /* it said more than RS_SVC_DATA bytes */
	RS_SVCF_SSH = 1 << 3,	  /* an SSH identification line */
	RS_SVCF_KEX = 1 << 4,	  /* ... and the KEXINIT after ours */
	RS_SVCF_TELNET = 1 << 5,  /* telnet option negotiation */
	RS_SVCF_TIMEOUT = 1 << 6, /* the read timeout ended the stage */
};

/* One open port's service data, as a worker publishes it beside the
 * port's result (plain data, shared memory). data[0, banner_len) is what
 * the service said first; with RS_SVCF_KEX, data[banner_len, len) is its
 * KEXINIT packet. */
struct rs_svcrec {
	uint64_t pos;	     /* the probe it belongs to */
	uint32_t len;	     /* bytes in data */
	uint32_t banner_len; /* bytes of data that are the banner */
	uint32_t total;	     /* bytes read (more than len when cut) */
	uint32_t wait_ms;    /* from the handshake to the first byte */
	uint16_t flags;	     /* enum rs_svc_flag */
	uint8_t pad[6];
	uint8_t data[RS_SVC_DATA];
};

/* What the stage is bounded by and may do. */
struct rs_svc_cfg {
	uint32_t read_ms;  /* --read-timeout: one stage's bound */
	uint32_t gap_ms;   /* a service quiet this long after speaking is done */
	bool probe;	   /* --service: may send (SSH: our identification) */
	const char *ident; /* ringscan's SSH identification, CR LF included */
};

enum rs_svc_phase {
	RS_SVC_GREET, /* listening to what the service says first */
	RS_SVC_KEX,   /* SSH: our identification sent, reading its KEXINIT */
};

enum rs_svc_step {
	RS_SVC_READ, /* read into rs_svc_room() for rs_svc_wait_ns() */
	RS_SVC_SEND, /* send out[0, out_len), then read */
	RS_SVC_DONE, /* disconnect and publish */
};

struct rs_svc_sess {
	struct rs_telnet tn;
	uint64_t begin_ns; /* this phase's start */
	uint64_t first_ns; /* the first byte, or 0 */
	uint64_t last_ns;  /* the last byte of this phase, or 0 */
	uint32_t len, total, banner_len;
	uint32_t wait_ms; /* from the start to the first byte */
	uint16_t flags;
	uint8_t phase;
	uint16_t out_len;
	uint8_t out[192];
	uint8_t data[RS_SVC_DATA];
};

/* The defaults of a stage bounded by read_ms. */
void rs_svc_cfg_init(struct rs_svc_cfg *c, uint32_t read_ms, bool probe, const char *ident);

/* Start listening on a connection that was just confirmed open. */
void rs_svc_begin(struct rs_svc_sess *s, uint64_t now_ns);

/* Where the next read goes, and how many bytes it may take (never 0
 * while the session reads). */
static inline uint8_t *rs_svc_room(struct rs_svc_sess *s, uint32_t *cap)
{
	*cap = RS_SVC_DATA - s->len;
	return s->data + s->len;
}

/* How long the next read may wait: to the phase's deadline, or, once the
 * service has spoken, to the end of a quiet gap. 0: no time left. */
uint64_t rs_svc_wait_ns(const struct rs_svc_sess *s, const struct rs_svc_cfg *c, uint64_t now_ns);

/* A read ended at now_ns: res > 0 bytes arrived at rs_svc_room(), 0 the
 * service closed, -ECANCELED or -ETIME the read's timeout fired, another
 * -errno the connection failed. A send that failed ends it the same way.
 * Returns what to do next. */
enum rs_svc_step rs_svc_on_read(struct rs_svc_sess *s, const struct rs_svc_cfg *c, int res,
				uint64_t now_ns);

/* The record to publish for the probe at pos. */
void rs_svc_record(const struct rs_svc_sess *s, uint64_t pos, struct rs_svcrec *r);

#endif
