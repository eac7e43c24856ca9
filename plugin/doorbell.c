#include "doorbell.h"
#include "../core/core.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define CONNECT_WAIT_MS 200      /* a listener of this very broker answers in microseconds */
#define BACKOFF_FIRST_MS 1000
#define BACKOFF_MAX_MS 60000
#define WARN_EVERY_MS 60000

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static bool random_hex(char *out, size_t n_bytes)
{
	unsigned char raw[32];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	ssize_t got;

	if(fd < 0 || n_bytes > sizeof(raw)){
		if(fd >= 0) close(fd);
		return false;
	}
	got = read(fd, raw, n_bytes);
	close(fd);
	if(got != (ssize_t)n_bytes) return false;
	for(size_t i = 0; i < n_bytes; i++) sprintf(out + 2 * i, "%02x", raw[i]);
	return true;
}

bool doorbell_init(struct doorbell *d, const struct conf_addr *addr)
{
	char tag[17], secret[33];

	memset(d, 0, sizeof(*d));
	d->fd = -1;
	d->addr = *addr;
	if(!random_hex(tag, 8) || !random_hex(secret, 16)) return false;
	snprintf(d->client_id, sizeof(d->client_id), "lwm2m-doorbell-%s", tag);
	snprintf(d->username, sizeof(d->username), "lwm2m-doorbell-%s", tag);
	snprintf(d->password, sizeof(d->password), "%s", secret);
	return true;
}

static void warn(struct doorbell *d, const char *what, int err)
{
	uint64_t now = mono_ms();
	char where[300];

	if(d->last_warning_ms && now - d->last_warning_ms < WARN_EVERY_MS) return;
	d->last_warning_ms = now;
	if(d->addr.is_unix) snprintf(where, sizeof(where), "unix:%s", d->addr.host);
	else snprintf(where, sizeof(where), "%s:%u", d->addr.host, d->addr.port);
	if(d->core){
		char reason[128] = "";
		if(err){
			/* strerror() is not thread-safe. */
			if(strerror_r(err, reason, sizeof(reason)) != 0) snprintf(reason, sizeof(reason), "error %d", err);
		}
		core_log(d->core, CORE_LOG_WARNING,
				"lwm2m: doorbell %s: %s%s%s; replies wait for the broker's next tick (up to 100 ms)",
				where, what, err ? ": " : "", reason);
	}
}

/* connect() bounded by CONNECT_WAIT_MS, so a silent address never stalls the core. */
static int connect_bounded(int fd, const struct sockaddr *sa, socklen_t len)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	int flags = fcntl(fd, F_GETFL), soerr = 0;
	socklen_t sl = sizeof(soerr);

	if(flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) return -1;
	if(connect(fd, sa, len) != 0){
		if(errno != EINPROGRESS) return -1;
		if(poll(&pfd, 1, CONNECT_WAIT_MS) <= 0){
			errno = ETIMEDOUT;
			return -1;
		}
		if(getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr){
			errno = soerr ? soerr : EIO;
			return -1;
		}
	}
	return fcntl(fd, F_SETFL, flags);
}

