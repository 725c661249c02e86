/* epoll_connect: the "plain kernel" baseline that ringscan must beat.
 *
 *   epoll_connect [-w WORKERS] [-c CONC] [-t MS] [--all] [-o FILE] CIDR PORTS
 *
 * One process per worker, each a non-blocking connect() + epoll loop with
 * up to CONC sockets in flight; SO_LINGER {1,0} before close, so nothing
 * lingers in TIME_WAIT. Worker w takes the w-th contiguous slice of the
 * address-major (address, port) space, in order. Answers are classified as
 * ringscan classifies them (0 → open, ECONNREFUSED → closed, timeout →
 * filtered, EHOSTUNREACH/ENETUNREACH → unreachable, else error) and
 * written as the same JSON lines, buffered, in whole lines (O_APPEND).
 * IPv4 only; no retries; no rate limit: a ceiling, not a product.
 * Bench use only (bench/run.sh), on 127.0.0.0/8 inside a namespace. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct slot {
	uint64_t idx;	  /* pair index */
	uint64_t t0, due; /* start, deadline (CLOCK_MONOTONIC ns) */
	int fd;		  /* -1: free */
	int prev, next;	  /* in-flight list, oldest first (deadline order) */
};

/* In-flight slots in launch order: every probe has the same timeout, so
 * the head is always the next to expire. Free slots on a stack. */
struct pool {
	struct slot *slot;
	int *free;
	int nfree, head, tail;
};

static void link_tail(struct pool *p, int i)
{
	p->slot[i].prev = p->tail;
	p->slot[i].next = -1;
	if (p->tail >= 0)
		p->slot[p->tail].next = i;
	else
		p->head = i;
	p->tail = i;
}

static void unlink_slot(struct pool *p, int i)
{
	struct slot *s = &p->slot[i];
	if (s->prev >= 0)
		p->slot[s->prev].next = s->next;
	else
		p->head = s->next;
	if (s->next >= 0)
		p->slot[s->next].prev = s->prev;
	else
		p->tail = s->prev;
	p->free[p->nfree++] = i;
}

struct job {
	uint32_t base; /* first address, host order */
	uint64_t naddr;
	uint16_t *ports;
	uint64_t nports;
	uint64_t begin, end; /* this worker's pair indices */
	int conc, all, out;
	uint64_t timeout_ns;
};

static char obuf[1 << 16];
static size_t olen;

static uint64_t now_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void flush_out(int fd)
{
	size_t off = 0;
	while (off < olen) {
		ssize_t n = write(fd, obuf + off, olen - off);
		if (n <= 0) {
			perror("epoll_connect: write");
			exit(1);
		}
		off += (size_t)n;
	}
	olen = 0;
}

static void emit(const struct job *j, uint64_t idx, const char *state, const char *reason,
		 uint64_t rtt_ns)
{
	char ip[INET_ADDRSTRLEN], ts[40];
	struct in_addr a = {htonl(j->base + (uint32_t)(idx / j->nports))};
	uint64_t wall = now_ns(CLOCK_REALTIME);
	time_t sec = (time_t)(wall / 1000000000ULL);
	struct tm tm;

	if (olen + 512 > sizeof(obuf))
		flush_out(j->out);
	inet_ntop(AF_INET, &a, ip, sizeof(ip));
	gmtime_r(&sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	olen += (size_t)snprintf(
		obuf + olen, sizeof(obuf) - olen,
		"{\"ip\":\"%s\",\"port\":%u,\"proto\":\"tcp\",\"state\":\"%s\","
		"\"reason\":\"%s\",\"rtt_us\":%llu,\"attempts\":1,\"ts\":\"%s.%06lluZ\"}\n",
		ip, j->ports[idx % j->nports], state, reason, (unsigned long long)(rtt_ns / 1000),
		ts, (unsigned long long)(wall % 1000000000ULL / 1000));
}

static void finish(const struct job *j, struct slot *s, int err, uint64_t now)
{
	static const struct linger lg = {1, 0};
	const char *state = "error", *reason = "error";

	switch (err) {
	case 0:
		state = "open", reason = "syn-ack";
		break;
	case ECONNREFUSED:
	case ECONNRESET:
		state = "closed", reason = "rst";
		break;
	case ETIMEDOUT:
		state = "filtered", reason = "timeout";
		break;
	case EHOSTUNREACH:
	case ENETUNREACH:
		state = "unreachable", reason = "unreachable";
		break;
	default:
		reason = strerror(err);
	}
	if (j->all || err == 0)
		emit(j, s->idx, state, reason, now - s->t0);
	setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(s->fd);
	s->fd = -1;
}

static int run(const struct job *j)
{
	struct pool p = {.head = -1, .tail = -1};
	struct epoll_event *ev = calloc((size_t)j->conc, sizeof(*ev));
	int ep = epoll_create1(EPOLL_CLOEXEC), inflight = 0;
	uint64_t next = j->begin;

	p.slot = calloc((size_t)j->conc, sizeof(*p.slot));
	p.free = calloc((size_t)j->conc, sizeof(*p.free));
	if (!p.slot || !p.free || !ev || ep < 0)
		return 1;
	for (int i = 0; i < j->conc; i++) {
		p.slot[i].fd = -1;
		p.free[p.nfree++] = j->conc - 1 - i;
	}
	while (next < j->end || inflight) {
		uint64_t now = now_ns(CLOCK_MONOTONIC);
		while (p.nfree && next < j->end) {
			struct sockaddr_in sa = {.sin_family = AF_INET};
			sa.sin_addr.s_addr = htonl(j->base + (uint32_t)(next / j->nports));
			sa.sin_port = htons(j->ports[next % j->nports]);
			int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
			if (fd < 0)
				break; /* out of fds for now: try again after completions */
			int i = p.free[--p.nfree];
			/* Each probe's timeout runs from its own connect, as
			 * ringscan's do: a burst of thousands of connects takes
			 * tens of ms (a second with 12 workers on 2 cores), and
			 * stamping them all with the burst's start gave its last
			 * probes that much less than -t. */
			now = now_ns(CLOCK_MONOTONIC);
			p.slot[i].idx = next++;
			p.slot[i].t0 = now;
			p.slot[i].due = now + j->timeout_ns;
			p.slot[i].fd = fd;
			link_tail(&p, i);
			inflight++;
			if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 ||
			    errno != EINPROGRESS) {
				finish(j, &p.slot[i], errno == EINPROGRESS ? 0 : errno, now);
				unlink_slot(&p, i);
				inflight--;
				continue;
			}
			struct epoll_event e = {.events = EPOLLOUT, .data.u32 = (uint32_t)i};
			epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
		}
		int wait_ms = p.head >= 0 ? 1 : 0;
		int n = epoll_wait(ep, ev, j->conc, wait_ms);
		now = now_ns(CLOCK_MONOTONIC);
		for (int k = 0; k < n; k++) {
			int i = (int)ev[k].data.u32;
			struct slot *s = &p.slot[i];
			int err = 0;
			socklen_t len = sizeof(err);
			getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len);
			finish(j, s, err, now); /* close removes it from the epoll set */
			unlink_slot(&p, i);
			inflight--;
		}
		while (p.head >= 0 && now >= p.slot[p.head].due) {
			int i = p.head;
			finish(j, &p.slot[i], ETIMEDOUT, now);
			unlink_slot(&p, i);
			inflight--;
		}
	}
	flush_out(j->out);
	return 0;
}

