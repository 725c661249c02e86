/* The service stage's state machine (see ringscan/svc.h): what a session
 * does with each read, in nmap's order where nmap's database is loaded
 * (the rules rs_svcdb.h spells out), with SSH and telnet recognised from
 * their protocols first. */
#include <errno.h>
#include <string.h>

#include "ringscan/ssh.h"
#include "ringscan/svc.h"

#define MS 1000000ULL

void rs_svc_cfg_init(struct rs_svc_cfg *c, uint32_t read_ms, bool probe, const char *ident)
{
	memset(c, 0, sizeof(*c));
	c->read_ms = read_ms;
	/* A banner comes in one or a few segments a round trip apart; a
	 * service that paused for a sixth of the bound has said its piece. */
	c->gap_ms = read_ms / 6 < 10 ? 10 : read_ms / 6;
	c->probe = probe;
	c->ident = ident;
	c->intensity = RS_SVCDB_INTENSITY_DEFAULT;
}

void rs_svc_begin(struct rs_svc_sess *s, uint64_t now_ns, uint16_t port,
		  struct rs_svcscratch *scratch)
{
	memset(s, 0, offsetof(struct rs_svc_sess, out));
	s->scratch = scratch;
	s->begin_ns = now_ns;
	s->port = port;
	s->phase = RS_SVC_GREET;
	s->m_probe = -1;
}

uint64_t rs_svc_wait_ns(const struct rs_svc_sess *s, const struct rs_svc_cfg *c, uint64_t now_ns)
{
	uint64_t end = s->begin_ns + c->read_ms * MS;

	if (s->last_ns && s->last_ns + c->gap_ms * MS < end)
		end = s->last_ns + c->gap_ms * MS;
	return end > now_ns ? end - now_ns : 0;
}

/* Match the current response against nmap's rules for the current probe:
 * a hard match is kept, and the first soft one (its fields described at
 * once: a later probe may take its bytes' place). Returns the kind. */
static enum rs_svc_match nmap_match(struct rs_svc_sess *s, const struct rs_svc_cfg *c)
{
	struct rs_svcmatch m;
	const uint8_t *resp = s->data + s->resp;
	uint32_t n = s->len - s->resp;

	if (!c->db || !s->scratch || !n)
		return RS_SVCM_NONE;
	int r = rs_svcdb_match(c->db, s->scratch, (unsigned)s->probe, resp, n, &m);
	if (r != 1 && (r != 2 || s->matched != RS_SVCM_NONE))
		return r == 2 ? RS_SVCM_SOFT : RS_SVCM_NONE;
	if (rs_svcdb_describe(c->db, &m, resp, n, &s->info))
		return RS_SVCM_NONE;
	s->matched = r == 1 ? RS_SVCM_HARD : RS_SVCM_SOFT;
	s->m_probe = s->probe;
	s->m_resp = (struct rs_span){s->resp, n};
	return (enum rs_svc_match)s->matched;
}

/* A telnet prompt ends the text: "login: ", "Password:", "> ", "$ ", "# ". */
static bool prompt_at_end(const uint8_t *d, uint32_t n)
{
	while (n && d[n - 1] == ' ')
		n--;
	return n && (d[n - 1] == ':' || d[n - 1] == '>' || d[n - 1] == '$' || d[n - 1] == '#');
}

/* Telnet: refuse what the service asks for; done at a prompt (refusals
 * still owed then are not sent: the reset follows). */
static enum rs_svc_step telnet(struct rs_svc_sess *s, const struct rs_svc_cfg *c)
{
	s->flags |= RS_SVCF_TELNET;
	nmap_match(s, c); /* its fields, if nmap knows the daemon */
	s->send = s->out;
	s->send_len = (uint32_t)rs_telnet_feed(&s->tn, s->data, s->len, s->out, sizeof(s->out));
	if (s->tn.text && s->tn.st == 0 && prompt_at_end(s->data, s->len))
		return RS_SVC_DONE;
	return s->send_len ? RS_SVC_SEND : RS_SVC_READ;
}

/* SSH: is the server's KEXINIT complete after its identification? (some,
 * dropbear among them, send it unasked, with the identification.) */
static int kexinit(struct rs_svc_sess *s)
{
	struct rs_ssh_kexinit k;
	int r = rs_ssh_kexinit(s->data + s->ident.len, s->len - s->ident.len, &k);

	if (r > 0)
		s->flags |= RS_SVCF_KEX;
	return r;
}

/* What the service said first (nmap's NULL probe): an SSH identification
 * (then, with --service, ours, to read its KEXINIT), or what nmap's rules
 * make of it. */
static enum rs_svc_step greeting(struct rs_svc_sess *s, const struct rs_svc_cfg *c, uint64_t now_ns)
{
	struct rs_ssh_ident id;

	if (rs_ssh_ident(s->data, s->len, &id) <= 0)
		return nmap_match(s, c) == RS_SVCM_HARD ? RS_SVC_DONE : RS_SVC_READ;
	s->flags |= RS_SVCF_SSH;
	s->ident = (struct rs_span){0, id.end};
	nmap_match(s, c);
	if (!c->probe || !c->ident || kexinit(s) > 0)
		return RS_SVC_DONE;
	s->send = (const uint8_t *)c->ident;
	s->send_len = (uint32_t)strlen(c->ident);
	s->phase = RS_SVC_KEX;
	s->begin_ns = now_ns; /* the KEXINIT gets a bound of its own */
	s->last_ns = 0;
	return RS_SVC_SEND;
}

