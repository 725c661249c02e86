/* Unit tests for src/classify.c and src/errname.c: connect result and
 * SO_ERROR classification (DESIGN.md invariants 2 and 3), reason strings,
 * errno names and state names. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "ringscan/classify.h"

static const char *vname(enum rs_verdict v)
{
	switch (v) {
	case RS_V_FINAL:
		return "FINAL";
	case RS_V_CONFIRM:
		return "CONFIRM";
	case RS_V_TIMEOUT:
		return "TIMEOUT";
	case RS_V_LOCAL:
		return "LOCAL";
	}
	return "?";
}

struct ccase {
	int in;
	const char *name;
	enum rs_verdict v;
	enum rs_state state; /* when v == RS_V_FINAL */
	int err;	     /* when v == RS_V_FINAL */
};

#define C(x, v, s, e)                                                                              \
	{                                                                                          \
		x, #x, v, s, e                                                                     \
	}

static const struct ccase connect_cases[] = {
	C(0, RS_V_CONFIRM, 0, 0),
	C(-ECONNREFUSED, RS_V_FINAL, RS_CLOSED, 0),
	C(-ECONNRESET, RS_V_FINAL, RS_CLOSED, 0),
	C(-ECANCELED, RS_V_TIMEOUT, 0, 0),
	C(-ETIME, RS_V_TIMEOUT, 0, 0),
	C(-EHOSTUNREACH, RS_V_FINAL, RS_UNREACHABLE, 0),
	C(-ENETUNREACH, RS_V_FINAL, RS_UNREACHABLE, 0),
	C(-EMFILE, RS_V_LOCAL, 0, 0),
	C(-ENFILE, RS_V_LOCAL, 0, 0),
	C(-EADDRNOTAVAIL, RS_V_LOCAL, 0, 0),
	C(-ENOBUFS, RS_V_LOCAL, 0, 0),
	C(-ENOMEM, RS_V_LOCAL, 0, 0),
	C(-EAGAIN, RS_V_LOCAL, 0, 0),
	C(-EWOULDBLOCK, RS_V_LOCAL, 0, 0),
	C(-EADDRINUSE, RS_V_LOCAL, 0, 0),
	C(-EINTR, RS_V_LOCAL, 0, 0),
	C(-EACCES, RS_V_FINAL, RS_ERROR, EACCES),
	C(-EPERM, RS_V_FINAL, RS_ERROR, EPERM),
	C(-EINVAL, RS_V_FINAL, RS_ERROR, EINVAL),
	C(-EHOSTDOWN, RS_V_FINAL, RS_ERROR, EHOSTDOWN),
	C(-ECONNABORTED, RS_V_FINAL, RS_ERROR, ECONNABORTED),
	C(-EPROTO, RS_V_FINAL, RS_ERROR, EPROTO),
	C(-EAFNOSUPPORT, RS_V_FINAL, RS_ERROR, EAFNOSUPPORT),
};

static const struct ccase so_error_cases[] = {
	C(0, RS_V_FINAL, RS_OPEN, 0),
	C(ECONNREFUSED, RS_V_FINAL, RS_CLOSED, 0),
	C(ECONNRESET, RS_V_FINAL, RS_CLOSED, 0),
	C(EHOSTUNREACH, RS_V_FINAL, RS_UNREACHABLE, 0),
	C(ENETUNREACH, RS_V_FINAL, RS_UNREACHABLE, 0),
	C(ETIMEDOUT, RS_V_TIMEOUT, 0, 0),
	C(EMFILE, RS_V_LOCAL, 0, 0),
	C(ENOBUFS, RS_V_LOCAL, 0, 0),
	C(ENOMEM, RS_V_LOCAL, 0, 0),
	C(EADDRNOTAVAIL, RS_V_LOCAL, 0, 0),
	C(EAGAIN, RS_V_LOCAL, 0, 0),
	C(EACCES, RS_V_FINAL, RS_ERROR, EACCES),
	C(EPERM, RS_V_FINAL, RS_ERROR, EPERM),
	C(EHOSTDOWN, RS_V_FINAL, RS_ERROR, EHOSTDOWN),
	C(EPROTO, RS_V_FINAL, RS_ERROR, EPROTO),
};

typedef enum rs_verdict (*classify_fn)(int, enum rs_state *, int *);

static void run_table(const char *fn, classify_fn f, const struct ccase *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		/* poison the outputs: FINAL must set both */
		enum rs_state st = (enum rs_state)77;
		int err = 12345;
		enum rs_verdict v = f(t[i].in, &st, &err);

		if (v != t[i].v)
			fail_msg("%s(%s): verdict %s, expected %s", fn, t[i].name, vname(v),
				 vname(t[i].v));
		if (v == RS_V_FINAL && (st != t[i].state || err != t[i].err))
			fail_msg("%s(%s): state %s err %d, expected %s err %d", fn, t[i].name,
				 rs_state_name(st), err, rs_state_name(t[i].state), t[i].err);
	}
}

