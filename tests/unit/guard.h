/* Guard-page helpers for unit tests (the picohttpparser trick).
 *
 * guard_str(s) copies s, terminator included, so that its last byte (the
 * NUL) sits immediately before a PROT_NONE page: any read past the end of
 * the string faults at once, even without ASan. guard_buf(n) returns n
 * writable bytes that end right before the same kind of page, to catch
 * writes past a declared buffer length.
 *
 * Each of the two has its own arena (so an input string and an error buffer
 * can be guarded at once); a pointer is valid until the next call of the
 * same function. */
#ifndef RINGSCAN_TEST_GUARD_H
#define RINGSCAN_TEST_GUARD_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define GUARD_ARENA_PAGES 4 /* data pages before each guard page */

/* Arena slot (0 or 1): n bytes ending exactly at its guard page. The bytes
 * before them are poisoned so stale data from an earlier call cannot help. */
static inline char *guard_region(int slot, size_t n)
{
	static char *base[2];
	size_t pg = (size_t)sysconf(_SC_PAGESIZE), data = pg * GUARD_ARENA_PAGES;

	if (!base[slot]) {
		void *p = mmap(NULL, data + pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			       -1, 0);
		if (p == MAP_FAILED) {
			perror("guard: mmap");
			abort();
		}
		if (mprotect((char *)p + data, pg, PROT_NONE)) {
			perror("guard: mprotect");
			abort();
		}
		base[slot] = p;
	}
	if (n > data) {
		fprintf(stderr, "guard: %zu bytes do not fit\n", n);
		abort();
	}
	memset(base[slot], 'G', data - n);
	return base[slot] + data - n;
}

/* n writable bytes ending exactly at a guard page. */
static inline char *guard_buf(size_t n)
{
	return guard_region(1, n);
}

/* A copy of s whose terminating NUL is the last readable byte. */
static inline const char *guard_str(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = guard_region(0, n);

	memcpy(d, s, n);
	return d;
}

#endif
