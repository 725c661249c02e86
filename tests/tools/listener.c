/*
 * listener — accept-and-close TCP listener for ringscan's test worlds.
 *
 *   listener --ports-file F --ready FILE [--stats FILE] [--bind ADDR]
 *
 * Listens on ADDR:PORT (default 0.0.0.0; SO_REUSEADDR, backlog 65535) for
 * every port in F (one per line; blank lines and '#' comments are ignored),
 * then writes FILE (atomically, holding its pid) so that scripts can wait
 * for it. ADDR may be IPv6: "::" listens on both families (IPV6_V6ONLY off),
 * "::1" on IPv6 loopback only. One epoll loop accepts until EAGAIN and
 * closes each connection at once, with a FIN.
 *
 * Not with an RST (SO_LINGER {1,0}): on loopback the RST can reach the
 * client before it has looked at its own connect result, and SO_ERROR then
 * says ECONNRESET, so an open port would look closed to a perfectly correct
 * client (python's connect() shows it within a few hundred probes). A FIN
 * sets no error. No TIME_WAIT piles up either: the scanner closes with an
 * RST, which destroys our half at once; a client that closes with a FIN
 * leaves TIME_WAIT on our side only, bounded by tcp_max_tw_buckets.
 *
 * On SIGTERM or SIGINT it prints the number of accepted connections on
 * stderr, writes it to the --stats file, and exits 0. It also gets SIGTERM
 * when the process that started it dies, so it never outlives its test.
 *
 * The kernel completes handshakes by itself; the listener only has to keep
 * the accept queues from overflowing (which would turn open ports into
 * filtered ones), so the net.core.somaxconn and net.ipv4.tcp_max_syn_backlog
 * sysctls of the namespace should be raised as well.
 *
 * Exit status: 0 ok, 1 runtime failure, 2 bad usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
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
#include <unistd.h>

#define BACKLOG 65535

static void usage(const char *msg, const char *arg)
{
	fprintf(stderr, "listener: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
	fprintf(stderr,
		"usage: listener --ports-file F --ready FILE [--stats FILE] [--bind ADDR]\n");
	exit(2);
}

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

/* Reads the port list into ports[] (deduplicated); returns the count. */
static int read_ports(const char *path, uint16_t *ports)
{
	static uint8_t seen[65536];
	char line[256];
	int n = 0, lineno = 0;
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "listener: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		char *p = line, *end;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '#' || *p == '\n' || *p == 0)
			continue;
		long v = strtol(p, &end, 10);
		while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
			end++;
		if (end == p || *end || v < 1 || v > 65535) {
			fprintf(stderr, "listener: %s:%d: not a port: %s", path, lineno, line);
			exit(2);
		}
		if (!seen[v]) {
			seen[v] = 1;
			ports[n++] = (uint16_t)v;
		}
	}
	fclose(f);
	return n;
}

int main(int argc, char **argv)
{
	const char *ports_file = NULL, *ready = NULL, *stats = NULL, *bind_addr = "0.0.0.0";
	for (int i = 1; i < argc; i++) {
		if (i + 1 >= argc)
			usage("missing value or unknown option", argv[i]);
		if (!strcmp(argv[i], "--ports-file"))
			ports_file = argv[++i];
		else if (!strcmp(argv[i], "--ready"))
			ready = argv[++i];
		else if (!strcmp(argv[i], "--stats"))
			stats = argv[++i];
		else if (!strcmp(argv[i], "--bind"))
			bind_addr = argv[++i];
		else
			usage("unknown option", argv[i]);
	}
	if (!ports_file || !ready)
		usage("--ports-file and --ready are required", NULL);
	struct sockaddr_in6 sa6 = {.sin6_family = AF_INET6};
	struct sockaddr_in sa4 = {.sin_family = AF_INET};
	int family = AF_INET;
	if (inet_pton(AF_INET6, bind_addr, &sa6.sin6_addr) == 1)
		family = AF_INET6;
	else if (inet_pton(AF_INET, bind_addr, &sa4.sin_addr) != 1)
		usage("not an IPv4 or IPv6 address", bind_addr);

	/* Die with the script that started us. */
	pid_t parent = getppid();
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) == 0 && getppid() != parent)
		return 1;

	static uint16_t ports[65536];
	int nports = read_ports(ports_file, ports);

	struct rlimit rl = {0, 0};
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}

	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (sfd < 0 || ep < 0) {
		perror("listener: signalfd/epoll");
		return 1;
	}
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = sfd};
	epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);

	for (int i = 0; i < nports; i++) {
		int one = 1, zero = 0;
		sa4.sin_port = sa6.sin6_port = htons(ports[i]);
		struct sockaddr *sa =
			family == AF_INET6 ? (struct sockaddr *)&sa6 : (struct sockaddr *)&sa4;
		socklen_t salen = family == AF_INET6 ? sizeof(sa6) : sizeof(sa4);
		int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			fprintf(stderr,
				"listener: socket for port %u (%d ports, fd limit %lu): %s\n",
				ports[i], nports, (unsigned long)rl.rlim_cur, strerror(errno));
			return 1;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
		if (bind(fd, sa, salen) || listen(fd, BACKLOG)) {
			fprintf(stderr, "listener: port %u: %s\n", ports[i], strerror(errno));
			return 1;
		}
		ev.data.fd = fd;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev)) {
			perror("listener: epoll_ctl");
			return 1;
		}
	}

	char buf[64];
	snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (write_file(ready, buf)) {
		fprintf(stderr, "listener: %s: %s\n", ready, strerror(errno));
		return 1;
	}

	unsigned long long accepted = 0;
	struct epoll_event evs[256];
	for (;;) {
		int n = epoll_wait(ep, evs, 256, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("listener: epoll_wait");
			return 1;
		}
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == sfd)
				goto done;
			for (;;) {
				int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
				if (c < 0) {
					if (errno == EINTR || errno == ECONNABORTED)
						continue;
					if (errno != EAGAIN && errno != EWOULDBLOCK)
						fprintf(stderr, "listener: accept: %s\n",
							strerror(errno));
					break;
				}
				close(c);
				accepted++;
			}
		}
	}
done:
	fprintf(stderr, "listener: accepted %llu connections\n", accepted);
	if (stats) {
		snprintf(buf, sizeof(buf), "%llu\n", accepted);
		if (write_file(stats, buf)) {
			fprintf(stderr, "listener: %s: %s\n", stats, strerror(errno));
			return 1;
		}
	}
	return 0;
}