static void test_connect_table(void **state)
{
	(void)state;
	run_table("rs_classify_connect", rs_classify_connect, connect_cases,
		  sizeof(connect_cases) / sizeof(connect_cases[0]));
}

static void test_so_error_table(void **state)
{
	(void)state;
	run_table("rs_classify_so_error", rs_classify_so_error, so_error_cases,
		  sizeof(so_error_cases) / sizeof(so_error_cases[0]));
}

static void test_local_errors(void **state)
{
	(void)state;
	/* DESIGN.md invariant 2, and docs/output-schema.md's list */
	static const int local[] = {EMFILE,  ENFILE, EADDRNOTAVAIL, EADDRINUSE,
				    ENOBUFS, ENOMEM, EAGAIN,	    EINTR};
	static const int remote[] = {0,		  ECONNREFUSED, ECONNRESET, EHOSTUNREACH,
				     ENETUNREACH, EACCES,	EPERM,	    ETIMEDOUT,
				     ECANCELED,	  ETIME,	EINVAL,	    EHOSTDOWN};

	for (size_t i = 0; i < sizeof(local) / sizeof(local[0]); i++)
		if (!rs_is_local_error(local[i]))
			fail_msg("%s is not classed local", strerrorname_np(local[i]));
	for (size_t i = 0; i < sizeof(remote) / sizeof(remote[0]); i++)
		if (rs_is_local_error(remote[i]))
			fail_msg("%d (%s) is classed local", remote[i],
				 remote[i] ? strerrorname_np(remote[i]) : "0");
}

/* Every errno value, through both classifiers: local trouble is never a
 * result (invariant 2); each state comes only from its errnos (invariant 3);
 * error results carry the errno and a reason that names it. */
static void test_all_errnos(void **state)
{
	(void)state;
	for (int e = 1; e < 4096; e++) {
		for (int which = 0; which < 2; which++) {
			enum rs_state st = (enum rs_state)77;
			int err = 12345;
			enum rs_verdict v = which ? rs_classify_so_error(e, &st, &err)
						  : rs_classify_connect(-e, &st, &err);
			const char *fn = which ? "so_error" : "connect";

			if (rs_is_local_error(e)) {
				if (v != RS_V_LOCAL)
					fail_msg("%s(%d): local error gives %s", fn, e, vname(v));
				continue;
			}
			if (v == RS_V_LOCAL)
				fail_msg("%s(%d): LOCAL but rs_is_local_error says no", fn, e);
			if (v == RS_V_CONFIRM)
				fail_msg("%s(%d): CONFIRM for an error", fn, e);
			if (v == RS_V_TIMEOUT) {
				if (e != ECANCELED && e != ETIME && e != ETIMEDOUT)
					fail_msg("%s(%d): TIMEOUT for a non-timeout error", fn, e);
				continue;
			}
			switch (st) {
			case RS_OPEN:
			case RS_FILTERED:
				fail_msg("%s(%d): state %s from an error", fn, e,
					 rs_state_name(st));
				break;
			case RS_CLOSED:
				if (e != ECONNREFUSED && e != ECONNRESET)
					fail_msg("%s(%d): closed", fn, e);
				assert_int_equal(err, 0);
				break;
			case RS_UNREACHABLE:
				if (e != EHOSTUNREACH && e != ENETUNREACH)
					fail_msg("%s(%d): unreachable", fn, e);
				assert_int_equal(err, 0);
				break;
			case RS_ERROR: {
				if (err != e)
					fail_msg("%s(%d): error with err %d", fn, e, err);
				const char *r = rs_reason(RS_ERROR, err), *n = rs_errno_name(e);
				assert_non_null(r);
				if (n && strcmp(r, n))
					fail_msg("reason for %d is %s, expected %s", e, r, n);
				break;
			}
			default:
				fail_msg("%s(%d): state %d out of range", fn, e, (int)st);
			}
		}
	}
}

/* The ETIMEDOUT case of connect: a kernel-level give-up is a timeout, never
 * a final "closed" or "error". */
static void test_connect_timeouts(void **state)
{
	(void)state;
	enum rs_state st;
	int err;

	assert_int_equal(rs_classify_connect(-ETIMEDOUT, &st, &err), RS_V_TIMEOUT);
	assert_int_equal(rs_classify_connect(-ECANCELED, &st, &err), RS_V_TIMEOUT);
	assert_int_equal(rs_classify_connect(-ETIME, &st, &err), RS_V_TIMEOUT);
}

