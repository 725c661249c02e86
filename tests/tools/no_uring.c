/* no_uring: run a command with io_uring blocked, as a container runtime's
 * default seccomp profile does (Docker's and containerd 2.0's make
 * io_uring_setup fail with EPERM).
 *
 *   no_uring [--errno EPERM|ENOSYS] [--enter-only] [--no-pwait2] CMD ARGS...
 *
 * Installs a seccomp filter (no libseccomp: PR_SET_NO_NEW_PRIVS and a
 * classic BPF program) under which io_uring_setup, io_uring_enter and
 * io_uring_register fail with the given errno (default EPERM) and every
 * other system call runs, then execs CMD. --enter-only lets
 * io_uring_setup through (a profile or LSM that allows a ring to be made
 * but not used); --no-pwait2 also fails epoll_pwait2 (Linux 5.11), as
 * profiles older than the call do. The filter is inherited by
 * everything CMD forks. A foreign architecture (a 32-bit binary on a
 * 64-bit kernel, whose system call numbers differ) is killed rather than
 * let through unfiltered. Exit status: CMD's, or 125 when the filter
 * cannot be installed, 126/127 when CMD cannot be run. */
#include <errno.h>
#include <stdbool.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
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
	fprintf(stderr, "usage: no_uring [--errno EPERM|ENOSYS] [--enter-only] [--no-pwait2] CMD "
			"ARGS...\n");
	return 125;
}

int main(int argc, char **argv)
{
	int err = EPERM, i = 1;
	bool setup = true, pwait2 = false;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (i + 1 < argc && !strcmp(argv[i], "--errno")) {
			if (!strcmp(argv[i + 1], "EPERM"))
				err = EPERM;
			else if (!strcmp(argv[i + 1], "ENOSYS"))
				err = ENOSYS;
			else
				return usage();
			i++;
		} else if (!strcmp(argv[i], "--enter-only")) {
			setup = false;
		} else if (!strcmp(argv[i], "--no-pwait2")) {
			pwait2 = true;
		} else {
			return usage();
		}
	}
	if (i >= argc)
		return usage();
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
