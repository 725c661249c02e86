/*
 * linkemu — a userspace link emulator between two TUN devices, for
 * ringscan's WAN test worlds (this kernel has no netem and no NFQUEUE).
 *
 *   linkemu --ns-b PATH [--ns-a PATH] [--tun-a NAME] [--tun-b NAME]
 *           [--fd-a N] [--fd-b N]
 *           [--delay [DIR:][CIDR=]TIME]... [--jitter [DIR:]TIME]
 *           [--loss [DIR:]PCT] [--rate [DIR:]RATE] [--queue [DIR:]N]
 *           [--pool N] [--seed N] [--duration SECS]
 *           [--ready FILE] [--stats FILE]
 *
 * Side A is the scanner's side, side B the targets'. linkemu opens TUN
 * device NAME-A (default "lea") in network namespace A (--ns-a, a netns
 * file such as /proc/PID/ns/net; default: the one it runs in), then
 * setns()es into B (--ns-b) and opens NAME-B (default "leb") there. With
 * --fd-a/--fd-b it uses TUN fds (IFF_TUN|IFF_NO_PI) its parent opened
 * instead. It brings both devices up and raises their txqueuelen; their
 * addresses and routes are the caller's (see docs/link-emulator.md: only
 * 127/8 addresses, route_localnet=1, routes "dev TUN", never on-link /16s
 * needing neighbours). When both are up it writes its pid to --ready FILE.
 *
 * Every IP packet read from one device is written to the other, through
 * the emulated link of its direction, DIR = a2b (A to B) or b2a (B to A);
 * an option without DIR: sets both directions:
 *   --loss PCT    drop at random (first, before the bottleneck); PCT may
 *                 be a fraction, e.g. 0.5;
 *   --rate RATE   a bottleneck of RATE bit/s (suffix k, m, g; "kbit",
 *                 "mbit" also accepted), with a FIFO of --queue N packets
 *                 (default 1000; counting the one being sent): a packet
 *                 arriving at a full queue is dropped (tail drop);
 *   --delay TIME  then a propagation delay (suffix us, ms, s; default ms);
 *                 "CIDR=TIME" sets the delay of the packets whose B-side
 *                 address (destination a2b, source b2a) is in CIDR, so a
 *                 world can hold near and far hosts (up to 16 rules, the
 *                 first match wins, else the plain --delay);
 *   --jitter TIME each packet's delay is the delay +- a uniform TIME; a
 *                 packet never overtakes an earlier one of its delay class
 *                 (no reordering within a subnet).
 * Packets live in a preallocated pool of --pool N buffers (default 16384,
 * 2 KiB each; no malloc per packet, bounded memory); when it is empty an
 * arriving packet is dropped and counted as "pool" (an emulator limit).
 * One thread: epoll over both TUNs (read until EAGAIN, in bounded batches),
 * a timerfd armed at the earliest due packet, a signalfd.
 *
 * On SIGTERM/SIGINT, or after --duration SECS, it prints one line per
 * direction on stderr (and into --stats FILE):
 *   a2b rx=N fwd=N lost=N qdrop=N pool=N werr=N held=N bytes=N lag_max_us=N
 *       lag_p99_us=N
 * rx = packets read, fwd = written out, lost = dropped by --loss, qdrop =
 * dropped by the full bottleneck queue, werr = failed writes, held = still
 * in the link at exit (rx is the sum of the five), bytes = IP bytes
 * forwarded, lag = how
 * late packets left compared with their due time (its maximum and its
 * 99th percentile, 10 us resolution up to 1 s, then the maximum; it read
 * 100,010 us, the histogram's end, on bench/wan.sh's far link whatever
 * the lag was): a large lag means the emulator, not
 * the scanner, was the bottleneck. Exit status 0 ok, 1 failure, 2 usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define PKT_MAX	    2048
#define MAX_RULES   16
#define LAG_BUCKETS 100000 /* 10 us each: up to 1 s, then overflow */
#define BATCH	    256
#define TXQLEN	    10000

struct pkt {
	struct pkt *next;
	uint64_t due;
	uint32_t len;
	uint8_t data[PKT_MAX];
};

/* One delay class: packets in it leave in order, each after its due time. */
struct lane {
	uint32_t net, mask; /* B-side addresses of this class (rules only) */
	uint64_t delay_ns;
	uint64_t last_due;
	struct pkt *head, *tail;
};

