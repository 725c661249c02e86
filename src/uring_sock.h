/* The kernel's socket uring_cmd ABI (Linux 6.7+), filled in by hand because
 * liburing 2.3 (Debian 12) has no io_uring_prep_cmd_sock(). The layout is
 * the kernel's: level and optname share the addr field, optlen is the
 * file_index field, optval is addr3. */
#ifndef RS_URING_SOCK_H
#define RS_URING_SOCK_H

#include <liburing.h>

#ifndef SOCKET_URING_OP_GETSOCKOPT
#define SOCKET_URING_OP_GETSOCKOPT 2
#define SOCKET_URING_OP_SETSOCKOPT 3
#endif

static inline void rs__prep_sockopt(struct io_uring_sqe *sqe, unsigned op, int fd, int level,
				    int optname, void *optval, int optlen)
{
	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, fd, NULL, 0, 0);
	sqe->cmd_op = op;
	sqe->addr = (__u64)(unsigned)level | ((__u64)(unsigned)optname << 32);
	sqe->file_index = (unsigned)optlen;
	sqe->addr3 = (__u64)(unsigned long)optval;
}

#endif
