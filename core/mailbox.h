/* A bounded FIFO of heap items between two threads (the broker's and the core's).
 * Items are linked through their own `next` field; the mailbox never allocates. */
#ifndef CORE_MAILBOX_H
#define CORE_MAILBOX_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

struct mailbox_item {
	struct mailbox_item *next;
};

struct mailbox {
	pthread_mutex_t lock;
	struct mailbox_item *head, *tail;
	size_t count;
	size_t limit;
	size_t high_water;     /* largest count seen */
};

int mailbox_init(struct mailbox *mb, size_t limit);
void mailbox_destroy(struct mailbox *mb);   /* items still queued are the caller's: drain first */

/* False (item not queued) when the mailbox holds `limit` items already. */
bool mailbox_push(struct mailbox *mb, struct mailbox_item *item);
/* Takes every queued item at once, oldest first, as a NULL-terminated list. */
struct mailbox_item *mailbox_take_all(struct mailbox *mb);
size_t mailbox_count(struct mailbox *mb);
size_t mailbox_high_water(struct mailbox *mb);

#endif
