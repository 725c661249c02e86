/* CRC-64/XZ of the output (see ringscan/outsum.h), sliced by 16: sixteen
 * table look-ups per 16 bytes, about 0.5 ns a byte here (bytewise, one
 * look-up per byte, is ten times slower, FNV-1a five times).
 *
 * Table k holds the CRC of a byte followed by k zero bytes. A CRC is linear,
 * so each entry is the xor of the basis rows below picked by the bits of
 * the byte: the tables are constants built by the preprocessor from 128
 * numbers, not a 32 KiB literal or a table filled in at run time. Row k,
 * bit i is x^(8k + 7 - i) * P mod P' in the reflected form
 * (tests/unit/test_outsum.c checks the tables against the bitwise CRC). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ringscan/outsum.h"

#define READ_CHUNK (1u << 16)

/* clang-format off */
#define BASIS0  0xb32e4cbe03a75f6fULL, 0xf4843657a840a05bULL, 0x7bd0c384ff8f5e33ULL, 0xf7a18709ff1ebc66ULL, \
		0x7d9ba13851336649ULL, 0xfb374270a266cc92ULL, 0x64b62bcaebc387a1ULL, 0xc96c5795d7870f42ULL
#define BASIS1  0x54e979925cd0f10dULL, 0xa9d2f324b9a1e21aULL, 0xc17d4962dc4ddab1ULL, 0x10223dee1795abe7ULL, \
		0x20447bdc2f2b57ceULL, 0x4088f7b85e56af9cULL, 0x8111ef70bcad5f38ULL, 0x90fb71cad654a0f5ULL
#define BASIS2  0x3f0be14a916a6dcbULL, 0x7e17c29522d4db96ULL, 0xfc2f852a45a9b72cULL, 0x6a87a57f245d70ddULL, \
		0xd50f4afe48bae1baULL, 0x38c63ad73e7bddf1ULL, 0x718c75ae7cf7bbe2ULL, 0xe318eb5cf9ef77c4ULL
#define BASIS3  0x1dee8a5e222ca1dcULL, 0x3bdd14bc445943b8ULL, 0x77ba297888b28770ULL, 0xef7452f111650ee0ULL, \
		0x4c300ac98dc40345ULL, 0x986015931b88068aULL, 0xa218840d981e1391ULL, 0xd6e9a7309f3239a7ULL
#define BASIS4  0x5c2d776033c4205eULL, 0xb85aeec0678840bcULL, 0xe26d72ab601e9ffdULL, 0x56024a7d6f33217fULL, \
		0xac0494fade6642feULL, 0xcad186de13c29b79ULL, 0x077ba297888b2877ULL, 0x0ef7452f111650eeULL
#define BASIS5  0x6184d55f721267c6ULL, 0xc309aabee424cf8cULL, 0x14cbfa566747819dULL, 0x2997f4acce8f033aULL, \
		0x532fe9599d1e0674ULL, 0xa65fd2b33a3c0ce8ULL, 0xde670a4ddb760755ULL, 0x2e16bbb019e2102fULL
#define BASIS6  0x22ef0d5934f964ecULL, 0x45de1ab269f2c9d8ULL, 0x8bbc3564d3e593b0ULL, 0x85a0c5e208c539e5ULL, \
		0x999924efbe846d4fULL, 0xa1eae6f4d206c41bULL, 0xd10d62c20b0396b3ULL, 0x30c26aafb90933e3ULL
#define BASIS7  0xdabe95afc7875f40ULL, 0x27a584742000a005ULL, 0x4f4b08e84001400aULL, 0x9e9611d080028014ULL, \
		0xaff48c8aaf0b1eadULL, 0xcd31b63ef11823dfULL, 0x08bbc3564d3e593bULL, 0x117786ac9a7cb276ULL
#define BASIS8  0x646c955f440400feULL, 0xc8d92abe880801fcULL, 0x036afa56bf1e1d7dULL, 0x06d5f4ad7e3c3afaULL, \
		0x0dabe95afc7875f4ULL, 0x1b57d2b5f8f0ebe8ULL, 0x36afa56bf1e1d7d0ULL, 0x6d5f4ad7e3c3afa0ULL
#define BASIS9  0x53e7815838846436ULL, 0xa7cf02b07108c86cULL, 0xdd46aa4b4d1f8e5dULL, 0x2855fbbd3531023fULL, \
		0x50abf77a6a62047eULL, 0xa157eef4d4c408fcULL, 0xd07772c206860f7dULL, 0x32364aafa202007fULL
#define BASIS10 0x09abf11afca2d0d7ULL, 0x1357e235f945a1aeULL, 0x26afc46bf28b435cULL, 0x4d5f88d7e51686b8ULL, \
		0x9abf11afca2d0d70ULL, 0xa7a68c743b540465ULL, 0xdd95b7c3d9a6164fULL, 0x29f3c0ac1c42321bULL
#define BASIS11 0xec32cffb23e3ed7dULL, 0x4abd30dde8c9c47fULL, 0x957a61bbd19388feULL, 0xb82c6c5c0c290f79ULL, \
		0xe2807793b75c0077ULL, 0x57d8400cc1b61e6bULL, 0xafb08019836c3cd6ULL, 0xcdb9af18a9d66729ULL
#define BASIS12 0xdda9f27ee08373adULL, 0x298b4bd66e08f9dfULL, 0x531697acdc11f3beULL, 0xa62d2f59b823e77cULL, \
		0xde82f198df49d07dULL, 0x2fdd4c1a119dbe7fULL, 0x5fba9834233b7cfeULL, 0xbf7530684676f9fcULL
