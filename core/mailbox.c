#include "mailbox.h"

int mailbox_init(struct mailbox *mb, size_t limit)
{
	mb->head = mb->tail = NULL;
	mb->count = 0;
	mb->limit = limit;
	mb->high_water = 0;
	return pthread_mutex_init(&mb->lock, NULL) == 0 ? 0 : -1;
}

void mailbox_destroy(struct mailbox *mb)
{
	pthread_mutex_destroy(&mb->lock);
}

bool mailbox_push(struct mailbox *mb, struct mailbox_item *item)
{
	bool ok = false;

	item->next = NULL;
	pthread_mutex_lock(&mb->lock);
	if(mb->count < mb->limit){
		if(mb->tail) mb->tail->next = item;
		else mb->head = item;
		mb->tail = item;
		mb->count++;
		if(mb->count > mb->high_water) mb->high_water = mb->count;
		ok = true;
	}
	pthread_mutex_unlock(&mb->lock);
	return ok;
}

struct mailbox_item *mailbox_take_all(struct mailbox *mb)
{
	struct mailbox_item *list;

	pthread_mutex_lock(&mb->lock);
	list = mb->head;
	mb->head = mb->tail = NULL;
	mb->count = 0;
	pthread_mutex_unlock(&mb->lock);
	return list;
}

size_t mailbox_count(struct mailbox *mb)
{
	size_t n;
	pthread_mutex_lock(&mb->lock);
	n = mb->count;
	pthread_mutex_unlock(&mb->lock);
	return n;
}

size_t mailbox_high_water(struct mailbox *mb)
{
	size_t n;
	pthread_mutex_lock(&mb->lock);
	n = mb->high_water;
	pthread_mutex_unlock(&mb->lock);
	return n;
}