static void test_reason(void **state)
{
	(void)state;
	assert_string_equal(rs_reason(RS_OPEN, 0), "syn-ack");
	assert_string_equal(rs_reason(RS_CLOSED, 0), "rst");
	assert_string_equal(rs_reason(RS_FILTERED, 0), "timeout");
	assert_string_equal(rs_reason(RS_UNREACHABLE, 0), "unreachable");
	/* the state decides, whatever err says */
	assert_string_equal(rs_reason(RS_OPEN, EACCES), "syn-ack");
	assert_string_equal(rs_reason(RS_CLOSED, ECONNRESET), "rst");
	assert_string_equal(rs_reason(RS_UNREACHABLE, EHOSTUNREACH), "unreachable");
	/* errors: the errno name */
	assert_string_equal(rs_reason(RS_ERROR, EACCES), "EACCES");
	assert_string_equal(rs_reason(RS_ERROR, EPERM), "EPERM");
	assert_string_equal(rs_reason(RS_ERROR, EHOSTDOWN), "EHOSTDOWN");
	assert_string_equal(rs_reason(RS_ERROR, ECONNABORTED), "ECONNABORTED");
	assert_string_equal(rs_reason(RS_ERROR, EPROTO), "EPROTO");
	/* unknown errnos: still a non-empty token, never NULL */
	static const int odd[] = {0, -1, -EACCES, 4000, 100000, INT_MAX, INT_MIN};
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		const char *r = rs_reason(RS_ERROR, odd[i]);
		assert_non_null(r);
		assert_true(r[0] != 0);
		assert_null(strchr(r, '"'));
		assert_null(strchr(r, ','));
	}
	/* every reason is a JSON- and CSV-safe token */
	for (int e = 0; e < 300; e++) {
		const char *r = rs_reason(RS_ERROR, e);
		assert_non_null(r);
		for (const char *p = r; *p; p++)
			if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
				fail_msg("reason for %d is \"%s\"", e, r);
	}
}

static void test_errno_name_known(void **state)
{
	(void)state;
	static const struct {
		int e;
		const char *n;
	} known[] = {
#define K(x) {x, #x}
		K(EPERM),	 K(EACCES),	   K(EINVAL),	       K(EMFILE),
		K(ENFILE),	 K(ENOMEM),	   K(EAGAIN),	       K(ENOBUFS),
		K(EADDRINUSE),	 K(EADDRNOTAVAIL), K(ENETDOWN),	       K(ENETUNREACH),
		K(ENETRESET),	 K(ECONNABORTED),  K(ECONNRESET),      K(ETIMEDOUT),
		K(ECONNREFUSED), K(EHOSTDOWN),	   K(EHOSTUNREACH),    K(EALREADY),
		K(EINPROGRESS),	 K(ECANCELED),	   K(ETIME),	       K(EPROTO),
		K(EBADF),	 K(ENOTSOCK),	   K(EISCONN),	       K(ENOTCONN),
		K(EAFNOSUPPORT), K(EOPNOTSUPP),	   K(EPROTONOSUPPORT), K(EINTR),
		K(EIO),		 K(EPIPE),
#undef K
	};
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		const char *n = rs_errno_name(known[i].e);
		if (!n || strcmp(n, known[i].n))
			fail_msg("rs_errno_name(%d) = %s, expected %s", known[i].e, n ? n : "NULL",
				 known[i].n);
	}
}

/* Every name the table gives is the system's own symbol for that value. */
static void test_errno_name_matches_libc(void **state)
{
	(void)state;
	int named = 0;

	for (int e = 1; e < 4096; e++) {
		const char *n = rs_errno_name(e), *sys = strerrorname_np(e);
		if (!n)
			continue;
		named++;
		if (!sys || strcmp(n, sys))
			fail_msg("rs_errno_name(%d) = %s, libc says %s", e, n, sys ? sys : "NULL");
	}
	assert_true(named >= 30);
}

static void test_errno_name_unknown(void **state)
{
	(void)state;
	static const int bad[] = {0,	       -1,	-EACCES, -ECONNREFUSED, INT_MIN,
				  INT_MIN + 1, INT_MAX, 100000,	 4096,		1 << 20};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (rs_errno_name(bad[i]))
			fail_msg("rs_errno_name(%d) = %s, expected NULL", bad[i],
				 rs_errno_name(bad[i]));
}

static void test_state_name(void **state)
{
	(void)state;
	assert_string_equal(rs_state_name(RS_OPEN), "open");
	assert_string_equal(rs_state_name(RS_CLOSED), "closed");
	assert_string_equal(rs_state_name(RS_FILTERED), "filtered");
	assert_string_equal(rs_state_name(RS_UNREACHABLE), "unreachable");
	assert_string_equal(rs_state_name(RS_ERROR), "error");
	/* out of range: a name anyway, never NULL */
	assert_non_null(rs_state_name(RS_NSTATES));
	assert_non_null(rs_state_name((enum rs_state)255));
	assert_non_null(rs_state_name((enum rs_state) - 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connect_table),
		cmocka_unit_test(test_so_error_table),
		cmocka_unit_test(test_local_errors),
		cmocka_unit_test(test_all_errnos),
		cmocka_unit_test(test_connect_timeouts),
		cmocka_unit_test(test_reason),
		cmocka_unit_test(test_errno_name_known),
		cmocka_unit_test(test_errno_name_matches_libc),
		cmocka_unit_test(test_errno_name_unknown),
		cmocka_unit_test(test_state_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
