/*
 * svcd — one epoll process that plays many kinds of TCP service at once,
 * the ground truth for ringscan's service stage (its tests and benchmark).
 *
 *   svcd --ready FILE [--stats FILE] [--bind ADDR] [--spec-file F]... [SPEC]...
 *
 * SPEC is PORT[-PORT]=MODE[:TEXT]; a spec file holds one SPEC per line
 * (leading blanks, blank lines and lines starting with '#' are ignored; a
 * trailing CR LF is not part of TEXT, other trailing blanks are). A port
 * may be named by one SPEC only. The modes:
 *
 *   banner:TEXT        send TEXT at once, then hold the connection (reading
 *                      and discarding) until the peer closes or resets it
 *   banner-close:TEXT  send TEXT, then close with a FIN
 *   silent             never send; hold the connection until the peer goes
 *   close              close at once with a FIN, nothing sent (nmap's
 *                      "tcpwrapped")
 *   slow:TEXT          send TEXT one byte a second, cycling forever: the
 *                      first byte at once, then one each second
 *   flood              send a fixed 64 KiB pseudo-random buffer over and
 *                      over, as fast as the peer takes it, forever (byte i
 *                      is the top byte of the (i+1)th xorshift32 13/17/5
 *                      state from 0x9e3779b9; the stream repeats it exactly)
 *   reply:TEXT         silent until the peer sends something, then send
 *                      TEXT once (a service that speaks when spoken to)
 *
 * In TEXT, C escapes are decoded: \r \n \t \0 (a NUL byte) \\ \xHH; "%p"
 * becomes the port number (so a range can give each port its own banner,
 * e.g. "4000-8095=banner:SSH-2.0-OpenSSH_%p\r\n") and "%%" a '%'. TEXT is
 * 1 to 16,384 bytes once decoded and expanded. The slow, reply and
 * banner-close TEXTs take %p too.
 *
 * Listens on ADDR (default 0.0.0.0; "::" both families, "::1" IPv6
 * loopback only; SO_REUSEADDR, backlog 65535), then writes FILE
 * (atomically, holding its pid). Connections are accepted until EAGAIN and
 * the banner goes out with one send right after accept4. Each connection
 * costs one fixed 24-byte slot in a table indexed by fd, nothing else: no
 * allocation per connection, no thread; the slow connections form one FIFO
 * queue (every one is due a second after its previous byte) whose head sets
 * the epoll timeout. Peers that reset (the scanner always does) are
 * counted, not reported.
 *
 * On SIGTERM or SIGINT it handles the events already pending, then prints
 * one line of counters on stderr, writes it to the --stats file, and exits
 * 0:
 *   accepted=N sent=BYTES received=BYTES open=N resets=N dropped=N
 * open: connections still held at exit; resets: connections that ended in
 * ECONNRESET or EPIPE (a peer's RST); dropped: accepted connections that
 * could not be served (no slot, epoll_ctl failed; should be 0). It also
 * gets SIGTERM when the process that started it dies, so it never outlives
 * its test.
 *
 * Exit status: 0 ok, 1 runtime failure, 2 bad usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BACKLOG	   65535
#define TEXT_MAX   16384
#define FLOOD_SIZE 65536
#define MAX_EVENTS 256
#define MAX_FDS	   (1u << 20)
#define SLOW_MS	   1000

enum mode { M_BANNER, M_BANNER_CLOSE, M_SILENT, M_CLOSE, M_SLOW, M_FLOOD, M_REPLY };

/* The modes by name; text: 1 if it needs :TEXT, 0 if it takes none. */
static const struct {
	const char *name;
	int text;
} modes[] = {
	[M_BANNER] = {"banner", 1}, [M_BANNER_CLOSE] = {"banner-close", 1},
	[M_SILENT] = {"silent", 0}, [M_CLOSE] = {"close", 0},
	[M_SLOW] = {"slow", 1},	    [M_FLOOD] = {"flood", 0},
	[M_REPLY] = {"reply", 1},
};

/* A decoded TEXT: bytes, and the offsets in them where the port goes. */
struct text {
	char *buf;
	uint32_t len;
	uint32_t nholes;
	uint32_t *holes;
};