/* Bytes arrived: what they call for. */
static enum rs_svc_step on_data(struct rs_svc_sess *s, const struct rs_svc_cfg *c, uint64_t now_ns)
{
	if (s->phase == RS_SVC_KEX)
		return kexinit(s) ? RS_SVC_DONE : RS_SVC_READ;
	if (s->flags & RS_SVCF_TELNET ||
	    (s->phase == RS_SVC_GREET && rs_telnet_is(s->data, s->len)))
		return telnet(s, c);
	if (s->phase == RS_SVC_GREET)
		return greeting(s, c, now_ns);
	return nmap_match(s, c) == RS_SVCM_HARD ? RS_SVC_DONE : RS_SVC_READ;
}

/* A phase ended without a verdict (closed: the connection is gone): done,
 * or nmap's next probe -- on this connection after a greeting that timed
 * out, appended to it (nmap does so), else on a new one. */
static enum rs_svc_step next_probe(struct rs_svc_sess *s, const struct rs_svc_cfg *c, bool closed,
				   uint64_t now_ns)
{
	bool greet = s->phase == RS_SVC_GREET;

	if (greet)
		s->greet_len = s->len;
	if (s->phase == RS_SVC_KEX || !c->probe || !c->db || s->matched == RS_SVCM_HARD ||
	    s->flags & (RS_SVCF_FULL | RS_SVCF_SSH | RS_SVCF_TELNET | RS_SVCF_WRAPPED))
		return RS_SVC_DONE;
	int next = rs_svcdb_next(c->db, s->port, c->intensity,
				 s->matched == RS_SVCM_SOFT ? s->info.name : NULL, s->probe);
	if (next < 0)
		return RS_SVC_DONE;
	const struct rs_svcprobe *p = rs_svcdb_probe(c->db, (unsigned)next);
	s->probe = (int16_t)next;
	s->phase = RS_SVC_PROBE;
	s->send = p->payload;
	s->send_len = (uint32_t)p->len;
	s->begin_ns = now_ns;
	s->last_ns = 0;
	if (greet && !closed)
		return RS_SVC_SEND; /* resp stays 0: the greeting and the answer */
	if (s->m_resp.off + s->m_resp.len > s->greet_len)
		s->m_resp.len = 0; /* its bytes are about to go: the fields stay */
	s->len = s->resp = s->greet_len;
	return RS_SVC_RECONNECT;
}

enum rs_svc_step rs_svc_on_read(struct rs_svc_sess *s, const struct rs_svc_cfg *c, int res,
				uint64_t now_ns)
{
	if (res == -ECANCELED || res == -ETIME) {
		s->flags |= RS_SVCF_TIMEOUT;
		return next_probe(s, c, false, now_ns);
	}
	if (res <= 0) {
		s->flags |= res == 0				  ? RS_SVCF_EOF
			    : res == -ECONNRESET || res == -EPIPE ? RS_SVCF_RESET
								  : 0;
		if (s->phase == RS_SVC_GREET && !s->total)
			s->flags |= RS_SVCF_WRAPPED; /* nmap's tcpwrapped */
		return next_probe(s, c, true, now_ns);
	}
	if (!s->first_ns) {
		s->first_ns = now_ns;
		s->wait_ms = (uint32_t)((now_ns - s->begin_ns) / MS);
	}
	s->last_ns = now_ns;
	s->len += (uint32_t)res;
	s->total += (uint32_t)res;
	enum rs_svc_step next = on_data(s, c, now_ns);
	if (next == RS_SVC_DONE)
		return next;
	if (s->len == RS_SVC_DATA) {
		s->flags |= RS_SVCF_FULL; /* a read after a send would have no room */
		return RS_SVC_DONE;
	}
	if (next == RS_SVC_SEND)
		return next;
	if (!rs_svc_wait_ns(s, c, now_ns)) {
		s->flags |= RS_SVCF_TIMEOUT;
		return next_probe(s, c, false, now_ns);
	}
	return RS_SVC_READ;
}

void rs_svc_record(const struct rs_svc_sess *s, const struct rs_svcdb *db, uint64_t pos,
		   struct rs_svcrec *r)
{
	uint32_t greet = s->phase == RS_SVC_GREET ? s->len : s->greet_len;

	r->pos = pos;
	r->len = s->len;
	r->total = s->total;
	r->wait_ms = s->wait_ms;
	r->flags = s->flags;
	r->matched = s->matched;
	r->pad = 0;
	r->kex = (struct rs_span){s->ident.len, s->flags & RS_SVCF_KEX ? s->len - s->ident.len : 0};
	if (s->flags & RS_SVCF_SSH)
		r->banner = s->ident; /* what follows is binary: the KEXINIT */
	else if (s->matched != RS_SVCM_NONE && s->m_probe == s->probe)
		r->banner = (struct rs_span){s->resp, s->len - s->resp}; /* all of it */
	else if (s->matched != RS_SVCM_NONE && s->m_resp.len)
		r->banner = s->m_resp;
	else
		r->banner = (struct rs_span){0, greet};
	memset(r->probe, 0, sizeof(r->probe));
	const struct rs_svcprobe *p =
		db && s->matched != RS_SVCM_NONE ? rs_svcdb_probe(db, (unsigned)s->m_probe) : NULL;
	strncpy(r->probe, p ? p->name : "NULL", sizeof(r->probe) - 1);
	if (s->matched != RS_SVCM_NONE)
		r->info = s->info;
	else
		memset(&r->info, 0, sizeof(r->info));
	memcpy(r->data, s->data, s->len);
}
