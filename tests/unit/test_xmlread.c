/* Unit tests for src/xmlread.c, the streaming XML reader ringscan diff
 * reads nmap XML with: entities and character references, attributes in
 * either quote, the events of a small document, nmap's own prologue
 * (PI, DOCTYPE, comments), malformed and truncated input (the error and
 * its line), and a hostile endless attribute refused after a bounded
 * read (the reader never holds more than XML_TAG_MAX bytes). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "xmlread.h"

/* Unescape s; its result (static) or NULL on error. */
static const char *unesc(const char *s)
{
	static char buf[256];
	size_t n = strlen(s);
	const char *why;

	memcpy(buf, s, n + 1);
	return xml_unescape(buf, &n, &why) ? NULL : buf;
}

static void test_entities(void **state)
{
	(void)state;
	assert_string_equal(unesc("a &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos;"),
			    "a <b> & \"c\" 'd'");
	assert_string_equal(unesc("&#65;&#x42;&#x4a;"), "ABJ");
	assert_null(unesc("&#X43;")); /* only a lower-case x */
	assert_string_equal(unesc("&#xa;&#9;&#233;&#x20AC;&#x1F600;"),
			    "\n\t\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	assert_null(unesc("a & b"));	/* a bare '&' */
	assert_null(unesc("&nbsp;"));	/* no DTD: no other named entity */
	assert_null(unesc("&#0;"));	/* not an XML character */
	assert_null(unesc("&#xD800;")); /* a surrogate */
	assert_null(unesc("&#x110000;"));
	assert_null(unesc("&#;"));
	assert_null(unesc("&amp"));
	assert_null(unesc("&#x41"));
	assert_string_equal(unesc("no refs at all"), "no refs at all");
}

/* Parse the inside of a tag; 0 or the error. */
static int tag(const char *s, struct xml_tag *t)
{
	static char buf[512];
	const char *why;
	size_t n = strlen(s);

	memcpy(buf, s, n + 1);
	return xml_parse_tag(buf, n, t, &why);
}

static void test_attributes(void **state)
{
	struct xml_tag t;
	size_t len;

	(void)state;
	assert_int_equal(tag("port protocol=\"tcp\" portid='22'", &t), 0);
	assert_string_equal(t.name, "port");
	assert_int_equal(t.nattr, 2);
	assert_string_equal(xml_attr(&t, "protocol", NULL), "tcp");
	assert_string_equal(xml_attr(&t, "portid", &len), "22");
	assert_int_equal(len, 2);
	assert_null(xml_attr(&t, "state", NULL));
	/* whitespace around '=', quotes of the other kind inside, entities,
	 * tab/LF normalised to spaces but &#xa; kept as LF */
	assert_int_equal(
		tag("script  id = 'banner'\n\toutput=\"it's &quot;x&quot;\ta\nb&#xa;\" ", &t), 0);
	assert_string_equal(xml_attr(&t, "id", NULL), "banner");
	assert_string_equal(xml_attr(&t, "output", NULL), "it's \"x\" a b\n");
	assert_int_equal(tag("a b='\"' c=\"'\"", &t), 0);
	assert_string_equal(xml_attr(&t, "b", NULL), "\"");
	assert_string_equal(xml_attr(&t, "c", NULL), "'");
	assert_int_equal(tag("host", &t), 0);
	assert_int_equal(t.nattr, 0);
	assert_int_equal(tag("a x=''", &t), 0);
	assert_string_equal(xml_attr(&t, "x", &len), "");
	assert_int_equal(len, 0);
	/* malformed */
	assert_int_equal(tag("", &t), -EINVAL);
	assert_int_equal(tag(" a", &t), -EINVAL);
	assert_int_equal(tag("1a", &t), -EINVAL);
	assert_int_equal(tag("a b", &t), -EINVAL);
	assert_int_equal(tag("a b=c", &t), -EINVAL);
	assert_int_equal(tag("a b=\"c", &t), -EINVAL);
	assert_int_equal(tag("a b=\"1\"c=\"2\"", &t), -EINVAL);
	assert_int_equal(tag("a b=\"1\" b='2'", &t), -EINVAL);
	assert_int_equal(tag("a b=\"x<y\"", &t), -EINVAL);
	assert_int_equal(tag("a b=\"x&y\"", &t), -EINVAL);
	char many[512] = "a";
	for (int i = 0; i <= XML_ATTRS_MAX; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), " a%d='%d'", i, i);
	assert_int_equal(tag(many, &t), -E2BIG);
}

/* The events of doc, one line each: "+name k=v..." for a start, "-name"
 * for an end, then "=0" at the end or "!ERR@LINE". */