struct counters {
	uint64_t rx, fwd, lost, qdrop, pool, werr, bytes, lag_max_ns;
	uint32_t lag_hist[LAG_BUCKETS + 1];
};

struct dir {
	const char *name;
	int in_fd, out_fd;
	int b_is_dst; /* a2b: the B-side address is the destination */
	uint64_t jitter_ns;
	double loss;	   /* 0..1 */
	uint64_t rate_bps; /* 0: no bottleneck */
	uint32_t qlimit;
	uint64_t link_free; /* when the bottleneck is next idle */
	uint64_t *txend;    /* ring of qlimit departure times */
	uint32_t tx_head, tx_count;
	int nrules;
	struct lane lanes[MAX_RULES + 1]; /* rules, then the default */
	struct counters c;
};

struct emu {
	struct dir d[2]; /* 0: a2b, 1: b2a */
	struct pkt *pool, *free_list;
	uint32_t pool_size;
	uint64_t rng;
	int ep, tfd, sfd, dfd;
	const char *tun_a, *tun_b, *ns_a, *ns_b, *ready, *stats;
	int fd_a, fd_b;
	double duration;
	uint8_t scratch[PKT_MAX]; /* where a packet that finds no buffer goes */
};

static void usage(const char *msg, const char *arg)
{
	fprintf(stderr, "linkemu: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
	fprintf(stderr, "usage: linkemu --ns-b PATH [--ns-a PATH] [--tun-a NAME] "
			"[--tun-b NAME] [--fd-a N] [--fd-b N]\n"
			"  [--delay [DIR:][CIDR=]TIME]... [--jitter [DIR:]TIME] "
			"[--loss [DIR:]PCT]\n"
			"  [--rate [DIR:]RATE] [--queue [DIR:]N] [--pool N] [--seed N]\n"
			"  [--duration SECS] [--ready FILE] [--stats FILE]   (DIR: a2b or b2a)\n");
	exit(2);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* xorshift64*: a uniform 64-bit random number (deterministic per --seed). */
static uint64_t rnd(struct emu *e)
{
	e->rng ^= e->rng >> 12;
	e->rng ^= e->rng << 25;
	e->rng ^= e->rng >> 27;
	return e->rng * 2685821657736338717ull;
}

/* A uniform double in [0, 1). */
static double rnd01(struct emu *e)
{
	return (double)(rnd(e) >> 11) / 9007199254740992.0;
}

/* Parses a number with an optional unit suffix from units[] (names and
 * multipliers, the first being the default); -1 if malformed. */
static double parse_unit(const char *s, const char *const *names, const double *mult, int n)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || v < 0)
		return -1;
	if (!*end)
		return v * mult[0];
	for (int i = 0; i < n; i++)
		if (!strcmp(end, names[i]))
			return v * mult[i];
	return -1;
}

static uint64_t parse_time_ns(const char *s)
{
	static const char *const names[] = {"ms", "us", "s"};
	static const double mult[] = {1e6, 1e3, 1e9};
	double v = parse_unit(s, names, mult, 3);
	if (v < 0 || v > 60e9)
		usage("bad time (NUMBER[us|ms|s], at most 60 s)", s);
	return (uint64_t)v;
}

static uint64_t parse_rate(const char *s)
{
	static const char *const names[] = {"", "k", "kbit", "m", "mbit", "g", "gbit"};
	static const double mult[] = {1, 1e3, 1e3, 1e6, 1e6, 1e9, 1e9};
	double v = parse_unit(s, names, mult, 7);
	if (v < 1000 || v > 100e9)
		usage("bad rate (1kbit to 100gbit)", s);
	return (uint64_t)v;
}

static long parse_long(const char *s, long lo, long hi)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		usage("bad number", s);
	return v;
}

/* A percentage, 0 to 100, fractions allowed ("0.5"). */
static double parse_pct(const char *s)
{
	static const char *const names[] = {"", "%"};
	static const double mult[] = {1, 1};
	double v = parse_unit(s, names, mult, 2);
	if (v < 0 || v > 100)
		usage("bad percentage (0 to 100)", s);
	return v;
}

/* Splits an optional "a2b:"/"b2a:" prefix: sets *first and *last to the
 * directions the option applies to and returns the rest. */
static const char *split_dir(const char *s, int *first, int *last)
{
	*first = 0;
	*last = 1;
	if (!strncmp(s, "a2b:", 4)) {
		*last = 0;
		return s + 4;
	}
	if (!strncmp(s, "b2a:", 4)) {
		*first = 1;
		return s + 4;
	}
	return s;
}

