/* Worker process lifecycle. The child inherits the target space, the
 * permutation and the shared region from the coordinator (copy-on-write,
 * read-only after fork), creates its io_uring only after fork() (a ring
 * with SINGLE_ISSUER belongs to one task), and leaves with _exit() so that
 * nothing of the parent's stdio is flushed twice. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "worker.h"

unsigned rs_online_cpus(int *cpus, unsigned max)
{
	cpu_set_t set;
	unsigned n = 0;

	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		for (int c = 0; c < CPU_SETSIZE && n < max; c++)
			if (CPU_ISSET(c, &set))
				cpus[n++] = c;
	if (!n)
		cpus[n++] = 0;
	return n;
}

int rs_workers_note(unsigned workers, char *note, size_t n)
{
	int cpus[CPU_SETSIZE];
	unsigned ncpu = rs_online_cpus(cpus, CPU_SETSIZE);

	if (workers <= RS_WORKERS_PER_CPU * ncpu)
		return 0;
	snprintf(note, n,
		 "-w %u is %u workers per CPU (%u CPU%s here): workers beyond the CPUs only "
		 "take turns on them, each with its own ring and polling when idle, so this "
		 "scan will be slower, not faster, than with -w %u",
		 workers, (workers + ncpu - 1) / ncpu, ncpu, ncpu == 1 ? "" : "s", ncpu);
	return 1;
}

static void pin(unsigned id)
{
	int cpus[CPU_SETSIZE];
	unsigned n = rs_online_cpus(cpus, CPU_SETSIZE);
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpus[id % n], &set);
	sched_setaffinity(0, sizeof(set), &set); /* best effort */
}

pid_t rs_worker_spawn(const struct rs_engine_params *p)
{
	pid_t coordinator = getpid();
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid > 0)
		return pid;

	/* Child. Die with the coordinator rather than scan on unsupervised; if
	 * it died before PDEATHSIG was armed, we have been reparented. (Not
	 * "getppid() == 1": the coordinator may be PID 1 in a container.) */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != coordinator)
		_exit(1);
	/* The coordinator decides when to stop: a Ctrl-C or a SIGTERM sent
	 * to the whole group must not cut in-flight probes short. */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_IGN);
	pin(p->id);
	struct rs_wshared *w = &p->shm->w[p->id];
	int ret = rs_engine_run(p);
	atomic_store(&w->status, ret < 0 ? ret : 1);
	_exit(ret < 0 ? 1 : 0);
}
