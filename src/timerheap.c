/* A binary min-heap of (due, id) with each id's place kept, so a timer can
 * be moved or removed without a search (see timerheap.h). */
#include <errno.h>
#include <stdlib.h>

#include "timerheap.h"

int rs_timerheap_init(struct rs_timerheap *h, uint32_t cap)
{
	h->n = 0;
	h->cap = cap;
	h->t = calloc(cap ? cap : 1, sizeof(*h->t));
	h->at = calloc(cap ? cap : 1, sizeof(*h->at));
	if (!h->t || !h->at) {
		rs_timerheap_free(h);
		return -ENOMEM;
	}
	return 0;
}

void rs_timerheap_free(struct rs_timerheap *h)
{
	free(h->t);
	free(h->at);
	h->t = NULL;
	h->at = NULL;
	h->n = 0;
}

static void put(struct rs_timerheap *h, uint32_t k, struct rs_timer t)
{
	h->t[k] = t;
	h->at[t.id] = k + 1;
}

/* Move the timer at k up or down until the heap holds again. */
static void settle(struct rs_timerheap *h, uint32_t k)
{
	struct rs_timer t = h->t[k];

	while (k > 0 && h->t[(k - 1) / 2].due > t.due) {
		put(h, k, h->t[(k - 1) / 2]);
		k = (k - 1) / 2;
	}
	for (;;) {
		uint32_t c = 2 * k + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && h->t[c + 1].due < h->t[c].due)
			c++;
		if (h->t[c].due >= t.due)
			break;
		put(h, k, h->t[c]);
		k = c;
	}
	put(h, k, t);
}

void rs_timerheap_set(struct rs_timerheap *h, uint32_t id, uint64_t due)
{
	uint32_t k = h->at[id];

	if (k) {
		h->t[k - 1].due = due;
		settle(h, k - 1);
		return;
	}
	put(h, h->n, (struct rs_timer){due, id});
	settle(h, h->n++);
}

void rs_timerheap_clear(struct rs_timerheap *h, uint32_t id)
{
	uint32_t k = h->at[id];

	if (!k)
		return;
	h->at[id] = 0;
	if (--h->n == k - 1)
		return; /* it was the last */
	put(h, k - 1, h->t[h->n]);
	settle(h, k - 1);
}

bool rs_timerheap_first(const struct rs_timerheap *h, uint32_t *id, uint64_t *due)
{
	if (!h->n)
		return false;
	*id = h->t[0].id;
	*due = h->t[0].due;
	return true;
}