/* --delay [DIR:][CIDR=]TIME: the default delay or one more subnet rule. */
static void add_delay(struct emu *e, const char *arg)
{
	int first, last;
	const char *s = split_dir(arg, &first, &last);
	const char *eq = strchr(s, '=');
	if (!eq) {
		uint64_t ns = parse_time_ns(s);
		for (int i = first; i <= last; i++)
			e->d[i].lanes[MAX_RULES].delay_ns = ns;
		return;
	}
	char ip[64];
	size_t n = (size_t)(eq - s);
	const char *slash = memchr(s, '/', n);
	if (!slash || (size_t)(slash - s) >= sizeof(ip))
		usage("bad subnet (want A.B.C.D/LEN=TIME)", arg);
	memcpy(ip, s, (size_t)(slash - s));
	ip[slash - s] = 0;
	struct in_addr a;
	char lenbuf[8] = {0};
	if (eq - slash - 1 <= 0 || eq - slash - 1 >= (long)sizeof(lenbuf) ||
	    inet_pton(AF_INET, ip, &a) != 1)
		usage("bad subnet (want A.B.C.D/LEN=TIME)", arg);
	memcpy(lenbuf, slash + 1, (size_t)(eq - slash - 1));
	long len = parse_long(lenbuf, 0, 32);
	uint32_t mask = len ? ~0u << (32 - len) : 0;
	uint64_t ns = parse_time_ns(eq + 1);
	for (int i = first; i <= last; i++) {
		struct dir *d = &e->d[i];
		if (d->nrules == MAX_RULES)
			usage("too many --delay subnet rules", arg);
		struct lane *l = &d->lanes[d->nrules++];
		l->net = ntohl(a.s_addr) & mask;
		l->mask = mask;
		l->delay_ns = ns;
	}
}

/* Applies one link option (loss, rate, queue, jitter) to its directions. */
static void set_link(struct emu *e, int opt, const char *arg)
{
	int first, last;
	const char *s = split_dir(arg, &first, &last);
	for (int i = first; i <= last; i++) {
		struct dir *d = &e->d[i];
		if (opt == 'l')
			d->loss = parse_pct(s) / 100.0;
		else if (opt == 'r')
			d->rate_bps = parse_rate(s);
		else if (opt == 'q')
			d->qlimit = (uint32_t)parse_long(s, 1, 1000000);
		else
			d->jitter_ns = parse_time_ns(s);
	}
}

static void parse_args(struct emu *e, int argc, char **argv)
{
	static const struct option opts[] = {
		{"ns-a", 1, 0, 'A'},  {"ns-b", 1, 0, 'B'},
		{"tun-a", 1, 0, 'x'}, {"tun-b", 1, 0, 'y'},
		{"fd-a", 1, 0, 'X'},  {"fd-b", 1, 0, 'Y'},
		{"delay", 1, 0, 'd'}, {"jitter", 1, 0, 'j'},
		{"loss", 1, 0, 'l'},  {"rate", 1, 0, 'r'},
		{"queue", 1, 0, 'q'}, {"pool", 1, 0, 'p'},
		{"seed", 1, 0, 's'},  {"duration", 1, 0, 'D'},
		{"ready", 1, 0, 'R'}, {"stats", 1, 0, 'S'},
		{0, 0, 0, 0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'A':
			e->ns_a = optarg;
			break;
		case 'B':
			e->ns_b = optarg;
			break;
		case 'x':
			e->tun_a = optarg;
			break;
		case 'y':
			e->tun_b = optarg;
			break;
		case 'X':
			e->fd_a = (int)parse_long(optarg, 0, 1 << 20);
			break;
		case 'Y':
			e->fd_b = (int)parse_long(optarg, 0, 1 << 20);
			break;
		case 'd':
			add_delay(e, optarg);
			break;
		case 'p':
			e->pool_size = (uint32_t)parse_long(optarg, 16, 1 << 20);
			break;
		case 's':
			e->rng = (uint64_t)parse_long(optarg, 0, 1L << 62) * 2 + 1;
			break;
		case 'D':
			e->duration = (double)parse_long(optarg, 1, 86400);
			break;
		case 'R':
			e->ready = optarg;
			break;
		case 'S':
			e->stats = optarg;
			break;
		case 'j':
		case 'l':
		case 'r':
		case 'q':
			set_link(e, c, optarg);
			break;
		default:
			usage("bad option", NULL);
		}
	}
	if (optind != argc)
		usage("unexpected argument", argv[optind]);
	if (e->fd_b < 0 && !e->ns_b)
		usage("need --ns-b PATH or --fd-b N", NULL);
}