static int parse_ports(const char *s, uint16_t **out, uint64_t *n)
{
	uint16_t *p = malloc(65536 * sizeof(*p));
	uint64_t k = 0;

	while (p && *s) {
		char *end;
		long lo = strtol(s, &end, 10), hi = lo;
		if (*end == '-')
			hi = strtol(end + 1, &end, 10);
		if (lo < 1 || hi > 65535 || lo > hi || (*end && *end != ','))
			return -1;
		for (long v = lo; v <= hi && k < 65536; v++)
			p[k++] = (uint16_t)v;
		s = *end ? end + 1 : end;
	}
	*out = p;
	*n = k;
	return p && k ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct job j = {.conc = 1024, .timeout_ns = 1000000000ULL, .out = STDOUT_FILENO};
	int workers = 1, i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-w") && i + 1 < argc)
			workers = atoi(argv[++i]);
		else if (!strcmp(argv[i], "-c") && i + 1 < argc)
			j.conc = atoi(argv[++i]);
		else if (!strcmp(argv[i], "-t") && i + 1 < argc)
			j.timeout_ns = strtoull(argv[++i], NULL, 10) * 1000000ULL;
		else if (!strcmp(argv[i], "--all"))
			j.all = 1;
		else if (!strcmp(argv[i], "-o") && i + 1 < argc)
			j.out = open(argv[++i], O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
		else
			break;
	}
	char cidr[32];
	int len;
	if (argc - i != 2 || workers < 1 || j.conc < 1 || j.out < 0 ||
	    sscanf(argv[i], "%31[0-9.]/%d", cidr, &len) != 2 || len < 8 || len > 32 ||
	    inet_pton(AF_INET, cidr, &j.base) != 1 ||
	    parse_ports(argv[i + 1], &j.ports, &j.nports)) {
		fprintf(stderr, "usage: epoll_connect [-w N] [-c CONC] [-t MS] [--all] [-o FILE] "
				"A.B.C.D/LEN PORTS\n");
		return 2;
	}
	j.base = ntohl(j.base) & (len == 32 ? ~0u : ~((1u << (32 - len)) - 1));
	j.naddr = 1ULL << (32 - len);
	uint64_t total = j.naddr * j.nports;
	for (int w = 0; w < workers; w++) {
		if (fork() == 0) {
			j.begin = total * (uint64_t)w / (uint64_t)workers;
			j.end = total * (uint64_t)(w + 1) / (uint64_t)workers;
			cpu_set_t set;
			CPU_ZERO(&set);
			CPU_SET(w % (int)sysconf(_SC_NPROCESSORS_ONLN), &set);
			sched_setaffinity(0, sizeof(set), &set);
			_exit(run(&j));
		}
	}
	int status, rc = 0;
	while (wait(&status) > 0)
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			rc = 1;
	return rc;
}