/* One SPEC: ports lo..hi play mode (with text). */
struct spec {
	enum mode mode;
	uint16_t lo, hi;
	struct text text;
};

enum kind { K_FREE, K_LISTEN, K_CONN };

/* What a connection is doing now. */
enum phase {
	P_IDLE,	 /* reads and discards */
	P_WAIT,	 /* reply: waits for the peer's first bytes */
	P_SEND,	 /* sending its TEXT, `off` bytes of it already gone */
	P_SLOW,	 /* in the slow queue; `off` is the next byte of TEXT */
	P_FLOOD, /* sends the flood buffer whenever the socket takes it; `off`
		    is where it goes on in the buffer */
};

#define F_OUT	      1 /* registered for EPOLLOUT */
#define F_CLOSE_AFTER 2 /* close once TEXT is sent (banner-close) */

/* One per fd: a listening socket or a connection (24 bytes). */
struct slot {
	uint8_t kind, phase, flags, pad;
	uint16_t spec, port;
	uint32_t off;
	uint32_t due;	    /* slow: when the next byte is due (ms) */
	int32_t next, prev; /* slow: the queue's links, -1 at its ends */
};
_Static_assert(sizeof(struct slot) == 24, "a slot is 24 bytes");

/* What the exit line reports (see the top of the file). */
struct counters {
	unsigned long long accepted, sent, received, open, resets, dropped;
};

/* Everything svcd knows: options, specs, the slot table, the counters and
 * its buffers (text expansion, reads to discard, flood). */
struct srv {
	const char *ready, *stats, *bind;
	struct spec *specs;
	int nspecs, cap;
	int ep, sfd, stop, warned;
	struct slot *slots;
	uint32_t nslots;
	int32_t slow_head, slow_tail;
	struct timespec t0;
	struct counters c;
	char xbuf[TEXT_MAX];
	char rbuf[65536];
	unsigned char flood[FLOOD_SIZE];
};

/* Says what is wrong (msg, arg: NULL for --help, then on stdout) and how
 * to call svcd; exits 2 (0 for --help). */