/* Brings interface NAME (in the current netns) up, txqueuelen TXQLEN
 * where allowed. */
static int link_up(const char *name)
{
	struct ifreq ifr;
	int rc = 0, s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_qlen = TXQLEN;
	(void)ioctl(s, SIOCSIFTXQLEN, &ifr); /* best effort: EPERM in a userns */
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) {
		rc = -errno;
		goto out;
	}
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		rc = -errno;
out:
	close(s);
	return rc;
}

/* Enters netns file NS (if any), then opens TUN device NAME there (or
 * takes FD, already open) and brings it up. Returns the fd or -errno. */
static int open_tun(const char *ns, const char *name, int fd)
{
	struct ifreq ifr;
	if (ns) {
		int nfd = open(ns, O_RDONLY | O_CLOEXEC);
		if (nfd < 0 || setns(nfd, CLONE_NEWNET) < 0) {
			int err = -errno;
			fprintf(stderr, "linkemu: enter netns %s: %s\n", ns, strerror(errno));
			if (nfd >= 0)
				close(nfd);
			return err;
		}
		close(nfd);
	}
	memset(&ifr, 0, sizeof(ifr));
	if (fd < 0) {
		fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
		ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
		if (fd < 0 || ioctl(fd, TUNSETIFF, &ifr) < 0) {
			int err = errno;
			fprintf(stderr, "linkemu: TUN %s: %s\n", name, strerror(err));
			return -err;
		}
	} else if (ioctl(fd, TUNGETIFF, &ifr) < 0) {
		int err = errno;
		fprintf(stderr, "linkemu: fd %d is not a TUN: %s\n", fd, strerror(err));
		return -err;
	}
	int rc = link_up(ifr.ifr_name);
	if (rc < 0 || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		fprintf(stderr, "linkemu: up %s: %s\n", ifr.ifr_name,
			strerror(rc < 0 ? -rc : errno));
		return rc < 0 ? rc : -errno;
	}
	return fd;
}

/* The pool, the bottleneck rings and the fds of the event loop. */
static int setup(struct emu *e)
{
	e->pool = calloc(e->pool_size, sizeof(*e->pool));
	if (!e->pool)
		return -ENOMEM;
	for (uint32_t i = 0; i < e->pool_size; i++) {
		e->pool[i].next = e->free_list;
		e->free_list = &e->pool[i];
	}
	for (int i = 0; i < 2; i++) {
		struct dir *d = &e->d[i];
		d->txend = calloc(d->qlimit, sizeof(*d->txend));
		if (!d->txend)
			return -ENOMEM;
		d->lanes[MAX_RULES].mask = 0;
	}
	sigset_t ss;
	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	e->sfd = signalfd(-1, &ss, SFD_CLOEXEC | SFD_NONBLOCK);
	e->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	e->dfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	e->ep = epoll_create1(EPOLL_CLOEXEC);
	if (e->sfd < 0 || e->tfd < 0 || e->dfd < 0 || e->ep < 0)
		return -errno;
	int fds[] = {e->d[0].in_fd, e->d[1].in_fd, e->tfd, e->sfd, e->dfd};
	for (int i = 0; i < 5; i++) {
		struct epoll_event ev = {.events = EPOLLIN, .data.fd = fds[i]};
		if (epoll_ctl(e->ep, EPOLL_CTL_ADD, fds[i], &ev) < 0)
			return -errno;
	}
	if (e->duration > 0) {
		struct itimerspec its = {.it_value = {.tv_sec = (time_t)e->duration}};
		if (timerfd_settime(e->dfd, 0, &its, NULL) < 0)
			return -errno;
	}
	return 0;
}

