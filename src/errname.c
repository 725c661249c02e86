/* errno → symbolic name, for the "reason" of error results. An immutable
 * table: strerror() gives prose, and scripts want the stable symbol. */
#include <errno.h>
#include <stddef.h>

#include "ringscan/classify.h"

#define E(x) [x] = #x
static const char *const names[] = {
	E(EPERM),	    E(ENOENT),	     E(EINTR),	      E(EIO),	       E(ENXIO),
	E(EBADF),	    E(EAGAIN),	     E(ENOMEM),	      E(EACCES),       E(EFAULT),
	E(EBUSY),	    E(EEXIST),	     E(ENODEV),	      E(EINVAL),       E(ENFILE),
	E(EMFILE),	    E(ENOSPC),	     E(EPIPE),	      E(ERANGE),       E(ENOSR),
	E(ENOTSOCK),	    E(EDESTADDRREQ), E(EMSGSIZE),     E(EPROTOTYPE),   E(ENOPROTOOPT),
	E(EPROTONOSUPPORT), E(EOPNOTSUPP),   E(EAFNOSUPPORT), E(EADDRINUSE),   E(EADDRNOTAVAIL),
	E(ENETDOWN),	    E(ENETUNREACH),  E(ENETRESET),    E(ECONNABORTED), E(ECONNRESET),
	E(ENOBUFS),	    E(EISCONN),	     E(ENOTCONN),     E(ETIMEDOUT),    E(ECONNREFUSED),
	E(EHOSTDOWN),	    E(EHOSTUNREACH), E(EALREADY),     E(EINPROGRESS),  E(ECANCELED),
	E(ETIME),	    E(EPROTO),	     E(EKEYREJECTED),
};
#undef E

const char *rs_errno_name(int err)
{
	if (err <= 0 || (size_t)err >= sizeof(names) / sizeof(names[0]))
		return NULL;
	return names[err];
}