static void usage(const char *msg, const char *arg)
{
	FILE *f = msg ? stderr : stdout;
	if (msg)
		fprintf(f, "svcd: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
	fprintf(f, "usage: svcd --ready FILE [--stats FILE] [--bind ADDR] [--spec-file F]... "
		   "[SPEC]...\n"
		   "  SPEC: PORT[-PORT]=MODE[:TEXT]; MODE: banner:TEXT banner-close:TEXT "
		   "silent close\n"
		   "        slow:TEXT flood reply:TEXT; TEXT: \\r \\n \\t \\0 \\\\ \\xHH, %%p "
		   "= port, %%%% = %%\n");
	exit(msg ? 2 : 0);
}

/* The value of hex digit c, or -1. */
static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes one backslash escape starting at s[0] (after the '\'): sets *c
 * and returns the number of characters used, or 0 if it is not valid. */
static int unescape(const char *s, char *c)
{
	static const char from[] = "rnt0\\", to[] = "\r\n\t\0\\";
	const char *p = s[0] ? strchr(from, s[0]) : NULL;
	if (p) {
		*c = to[p - from];
		return 1;
	}
	if (s[0] == 'x' && hexval(s[1]) >= 0 && hexval(s[2]) >= 0) {
		*c = (char)(hexval(s[1]) * 16 + hexval(s[2]));
		return 3;
	}
	return 0;
}

/* Decodes TEXT (escapes, %p, %%) into t; returns 0 or -EINVAL, *why set. */
static int text_decode(const char *s, struct text *t, const char **why)
{
	size_t n = strlen(s), len = 0, nh = 0;
	t->buf = malloc(n + 1);
	t->holes = malloc((n / 2 + 1) * sizeof(*t->holes));
	if (!t->buf || !t->holes) {
		*why = "out of memory";
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '%' && (s[i + 1] == 'p' || s[i + 1] == '%')) {
			if (s[++i] == 'p')
				t->holes[nh++] = (uint32_t)len;
			else
				t->buf[len++] = '%';
			continue;
		}
		if (c == '\\') {
			int used = unescape(s + i + 1, &c);
			if (!used) {
				*why = "bad escape in TEXT (\\r \\n \\t \\0 \\\\ \\xHH)";
				return -EINVAL;
			}
			i += (size_t)used;
		}
		t->buf[len++] = c;
	}
	if (len + nh == 0) {
		*why = "empty TEXT";
		return -EINVAL;
	}
	if (len + 5 * nh > TEXT_MAX) {
		*why = "TEXT longer than 16384 bytes";
		return -EINVAL;
	}
	t->len = (uint32_t)len;
	t->nholes = (uint32_t)nh;
	return 0;
}

/* TEXT with the port in its holes: t's own bytes when it has none, else
 * out (TEXT_MAX bytes). Sets *len. */
static const char *text_expand(const struct text *t, uint16_t port, char *out, uint32_t *len)
{
	if (!t->nholes) {
		*len = t->len;
		return t->buf;
	}
	char digits[8];
	int nd = snprintf(digits, sizeof(digits), "%u", (unsigned)port);
	uint32_t o = 0, from = 0;
	for (uint32_t h = 0; h < t->nholes; h++) {
		memcpy(out + o, t->buf + from, t->holes[h] - from);
		o += t->holes[h] - from;
		memcpy(out + o, digits, (size_t)nd);
		o += (uint32_t)nd;
		from = t->holes[h];
	}
	memcpy(out + o, t->buf + from, t->len - from);
	*len = o + t->len - from;
	return out;
}

/* Parses a port number at s (digits only, 1..65535); returns the end or
 * NULL. */
static const char *parse_port(const char *s, uint16_t *port)
{
	unsigned long v = 0;
	const char *p = s;
	while (*p >= '0' && *p <= '9' && v <= 65535)
		v = v * 10 + (unsigned long)(*p++ - '0');
	if (p == s || v < 1 || v > 65535)
		return NULL;
	*port = (uint16_t)v;
	return p;
}

/* Parses one SPEC into sp; returns 0 or -EINVAL, *why set. */
static int spec_parse(const char *s, struct spec *sp, const char **why)
{
	const char *p = parse_port(s, &sp->lo);
	sp->hi = sp->lo;
	if (p && *p == '-')
		p = parse_port(p + 1, &sp->hi);
	if (!p || *p != '=' || sp->hi < sp->lo) {
		*why = "want PORT[-PORT]=MODE[:TEXT] (ports 1-65535, ascending)";
		return -EINVAL;
	}
	const char *m = p + 1, *colon = strchr(m, ':');
	size_t mlen = colon ? (size_t)(colon - m) : strlen(m);
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (strlen(modes[i].name) != mlen || memcmp(modes[i].name, m, mlen))
			continue;
		sp->mode = (enum mode)i;
		if (modes[i].text != !!colon) {
			*why = modes[i].text ? "this mode needs :TEXT" : "this mode takes no TEXT";
			return -EINVAL;
		}
		return colon ? text_decode(colon + 1, &sp->text, why) : 0;
	}
	*why = "unknown mode (banner banner-close silent close slow flood reply)";
	return -EINVAL;
}

/* Adds SPEC s (from WHERE, for messages) to the server, or exits 2. */
static void add_spec(struct srv *S, const char *s, const char *where)
{
	const char *why = NULL;
	if (S->nspecs == S->cap) {
		S->cap = S->cap ? 2 * S->cap : 16;
		S->specs = realloc(S->specs, (size_t)S->cap * sizeof(*S->specs));
		if (!S->specs)
			usage("out of memory", NULL);
	}
	struct spec *sp = &S->specs[S->nspecs];
	memset(sp, 0, sizeof(*sp));
	if (spec_parse(s, sp, &why)) {
		fprintf(stderr, "svcd: %s: %s: %s\n", where, why, s);
		fprintf(stderr, "svcd: see svcd --help\n");
		exit(2);
	}
	S->nspecs++;
}

/* Reads the SPEC lines of a spec file. */
static void read_spec_file(struct srv *S, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "svcd: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	char *line = NULL, where[4200];
	size_t cap = 0;
	ssize_t n;
	int lineno = 0;
	while ((n = getline(&line, &cap, f)) >= 0) {
		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = 0;
		char *p = line + strspn(line, " \t");
		if (*p == 0 || *p == '#')
			continue;
		snprintf(where, sizeof(where), "%.4000s:%d", path, lineno);
		add_spec(S, p, where);
	}
	free(line);
	fclose(f);
}

