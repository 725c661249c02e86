/* Unit tests for src/inv_diff_xml.c, ringscan diff's reading of nmap XML:
 * the rows an nmap-style file gives (first ipv4/ipv6 address, MAC
 * ignored, UDP ports skipped, states mapped back to ringscan's, port-table
 * service guesses ignored, banners back to bytes, extraports ignored),
 * and the one-line errors naming file and line. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "inv_diff.h"

/* Each row as one text line into the buffer arg. */
static int put(void *arg, const struct rs_diff_row *r, char *err, size_t errlen)
{
	char *out = arg, b[64] = "";
	size_t at = strlen(out);

	(void)err, (void)errlen;
	for (size_t i = 0; r->banner && i < r->blen && i < 16; i++)
		snprintf(b + strlen(b), sizeof(b) - strlen(b), "%02x", (unsigned char)r->banner[i]);
	snprintf(out + at, 4096 - at, "%s %d %s %s/%s/%s %s\n", r->ip, r->port, r->state,
		 r->service ? r->service : "-", r->product ? r->product : "-",
		 r->version ? r->version : "-", r->banner ? b : "-");
	return 0;
}

/* Read doc; the rows into out, the return value, the error into err. */
static int rd(const char *doc, char *out, char *err)
{
	FILE *f = fmemopen((void *)doc, strlen(doc), "r");
	int ret;

	assert_non_null(f);
	*out = *err = 0;
	ret = rs_inv_diff_xml(f, 1, "t.xml", put, out, err, 256);
	fclose(f);
	return ret;
}

static void test_nmap_file(void **state)
{
	char out[4096], err[256];

	(void)state;
	assert_int_equal(
		rd("<?xml version=\"1.0\"?>\n<!DOCTYPE nmaprun>\n<nmaprun scanner=\"nmap\">\n"
		   "<hosthint><status state=\"up\"/><address addr=\"10.9.9.9\" addrtype=\"ipv4\"/>"
		   "</hosthint>\n"
		   "<host><status state=\"up\"/><address addr=\"00:11:22:33:44:55\" "
		   "addrtype=\"mac\"/>"
		   "<address addr=\"127.0.0.1\" addrtype=\"ipv4\"/><hostnames/><ports>"
		   "<extraports state=\"closed\" count=\"995\"><extrareasons "
		   "reason=\"conn-refused\" "
		   "count=\"995\"/></extraports>\n"
		   "<port protocol=\"tcp\" portid=\"22\"><state state=\"open\" reason=\"syn-ack\"/>"
		   "<service name=\"ssh\" product=\"OpenSSH\" version=\"9.2p1 Debian 2\" "
		   "method=\"probed\" conf=\"10\"><cpe>cpe:/a:openbsd:openssh:9.2p1</cpe></service>"
		   "<script id=\"banner\" output=\"SSH-2.0-x\\x0D\\x0A\\\\&amp;\"/></port>\n"
		   "<port protocol=\"tcp\" portid=\"80\"><state state=\"open\" reason=\"syn-ack\"/>"
		   "<service name=\"http\" method=\"table\" conf=\"3\"/></port>\n"
		   "<port protocol=\"udp\" portid=\"53\"><state state=\"open\"/></port>\n"
		   "<port protocol=\"tcp\" portid=\"81\"><state state=\"filtered\" "
		   "reason=\"host-unreach\"/></port>\n"
		   "<port protocol=\"tcp\" portid=\"82\"><state state=\"filtered\" "
		   "reason=\"no-response\"/></port>\n"
		   "<port protocol=\"tcp\" portid=\"83\"><state state=\"filtered\" "
		   "reason=\"admin-prohibited\"/></port>\n"
		   "<port protocol=\"tcp\" portid=\"84\"><state state=\"unknown\" "
		   "reason=\"EPROTO\"/></port>\n"
		   "</ports></host>\n"
		   "<host><status state=\"up\"/><address addr=\"::1\" addrtype=\"ipv6\"/><ports>"
		   "<port protocol=\"tcp\" portid=\"7\"><state state=\"closed\"/></port>"
		   "</ports></host>\n"
		   "<host><status state=\"down\"/><address addr=\"127.0.0.2\" addrtype=\"ipv4\"/>"
		   "</host>\n"
		   "<runstats><finished time=\"1\"/></runstats></nmaprun>\n",
		   out, err),
		0);
	assert_string_equal(
		out, "127.0.0.1 22 open ssh/OpenSSH/9.2p1 Debian 2 5353482d322e302d780d0a5c26\n"
		     "127.0.0.1 80 open -/-/- -\n"
		     "127.0.0.1 81 unreachable -/-/- -\n"
		     "127.0.0.1 82 filtered -/-/- -\n"
		     "127.0.0.1 83 error -/-/- -\n"
		     "127.0.0.1 84 error -/-/- -\n"
		     "::1 7 closed -/-/- -\n");
}

static void test_banner_bytes(void **state)
{
	char s[] = "a\\\\b\\x00\\xFFc\\x4\\xzz\\";
	size_t n = rs_diff_banner_bytes(s, strlen(s));

	(void)state;
	assert_int_equal(n, 14);
	assert_memory_equal(s,
			    "a\\b\0\xff"
			    "c\\x4\\xzz\\",
			    14);
}

/* doc is refused with ret and an error matching what. */
static void refused(const char *doc, int ret, const char *what)
{
	char out[4096], err[256];

	assert_int_equal(rd(doc, out, err), ret);
	if (!strstr(err, what))
		fail_msg("%s: got '%s', want '%s'", doc, err, what);
	assert_null(strchr(err, '\n'));
}

static void test_errors(void **state)
{
	(void)state;
	refused("<svg/>", -EINVAL, "'t.xml' line 1: not nmap XML (its root is <svg>");
	refused("<nmaprun><host>\n<ports><port protocol=\"tcp\" portid=\"1\"><state "
		"state=\"open\"/>"
		"</port></ports></host></nmaprun>",
		-EINVAL, "line 2: a <port> of a <host> without an IPv4 or IPv6 <address>");
	refused("<nmaprun><host><address addr=\"1.2.3.4\" addrtype=\"ipv4\"/>\n\n"
		"<port protocol=\"tcp\" portid=\"99999\"/></host></nmaprun>",
		-EINVAL, "line 3: <port portid=\"99999\">: not a port number");
	refused("<nmaprun><host><address addr=\"1.2.3.4\" addrtype=\"ipv4\"/>"
		"<port protocol=\"tcp\" portid=\"1\"/></host></nmaprun>",
		-EINVAL, "a <port> without a <state>");
	refused("<nmaprun>\n<host><address addr=\"1.2.3.4\" addrtype=\"ipv4\"/>\n<ports>", -ENODATA,
		"'t.xml' line 3: the input ends inside an element (in <ports>): cut short?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nmap_file),
		cmocka_unit_test(test_banner_bytes),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
