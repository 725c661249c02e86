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

#include "ringscan/ssh.h"
#include "ringscan/svcdb.h"
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
	RS_SVCF_WRAPPED = 1 << 7, /* closed or reset before a byte: tcpwrapped */
};

enum rs_svc_match { RS_SVCM_NONE, RS_SVCM_HARD, RS_SVCM_SOFT };

/* One open port's service data, as a worker publishes it beside the
 * port's result (plain data, shared memory). */
struct rs_svcrec {
	uint64_t pos;	       /* the probe it belongs to */
	uint32_t len;	       /* bytes in data */
	uint32_t total;	       /* bytes read (more than len when cut) */
	uint32_t wait_ms;      /* from the handshake to the first byte */
	struct rs_span banner; /* the response the service was told by, or its greeting */
	struct rs_span kex;    /* with RS_SVCF_KEX: the server's KEXINIT packet */
	uint16_t flags;	       /* enum rs_svc_flag */
	uint8_t matched;       /* enum rs_svc_match: nmap's database said info */
	uint8_t pad;
	char probe[32]; /* the probe the banner answered: "NULL" (none sent), "GetRequest" */
	struct rs_svcinfo info;
	uint8_t data[RS_SVC_DATA];
};

/* What the stage is bounded by and may do. */
struct rs_svc_cfg {
	uint32_t read_ms;	   /* --read-timeout: one read stage's bound */
	uint32_t gap_ms;	   /* a service quiet this long after speaking is done */
	bool probe;		   /* --service: send nmap's probes, and SSH ours */
	const char *ident;	   /* ringscan's SSH identification, CR LF included */
	const struct rs_svcdb *db; /* nmap's database, or NULL: ssh, telnet, tcpwrapped */
	int intensity;		   /* --service-intensity */
};

enum rs_svc_phase {
	RS_SVC_GREET, /* listening to what the service says first (nmap's NULL probe) */
	RS_SVC_PROBE, /* a probe of nmap's sent, reading its response */
	RS_SVC_KEX,   /* SSH: our identification sent, reading its KEXINIT */
};

enum rs_svc_step {
	RS_SVC_READ,	  /* read into rs_svc_room() for rs_svc_wait_ns() */
	RS_SVC_SEND,	  /* send send[0, send_len), then read */
	RS_SVC_RECONNECT, /* hang up, connect again, then as RS_SVC_SEND */
	RS_SVC_DONE,	  /* hang up and publish */
};

struct rs_svc_sess {
	struct rs_telnet tn;
	struct rs_svcscratch *scratch; /* the worker's, for nmap's regexes */
	uint64_t begin_ns;	       /* this phase's start */
	uint64_t first_ns;	       /* the first byte, or 0 */
	uint64_t last_ns;	       /* the last byte of this phase, or 0 */
	uint32_t len, total;
	uint32_t resp;	      /* where the current response starts in data */
	uint32_t greet_len;   /* the greeting: data[0, greet_len) */
	uint32_t wait_ms;     /* from the start to the first byte */
	struct rs_span ident; /* SSH: its identification line, LF included */
	uint16_t port;
	uint16_t flags;
	uint8_t phase;
	uint8_t matched;       /* enum rs_svc_match */
	int16_t probe;	       /* the probe being answered (0: NULL) */
	int16_t m_probe;       /* the probe of the match */
	struct rs_span m_resp; /* the response of the match */
	const uint8_t *send;   /* bytes to send next: out, or a probe's payload */
	uint32_t send_len;
	uint8_t out[192];
	struct rs_svcinfo info; /* the match's fields */
	uint8_t data[RS_SVC_DATA];
};

/* The defaults of a stage bounded by read_ms. */
void rs_svc_cfg_init(struct rs_svc_cfg *c, uint32_t read_ms, bool probe, const char *ident);

/* Start listening on a connection to port that was just confirmed open;
 * scratch is the worker's (NULL without a database). */
void rs_svc_begin(struct rs_svc_sess *s, uint64_t now_ns, uint16_t port,
		  struct rs_svcscratch *scratch);

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
 * -errno the connection failed. A send or a reconnection that failed ends
 * a phase the same way. Returns what to do next. */
enum rs_svc_step rs_svc_on_read(struct rs_svc_sess *s, const struct rs_svc_cfg *c, int res,
				uint64_t now_ns);

/* The record to publish for the probe at pos (db: the probe's names). */
void rs_svc_record(const struct rs_svc_sess *s, const struct rs_svcdb *db, uint64_t pos,
		   struct rs_svcrec *r);

#endif