/* Parses the command line into S, or exits 2. */
static void parse_args(struct srv *S, int argc, char **argv)
{
	S->bind = "0.0.0.0";
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			usage(NULL, NULL);
		if (a[0] != '-') {
			add_spec(S, a, "SPEC");
			continue;
		}
		if (i + 1 >= argc)
			usage("missing value or unknown option", a);
		if (!strcmp(a, "--ready"))
			S->ready = argv[++i];
		else if (!strcmp(a, "--stats"))
			S->stats = argv[++i];
		else if (!strcmp(a, "--bind"))
			S->bind = argv[++i];
		else if (!strcmp(a, "--spec-file"))
			read_spec_file(S, argv[++i]);
		else
			usage("unknown option", a);
	}
	if (!S->ready)
		usage("--ready is required", NULL);
	if (!S->nspecs)
		usage("no SPEC given", NULL);
	uint16_t *owner = calloc(65536, sizeof(*owner)); /* spec index + 1 */
	if (!owner)
		usage("out of memory", NULL);
	for (int i = 0; i < S->nspecs; i++) {
		for (unsigned p = S->specs[i].lo; p <= S->specs[i].hi; p++) {
			if (owner[p]) {
				fprintf(stderr, "svcd: port %u is in two SPECs\n", p);
				exit(2);
			}
			owner[p] = (uint16_t)(i + 1);
		}
	}
	free(owner);
}

/* Writes text to path atomically (a temporary file renamed over it);
 * returns 0 or -1 with errno set. */
static int write_file(const char *path, const char *text)
{
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return -1;
	fputs(text, f);
	if (ferror(f) | fclose(f))
		return -1;
	return rename(tmp, path);
}

/* Milliseconds since the server started. */
static uint32_t now_ms(const struct srv *S)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint32_t)((t.tv_sec - S->t0.tv_sec) * 1000 + (t.tv_nsec - S->t0.tv_nsec) / 1000000);
}

/* Appends connection fd to the slow queue, due `due`. */
static void slow_push(struct srv *S, int fd, uint32_t due)
{
	struct slot *s = &S->slots[fd];
	s->due = due;
	s->next = -1;
	s->prev = S->slow_tail;
	if (S->slow_tail >= 0)
		S->slots[S->slow_tail].next = fd;
	else
		S->slow_head = fd;
	S->slow_tail = fd;
}

/* Takes connection fd out of the slow queue. */
static void slow_unlink(struct srv *S, int fd)
{
	struct slot *s = &S->slots[fd];
	if (s->prev >= 0)
		S->slots[s->prev].next = s->next;
	else
		S->slow_head = s->next;
	if (s->next >= 0)
		S->slots[s->next].prev = s->prev;
	else
		S->slow_tail = s->prev;
}

/* Ends connection fd; err is the error that ended it (0: a FIN, ours or
 * the peer's). */
static void conn_close(struct srv *S, int fd, int err)
{
	if (S->slots[fd].phase == P_SLOW)
		slow_unlink(S, fd);
	if (err == ECONNRESET || err == EPIPE)
		S->c.resets++;
	else if (err)
		fprintf(stderr, "svcd: connection on port %u: %s\n", S->slots[fd].port,
			strerror(err));
	S->slots[fd].kind = K_FREE;
	S->c.open--;
	close(fd);
}

/* Asks epoll for EPOLLOUT on fd, or stops asking; returns 0 or -errno. */
static int want_out(struct srv *S, int fd, int on)
{
	struct slot *s = &S->slots[fd];
	if (!!(s->flags & F_OUT) == on)
		return 0;
	struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0), .data.fd = fd};
	if (epoll_ctl(S->ep, EPOLL_CTL_MOD, fd, &ev))
		return -errno;
	s->flags ^= F_OUT;
	return 0;
}

/* Sends what is left of connection fd's TEXT. Returns 1 when it is all
 * gone, 0 when the socket is full (EPOLLOUT armed), or -errno. */