static int open_socket(struct doorbell *d)
{
	int fd, one = 1;

	if(d->addr.is_unix){
		struct sockaddr_un sa;
		memset(&sa, 0, sizeof(sa));
		sa.sun_family = AF_UNIX;
		if(strlen(d->addr.host) >= sizeof(sa.sun_path)){
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(sa.sun_path, d->addr.host, strlen(d->addr.host) + 1);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if(fd < 0) return -1;
		if(connect_bounded(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0){
			int e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		return fd;
	}else{
		struct addrinfo hints, *res = NULL, *ai;
		char port[8];
		memset(&hints, 0, sizeof(hints));
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_NUMERICSERV;
		snprintf(port, sizeof(port), "%u", d->addr.port);
		if(getaddrinfo(d->addr.host, port, &hints, &res) != 0){
			errno = EHOSTUNREACH;
			return -1;
		}
		fd = -1;
		for(ai = res; ai; ai = ai->ai_next){
			fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
			if(fd < 0) continue;
			if(connect_bounded(fd, ai->ai_addr, ai->ai_addrlen) == 0) break;
			close(fd);
			fd = -1;
		}
		freeaddrinfo(res);
		if(fd >= 0){
			/* Without it, Nagle holds each 2-byte ring behind the previous one's ACK. */
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		}
		return fd;
	}
}

static size_t put_str(uint8_t *p, const char *s)
{
	size_t n = strlen(s);
	p[0] = (uint8_t)(n >> 8);
	p[1] = (uint8_t)n;
	memcpy(p + 2, s, n);
	return n + 2;
}

/* MQTT 3.1.1 CONNECT, clean session, keep-alive 0 (never times out). */
static bool send_connect(struct doorbell *d)
{
	uint8_t pkt[256], *p = pkt + 2;
	static const uint8_t header[] = { 0, 4, 'M', 'Q', 'T', 'T', 4, 0x02 | 0x80 | 0x40, 0, 0 };

	memcpy(p, header, sizeof(header));
	p += sizeof(header);
	p += put_str(p, d->client_id);
	p += put_str(p, d->username);
	p += put_str(p, d->password);
	pkt[0] = 0x10;
	pkt[1] = (uint8_t)(p - pkt - 2);
	return send(d->fd, pkt, (size_t)(p - pkt), MSG_NOSIGNAL) == p - pkt;
}

static bool await_connack(struct doorbell *d)
{
	struct pollfd pfd = { .fd = d->fd, .events = POLLIN };
	uint8_t ack[4];

	if(poll(&pfd, 1, CONNECT_WAIT_MS) <= 0){
		warn(d, "no CONNACK from the broker", 0);
		return false;
	}
	if(recv(d->fd, ack, sizeof(ack), MSG_WAITALL) != sizeof(ack) || ack[0] != 0x20){
		warn(d, "the broker closed the connection", 0);
		return false;
	}
	if(ack[3] != 0){
		warn(d, "the broker refused the connection (check that this listener allows the plugin's own client)", 0);
		return false;
	}
	return true;
}

static bool connect_bell(struct doorbell *d)
{
	int flags;

	d->fd = open_socket(d);
	if(d->fd < 0){
		warn(d, "cannot connect", errno);
		return false;
	}
	if(!send_connect(d) || !await_connack(d)){
		doorbell_close(d);
		return false;
	}
	flags = fcntl(d->fd, F_GETFL);
	if(flags < 0 || fcntl(d->fd, F_SETFL, flags | O_NONBLOCK) < 0){
		doorbell_close(d);
		return false;
	}
	d->reconnects++;
	return true;
}

/* PINGRESPs (and anything else) the broker sent back: read and forget. */
static bool drain(struct doorbell *d)
{
	uint8_t junk[256];
	for(;;){
		ssize_t n = recv(d->fd, junk, sizeof(junk), 0);
		if(n > 0) continue;
		if(n == 0) return false;                       /* closed by the broker */
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
	}
}

/* After a failed connection, wait before the next try (doubling up to a minute): TICK
 * delivers meanwhile, and the core does not pay a connection attempt per loop turn. */
static bool may_connect(struct doorbell *d)
{
	return !d->retry_at_ms || mono_ms() >= d->retry_at_ms;
}

static void connect_failed(struct doorbell *d)
{
	d->backoff_ms = d->backoff_ms ? d->backoff_ms * 2 : BACKOFF_FIRST_MS;
	if(d->backoff_ms > BACKOFF_MAX_MS) d->backoff_ms = BACKOFF_MAX_MS;
	d->retry_at_ms = mono_ms() + d->backoff_ms;
}

void doorbell_ring(struct doorbell *d)
{
	static const uint8_t pingreq[2] = { 0xC0, 0x00 };

	for(int attempt = 0; attempt < 2; attempt++){
		if(d->fd < 0){
			if(!may_connect(d)) return;
			if(!connect_bell(d)){
				connect_failed(d);
				return;
			}
			d->backoff_ms = 0;
			d->retry_at_ms = 0;
		}
		if(drain(d) && send(d->fd, pingreq, sizeof(pingreq), MSG_NOSIGNAL) == (ssize_t)sizeof(pingreq)){
			d->rings++;
			return;
		}
		doorbell_close(d);
	}
}

void doorbell_close(struct doorbell *d)
{
	if(d->fd >= 0){
		close(d->fd);
		d->fd = -1;
	}
}
