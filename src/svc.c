/* The service stage's state machine (see ringscan/svc.h). */
#include <errno.h>
#include <string.h>

#include "ringscan/ssh.h"
#include "ringscan/svc.h"

#define MS 1000000ULL

void rs_svc_cfg_init(struct rs_svc_cfg *c, uint32_t read_ms, bool probe, const char *ident)
{
	c->read_ms = read_ms;
	/* A banner comes in one or a few segments a round trip apart; a
	 * service that paused for a sixth of the bound has said its piece. */
	c->gap_ms = read_ms / 6 < 10 ? 10 : read_ms / 6;
	c->probe = probe;
	c->ident = ident;
}

void rs_svc_begin(struct rs_svc_sess *s, uint64_t now_ns)
{
	memset(&s->tn, 0, sizeof(s->tn));
	s->begin_ns = now_ns;
	s->first_ns = s->last_ns = 0;
	s->wait_ms = 0;
	s->len = s->total = s->banner_len = 0;
	s->flags = 0;
	s->phase = RS_SVC_GREET;
	s->out_len = 0;
}

uint64_t rs_svc_wait_ns(const struct rs_svc_sess *s, const struct rs_svc_cfg *c, uint64_t now_ns)
{
	uint64_t end = s->begin_ns + c->read_ms * MS;

	if (s->last_ns && s->last_ns + c->gap_ms * MS < end)
		end = s->last_ns + c->gap_ms * MS;
	return end > now_ns ? end - now_ns : 0;
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
static enum rs_svc_step telnet(struct rs_svc_sess *s)
{
	s->flags |= RS_SVCF_TELNET;
	s->out_len = (uint16_t)rs_telnet_feed(&s->tn, s->data, s->len, s->out, sizeof(s->out));
	if (s->tn.text && s->tn.st == 0 && prompt_at_end(s->data, s->len))
		return RS_SVC_DONE;
	return s->out_len ? RS_SVC_SEND : RS_SVC_READ;
}

/* SSH: the identification line, then with --service our own and the
 * server's KEXINIT. */
static enum rs_svc_step ssh(struct rs_svc_sess *s, const struct rs_svc_cfg *c, uint64_t now_ns)
{
	if (s->phase == RS_SVC_KEX) {
		struct rs_ssh_kexinit k;
		int r = rs_ssh_kexinit(s->data + s->banner_len, s->len - s->banner_len, &k);
		if (r > 0)
			s->flags |= RS_SVCF_KEX;
		return r ? RS_SVC_DONE : RS_SVC_READ;
	}
	struct rs_ssh_ident id;
	int r = rs_ssh_ident(s->data, s->len, &id);
	if (r <= 0)
		return RS_SVC_READ; /* more to come, or not SSH: read to the gap */
	s->flags |= RS_SVCF_SSH;
	s->banner_len = id.end;
	if (!c->probe || !c->ident)
		return RS_SVC_DONE;
	size_t n = strlen(c->ident);
	s->out_len = (uint16_t)(n < sizeof(s->out) ? n : sizeof(s->out));
	memcpy(s->out, c->ident, s->out_len);
	s->phase = RS_SVC_KEX;
	s->begin_ns = now_ns; /* the KEXINIT gets a bound of its own */
	s->last_ns = 0;
	return RS_SVC_SEND;
}

enum rs_svc_step rs_svc_on_read(struct rs_svc_sess *s, const struct rs_svc_cfg *c, int res,
				uint64_t now_ns)
{
	enum rs_svc_step next;

	if (res == 0) {
		s->flags |= RS_SVCF_EOF;
		return RS_SVC_DONE;
	}
	if (res == -ECANCELED || res == -ETIME) {
		s->flags |= RS_SVCF_TIMEOUT;
		return RS_SVC_DONE;
	}
	if (res < 0) {
		s->flags |= res == -ECONNRESET || res == -EPIPE ? RS_SVCF_RESET : 0;
		return RS_SVC_DONE;
	}
	if (!s->first_ns) {
		s->first_ns = now_ns;
		s->wait_ms = (uint32_t)((now_ns - s->begin_ns) / MS);
	}
	s->last_ns = now_ns;
	s->len += (uint32_t)res;
	s->total += (uint32_t)res;
	if (s->flags & RS_SVCF_TELNET ||
	    (s->phase == RS_SVC_GREET && rs_telnet_is(s->data, s->len)))
		next = telnet(s);
	else
		next = ssh(s, c, now_ns);
	if (s->len == RS_SVC_DATA && next != RS_SVC_DONE) {
		s->flags |= RS_SVCF_FULL;
		return RS_SVC_DONE;
	}
	if (next == RS_SVC_READ && !rs_svc_wait_ns(s, c, now_ns)) {
		s->flags |= RS_SVCF_TIMEOUT;
		return RS_SVC_DONE;
	}
	return next;
}

void rs_svc_record(const struct rs_svc_sess *s, uint64_t pos, struct rs_svcrec *r)
{
	r->pos = pos;
	r->len = s->len;
	r->banner_len = s->flags & RS_SVCF_KEX ? s->banner_len : s->len;
	r->total = s->total;
	r->wait_ms = s->wait_ms;
	r->flags = s->flags;
	memset(r->pad, 0, sizeof(r->pad));
	memcpy(r->data, s->data, s->len);
}