static int send_text(struct srv *S, int fd)
{
	struct slot *s = &S->slots[fd];
	uint32_t len;
	const char *t = text_expand(&S->specs[s->spec].text, s->port, S->xbuf, &len);
	while (s->off < len) {
		ssize_t n = send(fd, t + s->off, len - s->off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN)
			return -errno;
		if (n < 0)
			return want_out(S, fd, 1);
		s->off += (uint32_t)n;
		S->c.sent += (unsigned long long)n;
	}
	int rc = want_out(S, fd, 0);
	return rc ? rc : 1;
}

/* Goes on with connection fd's TEXT; at its end, closes (banner-close) or
 * idles. Returns 0, or -errno if fd must be closed with that error. */
static int text_progress(struct srv *S, int fd)
{
	int rc = send_text(S, fd);
	if (rc <= 0)
		return rc;
	if (S->slots[fd].flags & F_CLOSE_AFTER) {
		conn_close(S, fd, 0);
		return 0;
	}
	S->slots[fd].phase = P_IDLE;
	return 0;
}

/* Sends the next byte of slow connection fd's TEXT (none if the socket is
 * full); returns 0 or -errno. */
static int slow_byte(struct srv *S, int fd)
{
	struct slot *s = &S->slots[fd];
	uint32_t len;
	const char *t = text_expand(&S->specs[s->spec].text, s->port, S->xbuf, &len);
	ssize_t n = send(fd, t + s->off, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	S->c.sent++;
	s->off = (s->off + 1) % len;
	return 0;
}

/* Sends a byte to every slow connection that is due; returns the epoll
 * timeout until the next one (-1: none). */
static int slow_tick(struct srv *S)
{
	if (S->slow_head < 0)
		return -1;
	uint32_t now = now_ms(S);
	while (S->slow_head >= 0 && (int32_t)(S->slots[S->slow_head].due - now) <= 0) {
		int fd = S->slow_head, rc;
		slow_unlink(S, fd);
		S->slots[fd].phase = P_IDLE;
		if ((rc = slow_byte(S, fd))) {
			conn_close(S, fd, -rc);
			continue;
		}
		S->slots[fd].phase = P_SLOW;
		slow_push(S, fd, now + SLOW_MS);
	}
	if (S->slow_head < 0)
		return -1;
	return (int)(S->slots[S->slow_head].due - now);
}

/* Sends the flood buffer, over and over from where connection fd left
 * it, until the socket is full (at most 1 MiB per event, for fairness), so
 * the peer reads one exact repetition of it; returns 0 or -errno. */
static int flood_send(struct srv *S, int fd)
{
	struct slot *s = &S->slots[fd];
	for (int i = 0; i < 16; i++) {
		ssize_t n = send(fd, S->flood + s->off, FLOOD_SIZE - s->off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -errno;
		S->c.sent += (unsigned long long)n;
		s->off = (s->off + (uint32_t)n) % FLOOD_SIZE;
		if (s->off)
			return 0;
	}
	return 0;
}

/* Starts serving connection fd, just accepted on the listener `ls`;
 * returns 0, or -errno if fd must be closed with that error. */
static int conn_start(struct srv *S, int fd, const struct slot *ls)
{
	enum mode m = S->specs[ls->spec].mode;
	if (m == M_CLOSE) {
		close(fd);
		return 0;
	}
	struct slot *s = &S->slots[fd];
	*s = (struct slot){
		.kind = K_CONN, .spec = ls->spec, .port = ls->port, .next = -1, .prev = -1};
	struct epoll_event ev = {.events = EPOLLIN | (m == M_FLOOD ? EPOLLOUT : 0), .data.fd = fd};
	if (epoll_ctl(S->ep, EPOLL_CTL_ADD, fd, &ev)) {
		S->c.dropped++;
		close(fd);
		return 0;
	}
	S->c.open++;
	s->flags = m == M_FLOOD ? F_OUT : 0;
	int one = 1;
	switch (m) {
	case M_BANNER_CLOSE:
		s->flags |= F_CLOSE_AFTER;
		/* fallthrough */
	case M_BANNER:
		s->phase = P_SEND;
		return text_progress(S, fd);
	case M_SLOW:
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		s->phase = P_SLOW;
		slow_push(S, fd, now_ms(S) + SLOW_MS);
		return slow_byte(S, fd);
	case M_FLOOD:
		s->phase = P_FLOOD;
		return 0;
	case M_REPLY:
		s->phase = P_WAIT;
		return 0;
	default:
		s->phase = P_IDLE;
		return 0;
	}
}

/* Accepts every pending connection of listener lfd. */
static void accept_all(struct srv *S, int lfd)
{
	const struct slot *ls = &S->slots[lfd];
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && !S->warned++)
				fprintf(stderr, "svcd: accept on port %u: %s\n", ls->port,
					strerror(errno));
			return;
		}
		S->c.accepted++;
		if ((uint32_t)fd >= S->nslots) {
			S->c.dropped++;
			close(fd);
			continue;
		}
		int rc = conn_start(S, fd, ls);
		if (rc)
			conn_close(S, fd, -rc);
	}
}