static void events(const char *doc, char *out, size_t cap)
{
	FILE *f = fmemopen((void *)doc, strlen(doc), "r");
	struct xml_reader x;
	size_t at = 0;
	int ev;

	assert_non_null(f);
	xml_init(&x, f, 1);
	while ((ev = xml_next(&x)) > 0) {
		at += (size_t)snprintf(out + at, cap - at, "%c%s", ev == XML_START ? '+' : '-',
				       x.tag.name);
		for (unsigned k = 0; ev == XML_START && k < x.tag.nattr; k++)
			at += (size_t)snprintf(out + at, cap - at, " %s=%s", x.tag.attr[k].name,
					       x.tag.attr[k].value);
		at += (size_t)snprintf(out + at, cap - at, "\n");
	}
	if (ev)
		snprintf(out + at, cap - at, "!%d@%lu %s", ev, x.line, x.why);
	else
		snprintf(out + at, cap - at, "=0");
	xml_free(&x);
	fclose(f);
}

static void test_document(void **state)
{
	char out[2048];

	(void)state;
	events("\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	       "<!DOCTYPE nmaprun [ <!ENTITY x \"a>b\"> ]>\n"
	       "<?xml-stylesheet href=\"file:///usr/share/nmap/nmap.xsl\" type=\"text/xsl\"?>\n"
	       "<!-- Nmap 7.93 scan -> <not a tag> -- -->\n"
	       "<nmaprun scanner=\"nmap\">\n"
	       "<host><address addr=\"127.0.0.1\" addrtype=\"ipv4\"/>\n"
	       "<ports><port protocol=\"tcp\" portid=\"22\">text &amp; more<![CDATA[ <x> ]]>"
	       "<state state=\"open\"/></port></ports></host >\n"
	       "</nmaprun>\n<!-- after -->\n",
	       out, sizeof(out));
	assert_string_equal(out, "+nmaprun scanner=nmap\n"
				 "+host\n"
				 "+address addr=127.0.0.1 addrtype=ipv4\n"
				 "-address\n"
				 "+ports\n"
				 "+port protocol=tcp portid=22\n"
				 "+state state=open\n"
				 "-state\n"
				 "-port\n"
				 "-ports\n"
				 "-host\n"
				 "-nmaprun\n"
				 "=0");
}

/* doc gives the error err at line (its message containing what). */
static void bad(const char *doc, int err, unsigned long line, const char *what)
{
	char out[2048], want[64];

	events(doc, out, sizeof(out));
	snprintf(want, sizeof(want), "!%d@%lu ", err, line);
	if (!strstr(out, want) || !strstr(out, what))
		fail_msg("%s: got %s, want %s...%s", doc, out, want, what);
}

static void test_malformed(void **state)
{
	(void)state;
	bad("<a><b></a>", -EINVAL, 1, "</a> closes <b>");
	bad("<a>\n</a>\n<b/>", -EINVAL, 3, "a second root element");
	bad("<a></a>x", -EINVAL, 1, "text outside the root");
	bad("x<a></a>", -EINVAL, 1, "text outside the root");
	bad("</a>", -EINVAL, 1, "closes nothing");
	bad("<a>\n<b c='1' c='2'/></a>", -EINVAL, 2, "given twice");
	bad("<a>&bogus;</a>", -EINVAL, 1, "unknown entity");
	bad("<a><b <c/></b></a>", -EINVAL, 1, "'<' inside a tag");
	bad("<a><!FOO></a>", -EINVAL, 1, "'<!'");
	bad("<![CDATA[x]]><a/>", -EINVAL, 1, "CDATA outside");
	bad("\xef\xbb<a/>", -EINVAL, 1, "byte-order mark");
}

static void test_truncated(void **state)
{
	(void)state;
	bad("", -ENODATA, 1, "no root element");
	bad("<?xml version=\"1.0\"?>\n", -ENODATA, 2, "no root element");
	bad("<nmaprun>\n<host>\n<port portid=\"2", -ENODATA, 3, "ends inside a tag (in <host>)");
	bad("<nmaprun>\n<host>\n", -ENODATA, 3, "ends inside an element (in <host>)");
	bad("<nmaprun><!-- cut", -ENODATA, 1, "inside a comment");
	bad("<nmaprun></nmap", -ENODATA, 1, "inside a tag");
	bad("<!DOCTYPE x [", -ENODATA, 1, "DOCTYPE");
	bad("<a><?pi ", -ENODATA, 1, "processing instruction");
}

/* A stream of "<a x='" and then 'A' for ever; counts what it served. */
static ssize_t endless(void *cookie, char *buf, size_t size)
{
	size_t *served = cookie;

	for (size_t i = 0; i < size; i++)
		buf[i] = *served + i < 6 ? "<a x='"[*served + i] : 'A';
	*served += size;
	return (ssize_t)size;
}

static void test_huge_attribute(void **state)
{
	size_t served = 0;
	FILE *f = fopencookie(&served, "r", (cookie_io_functions_t){.read = endless});
	struct xml_reader x;

	(void)state;
	assert_non_null(f);
	xml_init(&x, f, 1);
	assert_int_equal(xml_next(&x), -E2BIG);
	assert_non_null(strstr(x.why, "a tag longer than"));
	assert_true(x.cap <= XML_TAG_MAX + 2);
	assert_true(served <= XML_TAG_MAX + 65536); /* stopped: not GBs read */
	xml_free(&x);
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entities),  cmocka_unit_test(test_attributes),
		cmocka_unit_test(test_document),  cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_truncated), cmocka_unit_test(test_huge_attribute),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
