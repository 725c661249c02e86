/* The stop signals on a signalfd: the coordinator never has them delivered
 * as signals, so no wait of its own (for a worker, for room in a stalled
 * output pipe) can be cut short by a default disposition. */
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "stopsig.h"

int rs_stopsig_open(void)
{
	sigset_t set, before;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, &before);
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		sigprocmask(SIG_SETMASK, &before, NULL);
	return fd;
}

int rs_stopsig_take(int fd)
{
	struct signalfd_siginfo si;

	if (fd < 0 || read(fd, &si, sizeof(si)) != (ssize_t)sizeof(si))
		return 0;
	return (int)si.ssi_signo;
}