/* Reads (and discards) what the peer of connection fd sent; a reply
 * connection answers its first bytes. Returns 1 if fd was closed. */
static int conn_read(struct srv *S, int fd)
{
	ssize_t n = recv(fd, S->rbuf, sizeof(S->rbuf), MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		conn_close(S, fd, n < 0 ? errno : 0);
		return 1;
	}
	S->c.received += (unsigned long long)n;
	struct slot *s = &S->slots[fd];
	if (s->phase != P_WAIT)
		return 0;
	s->phase = P_SEND;
	int rc = text_progress(S, fd);
	if (rc)
		conn_close(S, fd, -rc);
	return rc || S->slots[fd].kind != K_CONN;
}

/* Handles epoll events on connection fd. */
static void conn_event(struct srv *S, int fd, uint32_t events)
{
	if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && conn_read(S, fd))
		return;
	if (!(events & EPOLLOUT))
		return;
	struct slot *s = &S->slots[fd];
	int rc = 0;
	if (s->phase == P_FLOOD)
		rc = flood_send(S, fd);
	else if (s->phase == P_SEND)
		rc = text_progress(S, fd);
	if (rc)
		conn_close(S, fd, -rc);
}

/* Opens the listening socket of one port for spec index si; returns 0 or
 * -errno (said on stderr). */
static int listen_port(struct srv *S, int family, uint16_t port, int si)
{
	struct sockaddr_in6 sa6 = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
	struct sockaddr_in sa4 = {.sin_family = AF_INET, .sin_port = htons(port)};
	struct sockaddr *sa = (struct sockaddr *)&sa4;
	socklen_t salen = sizeof(sa4);
	int one = 1, zero = 0, err;
	if (family == AF_INET6) {
		inet_pton(AF_INET6, S->bind, &sa6.sin6_addr);
		sa = (struct sockaddr *)&sa6;
		salen = sizeof(sa6);
	} else {
		inet_pton(AF_INET, S->bind, &sa4.sin_addr);
	}
	int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || (uint32_t)fd >= S->nslots) {
		err = fd < 0 ? errno : EMFILE;
		fprintf(stderr, "svcd: socket for port %u (fd limit %u): %s\n", port, S->nslots,
			strerror(err));
		return -err;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
	if (bind(fd, sa, salen) || listen(fd, BACKLOG) ||
	    epoll_ctl(S->ep, EPOLL_CTL_ADD, fd, &ev)) {
		err = errno;
		fprintf(stderr, "svcd: port %u: %s\n", port, strerror(err));
		close(fd);
		return -err;
	}
	S->slots[fd] = (struct slot){.kind = K_LISTEN, .spec = (uint16_t)si, .port = port};
	return 0;
}

