/* Unit tests for src/outsum.c: CRC-64/XZ against its published check value
 * and a value xz(1) itself stored (xz -C crc64), the sliced tables against
 * a bitwise CRC at every length and alignment, continuing from a digest
 * equal to hashing in one go, and rs_outsum_file on a file read in
 * several chunks, short files, missing files and directories. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ringscan/outsum.h"
#include "guard.h"

/* The definition, one bit at a time: reflected ECMA-182, all-ones in and out. */
static uint64_t bitwise(uint64_t sum, const unsigned char *p, size_t n)
{
	uint64_t c = ~sum;

	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (c & 1 ? 0xc96c5795d7870f42ULL : 0);
	}
	return ~c;
}

/* Bytes that are not text, so that every table entry gets used. */
static void fill(unsigned char *p, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (unsigned char)(seed >> 16);
	}
}

static void test_known_vectors(void **state)
{
	(void)state;
	const char *fox = "The quick brown fox jumps over the lazy dog";

	assert_true(rs_outsum(0, "", 0) == 0);
	assert_true(rs_outsum(0, "123456789", 9) == 0x995dc9bbdf1939faULL);   /* the check value */
	assert_true(rs_outsum(0, fox, strlen(fox)) == 0x5b5eb8c2e54aa1c4ULL); /* xz -C crc64 */
	/* The input sits right before a guard page: no read past its end. */
	assert_true(rs_outsum(0, guard_str(fox), strlen(fox)) == 0x5b5eb8c2e54aa1c4ULL);
}

static void test_tables_match_bitwise(void **state)
{
	(void)state;
	static unsigned char buf[600];

	fill(buf, sizeof(buf), 1);
	for (size_t at = 0; at < 16; at++)
		for (size_t n = 0; at + n <= sizeof(buf); n += n < 40 ? 1 : 37)
			assert_true(rs_outsum(0, buf + at, n) == bitwise(0, buf + at, n));
	/* Every byte value in every position of a 16-byte block. */
	for (int v = 0; v < 256; v++)
		for (int pos = 0; pos < 16; pos++) {
			unsigned char b[16] = {0};
			b[pos] = (unsigned char)v;
			assert_true(rs_outsum(7, b, 16) == bitwise(7, b, 16));
		}
}

static void test_continues_from_digest(void **state)
{
	(void)state;
	static unsigned char buf[1000];

	fill(buf, sizeof(buf), 2);
	uint64_t whole = rs_outsum(0, buf, sizeof(buf));
	for (size_t i = 0; i <= sizeof(buf); i++) {
		uint64_t head = rs_outsum(0, buf, i);
		assert_true(rs_outsum(head, buf + i, sizeof(buf) - i) == whole);
	}
	/* Three pieces, as a resumed-twice output is written. */
	assert_true(rs_outsum(rs_outsum(rs_outsum(0, buf, 5), buf + 5, 500), buf + 505, 495) ==
		    whole);
	/* A different byte anywhere changes the sum. */
	for (size_t i = 0; i < sizeof(buf); i += 97) {
		buf[i] ^= 1;
		assert_true(rs_outsum(0, buf, sizeof(buf)) != whole);
		buf[i] ^= 1;
	}
}

static void test_file(void **state)
{
	(void)state;
	char path[] = "/tmp/test_outsum.XXXXXX";
	size_t n = 200000; /* four read chunks */
	unsigned char *buf = malloc(n);
	uint64_t sum = 1;
	int fd = mkstemp(path);

	assert_non_null(buf);
	assert_true(fd >= 0);
	fill(buf, n, 3);
	assert_int_equal(write(fd, buf, n), (ssize_t)n);
	close(fd);
	size_t lens[] = {0, 1, 15, 65535, 65536, 65537, 131072, 199999, 200000};
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		assert_int_equal(rs_outsum_file(path, lens[i], &sum), 0);
		assert_true(sum == rs_outsum(0, buf, lens[i]));
	}
	assert_int_equal(rs_outsum_file(path, n + 1, &sum), -ENODATA);
	assert_int_equal(rs_outsum_file("/tmp", 1, &sum), -EINVAL);
	unlink(path);
	assert_int_equal(rs_outsum_file(path, 1, &sum), -ENOENT);
	assert_int_equal(rs_outsum_file(path, 0, &sum), 0); /* nothing to read */
	assert_true(sum == 0);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_vectors),
		cmocka_unit_test(test_tables_match_bitwise),
		cmocka_unit_test(test_continues_from_digest),
		cmocka_unit_test(test_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
