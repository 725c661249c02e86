/* SSH recognition from the protocol itself (RFC 4253): the identification
 * string a server sends first, and the KEXINIT packet that follows once a
 * client has sent its own. Pure functions over the bytes received; the
 * results point into those bytes (spans), nothing is copied. */
#ifndef RINGSCAN_SSH_H
#define RINGSCAN_SSH_H

#include <stddef.h>
#include <stdint.h>

/* A piece of a buffer: bytes [off, off + len). */
struct rs_span {
	uint32_t off, len;
};

/* "SSH-protoversion-softwareversion SP comments CR LF" (RFC 4253 4.2). */
struct rs_ssh_ident {
	struct rs_span line;	 /* the identification line, without CR LF */
	struct rs_span proto;	 /* "2.0" (or "1.99") */
	struct rs_span software; /* "OpenSSH_9.2p1" */
	struct rs_span comment;	 /* "Debian-2+deb12u10", len 0 when absent */
	uint32_t end;		 /* bytes up to and including its LF */
};

/* The identification line in b[0, n): lines before it that do not start
 * with "SSH-" are skipped, as the RFC allows. Returns 1 when found, 0 when
 * more bytes are needed, -1 when b cannot be an SSH server's (a line of
 * more than 255 characters, CR LF included, or with a NUL, up to the
 * "SSH-" one, or an "SSH-" line without a software version). */
int rs_ssh_ident(const uint8_t *b, size_t n, struct rs_ssh_ident *id);

/* The name-lists of a KEXINIT, in the packet's order. */
enum rs_ssh_list {
	RS_SSH_KEX,
	RS_SSH_HOSTKEY,
	RS_SSH_CIPHER_C2S,
	RS_SSH_CIPHER_S2C,
	RS_SSH_MAC_C2S,
	RS_SSH_MAC_S2C,
	RS_SSH_COMP_C2S,
	RS_SSH_COMP_S2C,
	RS_SSH_LANG_C2S,
	RS_SSH_LANG_S2C,
	RS_SSH_NLISTS,
};

struct rs_ssh_kexinit {
	struct rs_span list[RS_SSH_NLISTS]; /* comma-separated names */
	uint32_t end;			    /* bytes of the packet */
};

/* The server's first binary packet, b[0, n) starting right after its
 * identification line, read as an unencrypted KEXINIT (RFC 4253 7.1).
 * Returns 1 when parsed, 0 when more bytes are needed, -1 when it is not
 * one (not message 20, lengths out of bounds, a packet over 35,000 bytes). */
int rs_ssh_kexinit(const uint8_t *b, size_t n, struct rs_ssh_kexinit *k);

/* The JSON names of the lists ringscan reports ("kex", "hostkey", ...). */
const char *rs_ssh_list_name(enum rs_ssh_list l);

#endif
