/* libFuzzer target for the target and port parsers (make fuzz).
 *
 * The first input byte picks the entry point: a single target, a comma
 * list, a target file (through a memfd), or a port list. Hostnames are off
 * (flags 0): a fuzzer must not resolve names. Whatever the input, the
 * parser must not crash, leak or read out of bounds (ASan, UBSan), every
 * error must be one NUL-terminated line, and every accepted set must be
 * sorted, disjoint, non-adjacent, with counts and picks that agree. */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ringscan/targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_error(const char *err, size_t cap)
{
	size_t n = strnlen(err, cap);
	assert(n < cap);	       /* terminated */
	assert(!memchr(err, '\n', n)); /* one line */
}

static void check_addrset(struct rs_addrset *s)
{
	int r = rs_addrset_finalize(s);
	if (r == -E2BIG)
		return;
	assert(r == 0);
	uint64_t count = 0;
	for (size_t i = 0; i < s->n; i++) {
		assert(s->r[i].lo <= s->r[i].hi);
		if (i)
			assert(s->r[i].lo > s->r[i - 1].hi + 1); /* merged */
		assert(s->before[i] == count);
		count += (uint64_t)(s->r[i].hi - s->r[i].lo) + 1;
	}
	assert(count == s->count);
	if (s->count) {
		assert(rs_addrset_pick(s, 0) == s->r[0].lo);
		assert(rs_addrset_pick(s, s->count - 1) == s->r[s->n - 1].hi);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256], *text;
	struct rs_addrset s;
	struct rs_set32 ports;
	int r;

	if (size < 1)
		return 0;
	text = malloc(size); /* the rest of the input, NUL-terminated */
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = 0;
	memset(err, 0, sizeof(err));
	rs_addrset_init(&s);
	rs_set32_init(&ports);

	switch (data[0] % 4) {
	case 0:
		r = rs_target_parse(&s, text, 0, err, sizeof(err));
		break;
	case 1:
		r = rs_target_parse_list(&s, text, 0, err, sizeof(err));
		break;
	case 2: {
		int fd = memfd_create("fuzz", 0);
		char path[64];
		if (fd < 0) {
			r = -1;
			break;
		}
		if (write(fd, data + 1, size - 1) != (ssize_t)(size - 1)) {
			close(fd);
			r = -1;
			break;
		}
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		r = rs_target_load(&s, path, 0, err, sizeof(err));
		close(fd);
		break;
	}
	default:
		r = rs_ports_parse(&ports, text, err, sizeof(err));
		if (!r) {
			assert(rs_set32_finalize(&ports) == 0);
			for (size_t i = 0; i < ports.n; i++)
				assert(ports.r[i].lo >= 1 && ports.r[i].hi <= 65535 &&
				       ports.r[i].lo <= ports.r[i].hi);
		}
		break;
	}
	if (r == -EINVAL)
		check_error(err, sizeof(err));
	else if (r == 0)
		check_addrset(&s);
	rs_addrset_free(&s);
	rs_set32_free(&ports);
	free(text);
	return 0;
}