#define BASIS13 0x0dd9b4240837fd99ULL, 0x1bb36848106ffb32ULL, 0x3766d09020dff664ULL, 0x6ecda12041bfecc8ULL, \
		0xdd9b4240837fd990ULL, 0x29ee2baaa9f1ada5ULL, 0x53dc575553e35b4aULL, 0xa7b8aeaaa7c6b694ULL
#define BASIS14 0xf075e4ae5e05bdffULL, 0x723366771305657bULL, 0xe466ccee260acaf6ULL, 0x5a1536f7e31b8b69ULL, \
		0xb42a6defc63716d2ULL, 0xfa8c74f423603321ULL, 0x67c046c3e9ce78c7ULL, 0xcf808d87d39cf18eULL
#define BASIS15 0xe05dd497ca393ae4ULL, 0x526306043b7c6b4dULL, 0xa4c60c0876f8d69aULL, 0xdb54b73b42ffb3b1ULL, \
		0x2471c15d2af179e7ULL, 0x48e382ba55e2f3ceULL, 0x91c70574abc5e79cULL, 0xb156a5c2f885d1bdULL
/* clang-format on */

/* Entry n of a table: the xor of the basis rows b0..b7 picked by n's bits. */
#define ENTRY(n, b0, b1, b2, b3, b4, b5, b6, b7)                                                   \
	(((n)&1 ? b0 : 0) ^ ((n)&2 ? b1 : 0) ^ ((n)&4 ? b2 : 0) ^ ((n)&8 ? b3 : 0) ^               \
	 ((n)&16 ? b4 : 0) ^ ((n)&32 ? b5 : 0) ^ ((n)&64 ? b6 : 0) ^ ((n)&128 ? b7 : 0))
#define ROW4(n, ...)                                                                               \
	ENTRY(n, __VA_ARGS__), ENTRY((n) + 1, __VA_ARGS__), ENTRY((n) + 2, __VA_ARGS__),           \
		ENTRY((n) + 3, __VA_ARGS__)
#define ROW16(n, ...)                                                                              \
	ROW4(n, __VA_ARGS__), ROW4((n) + 4, __VA_ARGS__), ROW4((n) + 8, __VA_ARGS__),              \
		ROW4((n) + 12, __VA_ARGS__)
#define ROW64(n, ...)                                                                              \
	ROW16(n, __VA_ARGS__), ROW16((n) + 16, __VA_ARGS__), ROW16((n) + 32, __VA_ARGS__),         \
		ROW16((n) + 48, __VA_ARGS__)
#define TABLE(...)                                                                                 \
	{                                                                                          \
		ROW64(0, __VA_ARGS__), ROW64(64, __VA_ARGS__), ROW64(128, __VA_ARGS__),            \
			ROW64(192, __VA_ARGS__)                                                    \
	}

static const uint64_t crc_table[16][256] = {
	TABLE(BASIS0),	TABLE(BASIS1),	TABLE(BASIS2),	TABLE(BASIS3),
	TABLE(BASIS4),	TABLE(BASIS5),	TABLE(BASIS6),	TABLE(BASIS7),
	TABLE(BASIS8),	TABLE(BASIS9),	TABLE(BASIS10), TABLE(BASIS11),
	TABLE(BASIS12), TABLE(BASIS13), TABLE(BASIS14), TABLE(BASIS15),
};

/* 8 bytes, least significant first, whatever the machine's byte order
 * (one load on a little-endian machine). */
static uint64_t le64(const unsigned char *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
	       (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
	       (uint64_t)p[7] << 56;
}

uint64_t rs_outsum(uint64_t sum, const void *buf, size_t n)
{
	const uint64_t(*t)[256] = crc_table;
	const unsigned char *p = buf;
	uint64_t c = ~sum;

	for (; n >= 16; p += 16, n -= 16) {
		uint64_t a = c ^ le64(p), b = le64(p + 8);
		c = t[15][a & 0xff] ^ t[14][a >> 8 & 0xff] ^ t[13][a >> 16 & 0xff] ^
		    t[12][a >> 24 & 0xff] ^ t[11][a >> 32 & 0xff] ^ t[10][a >> 40 & 0xff] ^
		    t[9][a >> 48 & 0xff] ^ t[8][a >> 56] ^ t[7][b & 0xff] ^ t[6][b >> 8 & 0xff] ^
		    t[5][b >> 16 & 0xff] ^ t[4][b >> 24 & 0xff] ^ t[3][b >> 32 & 0xff] ^
		    t[2][b >> 40 & 0xff] ^ t[1][b >> 48 & 0xff] ^ t[0][b >> 56];
	}
	while (n--)
		c = t[0][(c ^ *p++) & 0xff] ^ c >> 8;
	return ~c;
}

int rs_outsum_file(const char *path, uint64_t length, uint64_t *sum)
{
	struct stat st;
	unsigned char *buf = NULL;
	uint64_t off = 0, s = 0;
	int fd, ret = 0;

	*sum = 0;
	if (!length)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK); /* a FIFO must not block us */
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		goto out;
	}
	buf = malloc(READ_CHUNK);
	if (!buf) {
		ret = -ENOMEM;
		goto out;
	}
	while (off < length) {
		size_t want = length - off < READ_CHUNK ? (size_t)(length - off) : READ_CHUNK;
		ssize_t n = pread(fd, buf, want, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -errno : -ENODATA;
			goto out;
		}
		s = rs_outsum(s, buf, (size_t)n);
		off += (uint64_t)n;
	}
	*sum = s;
out:
	free(buf);
	close(fd);
	return ret;
}
