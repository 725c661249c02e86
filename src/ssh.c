/* SSH identification and KEXINIT parsing (see ringscan/ssh.h). */
#include <string.h>

#include "ringscan/ssh.h"

#define IDENT_MAX	255   /* RFC 4253 4.2, CR LF included */
#define SSH_PACKET_MAX	35000 /* RFC 4253 6.1 */
#define SSH_MSG_KEXINIT 20

/* Split "SSH-proto-software[ comment]" (line at b + off, len bytes). */
static int split_ident(const uint8_t *b, uint32_t off, uint32_t len, struct rs_ssh_ident *id)
{
	const uint8_t *l = b + off;
	uint32_t i = 4, dash;

	while (i < len && l[i] != '-' && l[i] != ' ')
		i++;
	if (i == 4 || i >= len || l[i] != '-')
		return -1;
	dash = i;
	id->proto = (struct rs_span){off + 4, dash - 4};
	i = dash + 1;
	while (i < len && l[i] != ' ')
		i++;
	if (i == dash + 1)
		return -1;
	id->software = (struct rs_span){off + dash + 1, i - dash - 1};
	id->comment = i < len ? (struct rs_span){off + i + 1, len - i - 1}
			      : (struct rs_span){off + len, 0};
	id->line = (struct rs_span){off, len};
	return 1;
}

int rs_ssh_ident(const uint8_t *b, size_t n, struct rs_ssh_ident *id)
{
	size_t start = 0;

	memset(id, 0, sizeof(*id));
	while (start < n) {
		const uint8_t *lf = memchr(b + start, '\n', n - start);
		size_t have = lf ? (size_t)(lf - (b + start)) + 1 : n - start;
		int is_ident = have >= 4 ? !memcmp(b + start, "SSH-", 4)
					 : !memcmp(b + start, "SSH-", have);
		if (memchr(b + start, 0, have) || have > IDENT_MAX)
			return -1;
		if (!lf)
			return 0;
		if (is_ident) {
			uint32_t len = (uint32_t)have - 1;
			if (len && b[start + len - 1] == '\r')
				len--;
			id->end = (uint32_t)(start + have);
			return split_ident(b, (uint32_t)start, len, id);
		}
		start += have;
	}
	return 0;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int rs_ssh_kexinit(const uint8_t *b, size_t n, struct rs_ssh_kexinit *k)
{
	memset(k, 0, sizeof(*k));
	if (n < 6)
		return 0;
	uint32_t plen = be32(b), pad = b[4];
	if (plen < 1 + 1 + 16 || plen > SSH_PACKET_MAX || pad >= plen)
		return -1;
	if (b[5] != SSH_MSG_KEXINIT)
		return -1;
	if (n < 4 + (size_t)plen)
		return 0;
	/* The payload: type, cookie, then the name-lists. */
	uint32_t end = 4 + plen - pad, at = 4 + 1 + 1 + 16;
	for (int l = 0; l < RS_SSH_NLISTS; l++) {
		if (at + 4 > end)
			return -1;
		uint32_t len = be32(b + at);
		if (len > end - at - 4)
			return -1;
		k->list[l] = (struct rs_span){at + 4, len};
		at += 4 + len;
	}
	k->end = 4 + plen;
	return 1;
}

const char *rs_ssh_list_name(enum rs_ssh_list l)
{
	static const char *const names[RS_SSH_NLISTS] = {
		[RS_SSH_KEX] = "kex",
		[RS_SSH_HOSTKEY] = "hostkey",
		[RS_SSH_CIPHER_C2S] = "ciphers_c2s",
		[RS_SSH_CIPHER_S2C] = "ciphers_s2c",
		[RS_SSH_MAC_C2S] = "macs_c2s",
		[RS_SSH_MAC_S2C] = "macs_s2c",
		[RS_SSH_COMP_C2S] = "compression_c2s",
		[RS_SSH_COMP_S2C] = "compression_s2c",
		[RS_SSH_LANG_C2S] = "languages_c2s",
		[RS_SSH_LANG_S2C] = "languages_s2c",
	};
	return (unsigned)l < RS_SSH_NLISTS ? names[l] : "?";
}
