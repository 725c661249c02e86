/* A min-heap of timers, one per id at most (ids below a fixed capacity):
 * the epoll backend's timeouts, with no syscall and no allocation per
 * probe. Push, move and remove are O(log n); the earliest is O(1). */
#ifndef RS_TIMERHEAP_H
#define RS_TIMERHEAP_H

#include <stdbool.h>
#include <stdint.h>

struct rs_timerheap {
	struct rs_timer {
		uint64_t due;
		uint32_t id;
	} * t;	      /* [cap], the heap */
	uint32_t *at; /* [cap]: id's place in t, plus 1; 0 when it has no timer */
	uint32_t n, cap;
};

/* Room for ids 0..cap-1: 0 or -ENOMEM. */
int rs_timerheap_init(struct rs_timerheap *h, uint32_t cap);
void rs_timerheap_free(struct rs_timerheap *h);
/* Set id's timer to due (replacing the one it had). */
void rs_timerheap_set(struct rs_timerheap *h, uint32_t id, uint64_t due);
/* Remove id's timer, if it has one. */
void rs_timerheap_clear(struct rs_timerheap *h, uint32_t id);
/* The earliest timer: true and *id, *due, or false when there is none. */
bool rs_timerheap_first(const struct rs_timerheap *h, uint32_t *id, uint64_t *due);

#endif