/* The lane of packet P: the first subnet rule matching its B-side address. */
static struct lane *lane_of(struct dir *d, const struct pkt *p)
{
	if (d->nrules && p->len >= 20 && (p->data[0] >> 4) == 4) {
		const uint8_t *a = p->data + (d->b_is_dst ? 16 : 12);
		uint32_t addr =
			(uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
		for (int i = 0; i < d->nrules; i++)
			if ((addr & d->lanes[i].mask) == d->lanes[i].net)
				return &d->lanes[i];
	}
	return &d->lanes[MAX_RULES];
}

/* Passes P through the bottleneck: sets *leave to when its last bit is
 * sent; 0, or -1 if the queue is full (tail drop). */
static int bottleneck(struct dir *d, const struct pkt *p, uint64_t now, uint64_t *leave)
{
	*leave = now;
	if (!d->rate_bps)
		return 0;
	while (d->tx_count && d->txend[d->tx_head] <= now) {
		d->tx_head = (d->tx_head + 1) % d->qlimit;
		d->tx_count--;
	}
	if (d->tx_count >= d->qlimit)
		return -1;
	uint64_t start = d->link_free > now ? d->link_free : now;
	*leave = start + (uint64_t)p->len * 8ull * 1000000000ull / d->rate_bps;
	d->link_free = *leave;
	d->txend[(d->tx_head + d->tx_count++) % d->qlimit] = *leave;
	return 0;
}

/* One packet read at NOW: lose it, queue-drop it, or put it in its lane. */
static void admit(struct emu *e, struct dir *d, struct pkt *p, uint64_t now)
{
	uint64_t leave;
	if (d->loss > 0 && rnd01(e) < d->loss) {
		d->c.lost++;
		goto drop;
	}
	if (bottleneck(d, p, now, &leave) < 0) {
		d->c.qdrop++;
		goto drop;
	}
	struct lane *l = lane_of(d, p);
	int64_t delay = (int64_t)l->delay_ns;
	if (d->jitter_ns)
		delay += (int64_t)(rnd(e) % (2 * d->jitter_ns + 1)) - (int64_t)d->jitter_ns;
	p->due = leave + (uint64_t)(delay > 0 ? delay : 0);
	if (p->due < l->last_due)
		p->due = l->last_due;
	l->last_due = p->due;
	p->next = NULL;
	if (l->tail)
		l->tail->next = p;
	else
		l->head = p;
	l->tail = p;
	return;
drop:
	p->next = e->free_list;
	e->free_list = p;
}

/* Reads up to BATCH packets from D's input (until EAGAIN) and admits them. */
static int read_side(struct emu *e, struct dir *d)
{
	for (int n = 0; n < BATCH; n++) {
		struct pkt *p = e->free_list;
		ssize_t r = read(d->in_fd, p ? p->data : e->scratch, PKT_MAX);
		if (r < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			fprintf(stderr, "linkemu: read %s: %s\n", d->name, strerror(errno));
			return -errno;
		}
		d->c.rx++;
		if (!p) {
			d->c.pool++;
			continue;
		}
		e->free_list = p->next;
		p->len = (uint32_t)r;
		admit(e, d, p, now_ns());
	}
	return 0;
}

/* Records that a packet left LATE ns after its due time. */
static void note_lag(struct counters *c, uint64_t late)
{
	if (late > c->lag_max_ns)
		c->lag_max_ns = late;
	uint64_t b = late / 10000;
	c->lag_hist[b < LAG_BUCKETS ? b : LAG_BUCKETS]++;
}

/* Writes every due packet out; returns the earliest due time left (0: none). */
static uint64_t flush_due(struct emu *e)
{
	uint64_t now = now_ns(), next = 0;
	for (int i = 0; i < 2; i++) {
		struct dir *d = &e->d[i];
		for (int k = 0; k <= MAX_RULES; k++) {
			struct lane *l = &d->lanes[k];
			struct pkt *p;
			while ((p = l->head) && p->due <= now) {
				note_lag(&d->c, now_ns() - p->due);
				if (write(d->out_fd, p->data, p->len) == (ssize_t)p->len) {
					d->c.fwd++;
					d->c.bytes += p->len;
				} else {
					d->c.werr++;
				}
				l->head = p->next;
				if (!l->head)
					l->tail = NULL;
				p->next = e->free_list;
				e->free_list = p;
			}
			if (p && (!next || p->due < next))
				next = p->due;
		}
	}
	return next;
}

/* Arms the delay timer at absolute monotonic time AT (0: disarm). */
static int arm(struct emu *e, uint64_t at)
{
	struct itimerspec its = {0};
	its.it_value.tv_sec = (time_t)(at / 1000000000ull);
	its.it_value.tv_nsec = (long)(at % 1000000000ull);
	return timerfd_settime(e->tfd, TFD_TIMER_ABSTIME, &its, NULL) < 0 ? -errno : 0;
}

/* The event loop, until a signal or the --duration timer. */
static int run(struct emu *e)
{
	struct epoll_event evs[8];
	for (;;) {
		int n = epoll_wait(e->ep, evs, 8, -1);
		if (n < 0 && errno != EINTR)
			return -errno;
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd, rc = 0;
			uint64_t junk;
			if (fd == e->sfd || fd == e->dfd)
				return 0;
			if (fd == e->tfd)
				rc = read(fd, &junk, sizeof(junk)) < 0 && errno != EAGAIN ? -errno
											  : 0;
			else
				rc = read_side(e, fd == e->d[0].in_fd ? &e->d[0] : &e->d[1]);
			if (rc < 0)
				return rc;
		}
		int rc = arm(e, flush_due(e));
		if (rc < 0)
			return rc;
	}
}

