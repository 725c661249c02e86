/* no_uring: run a command with io_uring blocked, as a container runtime's
 * default seccomp profile does (Docker's and containerd 2.0's make
 * io_uring_setup fail with EPERM).
 *
 *   no_uring [--errno EPERM|ENOSYS|ENOMEM] [--enter-only] [--no-pwait2] CMD ARGS...
 *   no_uring [--errno EPERM|ENOSYS|ENOMEM] --children-only [--spare K] CMD ARGS...
 *
 * Installs a seccomp filter (no libseccomp: PR_SET_NO_NEW_PRIVS and a
 * classic BPF program) under which io_uring_setup, io_uring_enter and
 * io_uring_register fail with the given errno (default EPERM; ENOMEM is
 * what a lowered RLIMIT_MEMLOCK, or memory that never comes back, gives
 * io_uring_setup) and every
 * other system call runs, then execs CMD. --enter-only lets
 * io_uring_setup through (a profile or LSM that allows a ring to be made
 * but not used); --no-pwait2 also fails epoll_pwait2 (Linux 5.11), as
 * profiles older than the call do. The filter is inherited by
 * everything CMD forks. A foreign architecture (a 32-bit binary on a
 * 64-bit kernel, whose system call numbers differ) is killed rather than
 * let through unfiltered.
 *
 * --children-only blocks io_uring_setup in the processes CMD forks and
 * not in CMD itself, as if a filter had been applied between a check in
 * CMD and its fork (ringscan's coordinator checks io_uring before forking
 * its workers): the filter hands io_uring_setup to this process
 * (SECCOMP_RET_USER_NOTIF, Linux 5.5+ for letting it continue), which
 * stays CMD's parent and answers: CMD's own calls run, every other
 * process's fail with the errno, except those of the first K processes
 * (--spare K, default 0) that ask. It exits when CMD does (CMD gets
 * SIGKILL if this process dies first).
 *
 * Exit status: CMD's (128 + the signal that killed it), or 125 when the
 * filter cannot be installed, 126/127 when CMD cannot be run. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#elif defined(__riscv) && __riscv_xlen == 64
#define NATIVE_ARCH AUDIT_ARCH_RISCV64
#else
#define NATIVE_ARCH 0 /* unknown here: block_uring() refuses */
#endif

#ifndef __NR_io_uring_setup /* the same numbers on every architecture */
#define __NR_io_uring_setup    425
#define __NR_io_uring_enter    426
#define __NR_io_uring_register 427
#endif

#define LOAD(field) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, field))

#ifndef __NR_epoll_pwait2
#define __NR_epoll_pwait2 441 /* the same on every 64-bit architecture above */
#endif

#define MAXNR 4

/* Install the filter failing the nnr system calls nr[] with err; 0 or
 * -errno. */
static int block(const unsigned *nr, unsigned nnr, int err)
{
	struct sock_filter prog[5 + MAXNR] = {
		LOAD(arch),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		LOAD(nr),
	};
	unsigned len = 4;

	for (unsigned k = 0; k < nnr; k++) /* to the ERRNO return, past the ALLOW */
		prog[len++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr[k],
							   (unsigned char)(nnr - k), 0);
	prog[len++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	prog[len++] = (struct sock_filter)BPF_STMT(
		BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ((unsigned)err & SECCOMP_RET_DATA));
	struct sock_fprog fprog = {.len = (unsigned short)len, .filter = prog};

	if (!NATIVE_ARCH) /* add this architecture's AUDIT_ARCH_ value above */
		return -ENOTSUP;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	if (syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) < 0)
		return -errno;
	return 0;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: no_uring [--errno EPERM|ENOSYS|ENOMEM] [--enter-only] [--no-pwait2] CMD "
		"ARGS...\n       no_uring [--errno EPERM|ENOSYS|ENOMEM] --children-only [--spare "
		"K] "
		"CMD ARGS...\n");
	return 125;
}

/* The filter of --children-only: io_uring_setup to a listener, whose fd
 * it returns (or -errno); everything else runs. */
static int notify_filter(void)
{
	struct sock_filter prog[] = {
		LOAD(arch),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		LOAD(nr),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog fprog = {.len = sizeof(prog) / sizeof(prog[0]), .filter = prog};

	if (!NATIVE_ARCH)
		return -ENOTSUP;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	long fd = syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER,
			  &fprog);
	return fd < 0 ? -errno : (int)fd;
}

/* Pass fd over the unix socket sock (SCM_RIGHTS); 0 or -errno. */
static int send_fd(int sock, int fd)
{
	char byte = 0, ctl[CMSG_SPACE(sizeof(int))] = {0};
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = ctl,
			   .msg_controllen = sizeof(ctl)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &m, 0) == 1 ? 0 : -errno;
}