/* Raises the fd limit (to at most MAX_FDS) and sizes the slot table. */
static int setup_slots(struct srv *S)
{
	struct rlimit rl = {0, 0};
	if (getrlimit(RLIMIT_NOFILE, &rl))
		return -errno;
	rlim_t want = rl.rlim_max < MAX_FDS ? rl.rlim_max : MAX_FDS;
	if (rl.rlim_cur < want) {
		rl.rlim_cur = want;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	S->nslots = rl.rlim_cur < MAX_FDS ? (uint32_t)rl.rlim_cur : MAX_FDS;
	S->slots = calloc(S->nslots, sizeof(*S->slots));
	return S->slots ? 0 : -ENOMEM;
}

/* The signalfd, the epoll set, the slots, the flood buffer, and every
 * listening socket; returns 0 or -errno (said on stderr). */
static int setup(struct srv *S)
{
	int family = AF_INET, rc;
	struct in6_addr a6;
	struct in_addr a4;
	if (inet_pton(AF_INET6, S->bind, &a6) == 1)
		family = AF_INET6;
	else if (inet_pton(AF_INET, S->bind, &a4) != 1)
		usage("not an IPv4 or IPv6 address", S->bind);
	uint32_t x = 0x9e3779b9u; /* xorshift32: the same flood bytes every run */
	for (size_t i = 0; i < FLOOD_SIZE; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		S->flood[i] = (unsigned char)(x >> 24);
	}
	S->slow_head = S->slow_tail = -1;
	clock_gettime(CLOCK_MONOTONIC, &S->t0);
	if ((rc = setup_slots(S))) {
		fprintf(stderr, "svcd: fd table: %s\n", strerror(-rc));
		return rc;
	}
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	S->sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	S->ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = S->sfd};
	if (S->sfd < 0 || S->ep < 0 || epoll_ctl(S->ep, EPOLL_CTL_ADD, S->sfd, &ev)) {
		rc = -errno;
		perror("svcd: signalfd/epoll");
		return rc;
	}
	for (int i = 0; i < S->nspecs; i++)
		for (unsigned p = S->specs[i].lo; p <= S->specs[i].hi; p++)
			if ((rc = listen_port(S, family, (uint16_t)p, i)))
				return rc;
	return 0;
}

/* Handles up to MAX_EVENTS events, waiting at most `timeout` ms for them;
 * returns how many there were, or -errno. */
static int poll_once(struct srv *S, int timeout)
{
	struct epoll_event evs[MAX_EVENTS];
	int n = epoll_wait(S->ep, evs, MAX_EVENTS, timeout);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		int fd = evs[i].data.fd;
		if (fd == S->sfd) {
			struct signalfd_siginfo si;
			while (read(S->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
				;
			S->stop = 1;
		} else if (S->slots[fd].kind == K_LISTEN) {
			accept_all(S, fd);
		} else if (S->slots[fd].kind == K_CONN) {
			conn_event(S, fd, evs[i].events);
		}
	}
	return n;
}

/* The event loop, until SIGTERM or SIGINT; then the events already
 * pending (a few passes at most) are handled too, so that the counters
 * include the peers that went just before the signal. */
static int run(struct srv *S)
{
	while (!S->stop) {
		int rc = poll_once(S, slow_tick(S));
		if (rc < 0) {
			fprintf(stderr, "svcd: epoll_wait: %s\n", strerror(-rc));
			return rc;
		}
	}
	for (int pass = 0; pass < 16; pass++)
		if (poll_once(S, 0) <= 0)
			break;
	return 0;
}

int main(int argc, char **argv)
{
	struct srv *S = calloc(1, sizeof(*S));
	if (!S)
		return 1;
	parse_args(S, argc, argv);

	/* Die with the script that started us. */
	pid_t parent = getppid();
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) == 0 && getppid() != parent)
		return 1;

	if (setup(S))
		return 1;
	char buf[256];
	snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (write_file(S->ready, buf)) {
		fprintf(stderr, "svcd: %s: %s\n", S->ready, strerror(errno));
		return 1;
	}
	if (run(S))
		return 1;
	snprintf(buf, sizeof(buf),
		 "accepted=%llu sent=%llu received=%llu open=%llu resets=%llu "
		 "dropped=%llu\n",
		 S->c.accepted, S->c.sent, S->c.received, S->c.open, S->c.resets, S->c.dropped);
	fprintf(stderr, "svcd: %s", buf);
	if (S->stats && write_file(S->stats, buf)) {
		fprintf(stderr, "svcd: %s: %s\n", S->stats, strerror(errno));
		return 1;
	}
	return 0;
}