/* The lag below which 99% of the forwarded packets left, in us. */
static uint64_t lag_p99_us(const struct counters *c)
{
	uint64_t total = 0, seen = 0;
	for (int i = 0; i <= LAG_BUCKETS; i++)
		total += c->lag_hist[i];
	if (!total)
		return 0;
	for (int i = 0; i <= LAG_BUCKETS; i++) {
		seen += c->lag_hist[i];
		if (seen * 100 >= total * 99)
			return i < LAG_BUCKETS ? (uint64_t)(i + 1) * 10 : c->lag_max_ns / 1000;
	}
	return 0;
}

/* Prints the counters of both directions to F; "held" counts the packets
 * still in the link (queued or delayed) at exit. */
static void print_counters(const struct emu *e, FILE *f)
{
	for (int i = 0; i < 2; i++) {
		const struct counters *c = &e->d[i].c;
		unsigned long long held = 0;
		for (int k = 0; k <= MAX_RULES; k++)
			for (const struct pkt *p = e->d[i].lanes[k].head; p; p = p->next)
				held++;
		fprintf(f,
			"%s rx=%llu fwd=%llu lost=%llu qdrop=%llu pool=%llu werr=%llu held=%llu "
			"bytes=%llu lag_max_us=%llu lag_p99_us=%llu\n",
			e->d[i].name, (unsigned long long)c->rx, (unsigned long long)c->fwd,
			(unsigned long long)c->lost, (unsigned long long)c->qdrop,
			(unsigned long long)c->pool, (unsigned long long)c->werr, held,
			(unsigned long long)c->bytes, (unsigned long long)(c->lag_max_ns / 1000),
			(unsigned long long)lag_p99_us(c));
	}
}

/* Writes TEXT-producing output to PATH atomically (PATH.tmp, rename). */
static int write_stats(const struct emu *e, const char *path, int pid_only)
{
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return -errno;
	if (pid_only)
		fprintf(f, "%d\n", (int)getpid());
	else
		print_counters(e, f);
	if (ferror(f) | fclose(f))
		return -EIO;
	return rename(tmp, path) < 0 ? -errno : 0;
}

int main(int argc, char **argv)
{
	static struct emu emu;
	struct emu *e = &emu;
	e->tun_a = "lea";
	e->tun_b = "leb";
	e->fd_a = e->fd_b = -1;
	e->pool_size = 16384;
	e->rng = 0x9e3779b97f4a7c15ull;
	e->d[0].name = "a2b";
	e->d[1].name = "b2a";
	e->d[0].b_is_dst = 1;
	e->d[0].qlimit = e->d[1].qlimit = 1000;
	parse_args(e, argc, argv);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	prctl(PR_SET_TIMERSLACK, 1UL);
	int a = open_tun(e->ns_a, e->tun_a, e->fd_a);
	if (a < 0)
		return 1;
	int b = open_tun(e->ns_b, e->tun_b, e->fd_b);
	if (b < 0)
		return 1;
	e->d[0].in_fd = e->d[1].out_fd = a;
	e->d[1].in_fd = e->d[0].out_fd = b;
	int rc = setup(e);
	if (rc == 0 && e->ready)
		rc = write_stats(e, e->ready, 1);
	if (rc == 0)
		rc = run(e);
	if (rc < 0)
		fprintf(stderr, "linkemu: %s\n", strerror(-rc));
	print_counters(e, stderr);
	if (e->stats && write_stats(e, e->stats, 0) < 0)
		rc = -EIO;
	return rc < 0 ? 1 : 0;
}