/* The fd sent by send_fd, or -1. */
static int recv_fd(int sock)
{
	char byte, ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = ctl,
			   .msg_controllen = sizeof(ctl)};
	int fd = -1;

	if (recvmsg(sock, &m, 0) != 1)
		return -1;
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	if (c && c->cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

#define SPARE_MAX 64

/* Is pid one of the first `spare` processes other than CMD that asked?
 * (It becomes one if there is room.) */
static bool spared(pid_t pid, pid_t *seen, unsigned *nseen, unsigned spare)
{
	for (unsigned k = 0; k < *nseen; k++)
		if (seen[k] == pid)
			return true;
	if (*nseen >= spare)
		return false;
	seen[(*nseen)++] = pid;
	return true;
}

/* Answer the listener's io_uring_setup calls until cmd exits: cmd's and
 * the first `spare` other processes' run, the others fail with err.
 * Returns cmd's wait status, or -1. */
static int serve(int listener, pid_t cmd, int err, unsigned spare)
{
	struct seccomp_notif_sizes sz;
	pid_t seen[SPARE_MAX];
	unsigned nseen = 0;
	int status = -1;

	if (syscall(__NR_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sz) < 0)
		return -1;
	struct seccomp_notif *req = calloc(1, sz.seccomp_notif + sizeof(*req));
	struct seccomp_notif_resp *resp = calloc(1, sz.seccomp_notif_resp + sizeof(*resp));
	/* Bounded by cmd's life: the caller's timeout ends it. */
	while (req && resp && waitpid(cmd, &status, WNOHANG) == 0) {
		struct pollfd p = {.fd = listener, .events = POLLIN};
		if (poll(&p, 1, 50) <= 0 || !(p.revents & POLLIN))
			continue;
		memset(req, 0, sz.seccomp_notif);
		if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, req) < 0)
			continue; /* EINTR, or the caller is gone (ENOENT) */
		memset(resp, 0, sz.seccomp_notif_resp);
		resp->id = req->id;
		if ((pid_t)req->pid == cmd || spared((pid_t)req->pid, seen, &nseen, spare))
			resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
		else
			resp->error = -err;
		ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, resp); /* ENOENT: it died */
	}
	free(req);
	free(resp);
	return status;
}

/* --children-only: fork CMD under the notifying filter and serve it. */
static int children_only(char **argv, int err, unsigned spare)
{
	int sp[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return perror("no_uring: socketpair"), 125;
	pid_t pid = fork();
	if (pid < 0)
		return perror("no_uring: fork"), 125;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int fd = notify_filter();
		if (fd < 0 || send_fd(sp[1], fd) < 0) {
			fprintf(stderr, "no_uring: cannot install the seccomp filter: %s\n",
				strerror(fd < 0 ? -fd : errno));
			_exit(125);
		}
		close(fd);
		execvp(argv[0], argv);
		fprintf(stderr, "no_uring: %s: %s\n", argv[0], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	close(sp[1]);
	int listener = recv_fd(sp[0]);
	int status = listener < 0 ? -1 : serve(listener, pid, err, spare);
	if (status == -1 && waitpid(pid, &status, 0) < 0)
		return 125;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(int argc, char **argv)
{
	int err = EPERM, i = 1;
	bool setup = true, pwait2 = false, children = false;
	unsigned spare = 0;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (i + 1 < argc && !strcmp(argv[i], "--errno")) {
			if (!strcmp(argv[i + 1], "EPERM"))
				err = EPERM;
			else if (!strcmp(argv[i + 1], "ENOSYS"))
				err = ENOSYS;
			else if (!strcmp(argv[i + 1], "ENOMEM"))
				err = ENOMEM;
			else
				return usage();
			i++;
		} else if (!strcmp(argv[i], "--enter-only")) {
			setup = false;
		} else if (!strcmp(argv[i], "--no-pwait2")) {
			pwait2 = true;
		} else if (!strcmp(argv[i], "--children-only")) {
			children = true;
		} else if (i + 1 < argc && !strcmp(argv[i], "--spare")) {
			spare = (unsigned)atoi(argv[++i]);
			if (spare > SPARE_MAX)
				return usage();
		} else {
			return usage();
		}
	}
	if (i >= argc || (children && (!setup || pwait2)) || (spare && !children))
		return usage();
	if (children)
		return children_only(argv + i, err, spare);
	unsigned nr[MAXNR], nnr = 0;
	if (setup)
		nr[nnr++] = __NR_io_uring_setup;
	nr[nnr++] = __NR_io_uring_enter;
	nr[nnr++] = __NR_io_uring_register;
	if (pwait2)
		nr[nnr++] = __NR_epoll_pwait2;
	int ret = block(nr, nnr, err);
	if (ret < 0) {
		fprintf(stderr, "no_uring: cannot install the seccomp filter: %s\n",
			strerror(-ret));
		return 125;
	}
	execvp(argv[i], argv + i);
	fprintf(stderr, "no_uring: %s: %s\n", argv[i], strerror(errno));
	return errno == ENOENT ? 127 : 126;
}
