/* A small streaming XML reader (a pull parser) for the XML ringscan reads
 * back: nmap's and its own -f xml files (ringscan diff). It hands out the
 * elements, start (with attributes, entities decoded) and end, one at a
 * time, and checks that the document is well-formed on the way: tags
 * nested and closed, one root, attributes quoted and not repeated, the
 * five named entities and character references only. Text, CDATA,
 * comments, processing instructions and the DOCTYPE are checked and
 * skipped, not kept. Memory is bounded whatever the input: one tag (at
 * most XML_TAG_MAX bytes) and the names of the open elements. */
#ifndef RS_XMLREAD_H
#define RS_XMLREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define XML_TAG_MAX   (1u << 20) /* bytes of one tag, attributes included */
#define XML_ATTRS_MAX 32	 /* attributes of one tag */
#define XML_DEPTH_MAX 64	 /* elements open at once */
#define XML_NAMES_MAX 4096	 /* bytes of their names together */

enum xml_event { XML_EOF = 0, XML_START, XML_END };

struct xml_attr {
	const char *name, *value;
	size_t len; /* of value, which may hold NUL bytes (&#0; is refused, so it cannot) */
};

/* An element: at XML_START its name and attributes, at XML_END its name. */
struct xml_tag {
	const char *name;
	struct xml_attr attr[XML_ATTRS_MAX];
	unsigned nattr;
	bool empty; /* <name/>: its XML_END follows at once */
};

struct xml_reader {
	FILE *f;
	unsigned long line; /* of the last byte read, from 1 */
	char *buf;	    /* the tag being read (grows up to XML_TAG_MAX + 1) */
	size_t len, cap;
	struct xml_tag tag;
	char names[XML_NAMES_MAX]; /* the open elements' names, each NUL-terminated */
	size_t at[XML_DEPTH_MAX];  /* where each begins in names */
	unsigned depth;
	bool started, pending_end, seen_root;
	char why[160]; /* after an error: what was wrong (at line) */
};

/* Start reading f (the caller's, left open); line: the line the next byte
 * is on, counted from 1 (a caller that peeked at leading blank lines says
 * so). */
void xml_init(struct xml_reader *x, FILE *f, unsigned long line);
/* Free what the reader holds (not f). */
void xml_free(struct xml_reader *x);
/* The next element event: XML_START or XML_END with x->tag filled (valid
 * until the next call), XML_EOF after the root element closed and the
 * input ended; or an error, with x->why and x->line saying what and where:
 * -EINVAL not well-formed, -ENODATA the input ends too early (a cut file),
 * -E2BIG a tag, a name or the nesting beyond the bounds above, -EIO a read
 * error (errno in why). After an error, do not call it again. */
int xml_next(struct xml_reader *x);
/* The value of t's attribute name, or NULL; its length in *len if len. */
const char *xml_attr(const struct xml_tag *t, const char *name, size_t *len);

/* Decode the entity and character references in s[0, *len) in place
 * (the result is no longer, and NUL-terminated); *len becomes its length.
 * 0, or -EINVAL with *why set: an unknown entity, a '&' without ';', a
 * reference to a character XML does not allow. */
int xml_unescape(char *s, size_t *len, const char **why);
/* Parse the inside of a start tag (s[0, len), between '<' and '>' or
 * "/>", s[len] writable) into t, in place: its name, then attributes
 * name="value" or name='value' with whitespace around '=', values
 * normalised (tab, CR, LF as spaces) and unescaped. 0, or -EINVAL with
 * *why set (-E2BIG: more than XML_ATTRS_MAX attributes). */
int xml_parse_tag(char *s, size_t len, struct xml_tag *t, const char **why);
/* The code point c (at most U+10FFFF) as UTF-8 at d (up to 4 bytes, no
 * NUL added); how many bytes. */
size_t xml_utf8_put(char *d, uint32_t c);

#endif
