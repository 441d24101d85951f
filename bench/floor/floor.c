/*
 * floor: the cheapest thing that relays lines, as the floor that chatd's
 * cost is measured against (BENCHMARKS.md, "Close to the floor"). It is a benchmark, not a server:
 * no rooms, no names, no checks of the bytes.
 *
 *	floor [-addr HOST:PORT | PORT] [-max-out BYTES]
 *
 * One thread, one epoll set, non-blocking sockets. Every complete line a
 * client sends ("\n"-terminated; a CR before it is kept, so LF and CRLF
 * both pass through unchanged) goes to every other client, in the order
 * read. Output is batched: during a turn of the loop, what each client is
 * to receive is appended to its buffer, and at the end of the turn every
 * client with pending output gets one write(); what the kernel did not take
 * waits for EPOLLOUT. A client whose pending output would pass -max-out
 * (16 MiB) is dropped at once, abortively (SO_LINGER 0), so that no buffer
 * grows without bound; so is one that sends a line longer than MAX_LINE.
 * A drained output buffer is freed, so an idle client costs its struct.
 *
 * It listens on 127.0.0.1:PORT (or HOST:PORT), logs
 * "msg=listening addr=HOST:PORT" on stderr, and exits 0 on SIGINT or
 * SIGTERM. Build it with bench/floor/floor.sh, which also runs it.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

enum {
	READ_SIZE = 64 << 10, /* bytes read from one client per turn, at most */
	MAX_LINE = 64 << 10,  /* longest line kept across reads */
	MAX_EVENTS = 1024,
};

/* client is one connection. */
struct client {
	int fd;
	int idx;        /* in clients[], or -1 once closed */
	int dirty;      /* in dirty[] this turn */
	int want_out;   /* EPOLLOUT is registered: the kernel's buffer was full */
	int writable;   /* EPOLLOUT fired this turn */
	char *out;      /* pending output: out[off:len]; NULL when drained */
	size_t off, len, cap;
	char *in;       /* the start of an incomplete line; NULL if none */
	size_t in_len;
};

static struct client **clients; /* the open clients, in no order */
static int nclients, clients_cap;
static struct client **dirty; /* clients to flush at the end of the turn */
static int ndirty, dirty_cap;
static struct client **dead; /* closed this turn, freed at its end */
static int ndead, dead_cap;
static size_t max_out = 16u << 20;
static int ep;
static char rbuf[MAX_LINE + READ_SIZE];

static void die(const char *what) {
	perror(what);
	exit(1);
}

static void *xrealloc(void *p, size_t n) {
	p = realloc(p, n);
	if (!p)
		die("realloc");
	return p;
}

static void push(struct client ***a, int *n, int *cap, struct client *c) {
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 256;
		*a = xrealloc(*a, (size_t)*cap * sizeof **a);
	}
	(*a)[(*n)++] = c;
}

/* drop closes c: abortively if abort is set (a slow consumer), so that
 * the kernel frees its buffers at once. Its memory is freed at the end of
 * the turn, since events of this turn may still name it. */
static void drop(struct client *c, int abort) {
	if (c->idx < 0)
		return;
	if (abort) {
		struct linger l = {1, 0};
		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
	}
	close(c->fd); /* also removes it from the epoll set */
	struct client *last = clients[--nclients];
	clients[c->idx] = last;
	last->idx = c->idx;
	c->idx = -1;
	free(c->out);
	free(c->in);
	c->out = c->in = NULL;
	c->off = c->len = c->cap = c->in_len = 0;
	push(&dead, &ndead, &dead_cap, c);
}

/* queue appends n bytes to c's pending output. */
static void queue(struct client *c, const char *p, size_t n) {
	size_t pending = c->len - c->off;
	if (pending + n > max_out) {
		drop(c, 1);
		return;
	}
	if (c->len + n > c->cap) {
		if (c->off > 0) { /* reuse the written part first */
			memmove(c->out, c->out + c->off, pending);
			c->off = 0;
			c->len = pending;
		}
		if (c->len + n > c->cap) {
			size_t cap = c->cap ? c->cap : 4096;
			while (cap < c->len + n)
				cap *= 2;
			c->out = xrealloc(c->out, cap);
			c->cap = cap;
		}
	}
	memcpy(c->out + c->len, p, n);
	c->len += n;
	if (!c->dirty) {
		c->dirty = 1;
		push(&dirty, &ndirty, &dirty_cap, c);
	}
}

/* relay sends the complete lines p[0:n] of from to every other client. */
static void relay(struct client *from, const char *p, size_t n) {
	for (int i = 0; i < nclients; i++) {
		struct client *c = clients[i];
		if (c != from) {
			queue(c, p, n);
			if (c->idx < 0) /* dropped: clients[i] is now another */
				i--;
		}
	}
}

/* readable reads once from c and relays its complete lines. */
static void readable(struct client *c) {
	size_t have = c->in_len;
	if (have)
		memcpy(rbuf, c->in, have);
	ssize_t r = read(c->fd, rbuf + have, READ_SIZE);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r <= 0) {
		drop(c, 0);
		return;
	}
	size_t n = have + (size_t)r;
	char *nl = memrchr(rbuf + have, '\n', (size_t)r);
	if (!nl) { /* still no complete line */
		if (n > MAX_LINE) {
			drop(c, 1);
			return;
		}
		c->in = xrealloc(c->in, n);
		memcpy(c->in, rbuf, n);
		c->in_len = n;
		return;
	}
	size_t lines = (size_t)(nl - rbuf) + 1;
	relay(c, rbuf, lines);
	if (c->idx < 0)
		return;
	size_t rest = n - lines;
	if (rest > MAX_LINE) {
		drop(c, 1);
		return;
	}
	if (rest) {
		c->in = xrealloc(c->in, rest);
		memcpy(c->in, rbuf + lines, rest);
	} else {
		free(c->in);
		c->in = NULL;
	}
	c->in_len = rest;
}

static void set_events(struct client *c, uint32_t ev) {
	struct epoll_event e = {.events = ev, .data.ptr = c};
	if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e) < 0)
		die("epoll_ctl");
}

/* flush writes c's pending output once, and frees the buffer if it has
 * all gone. */
static void flush(struct client *c) {
	c->dirty = 0;
	if (c->idx < 0 || c->len == c->off)
		return;
	if (c->want_out && !c->writable)
		return; /* the kernel's buffer is still full: wait for EPOLLOUT */
	c->writable = 0;
	ssize_t w = write(c->fd, c->out + c->off, c->len - c->off);
	if (w < 0) {
		if (errno != EAGAIN && errno != EINTR) {
			drop(c, 0);
			return;
		}
		w = 0;
	}
	c->off += (size_t)w;
	if (c->off == c->len) {
		free(c->out);
		c->out = NULL;
		c->off = c->len = c->cap = 0;
		if (c->want_out) {
			c->want_out = 0;
			set_events(c, EPOLLIN);
		}
	} else if (!c->want_out) {
		c->want_out = 1;
		set_events(c, EPOLLIN | EPOLLOUT);
	}
}

static void accept_all(int ln) {
	for (;;) {
		int fd = accept4(ln, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
				return;
			if (errno == EMFILE || errno == ENFILE) {
				perror("accept");
				return;
			}
			die("accept");
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		struct client *c = calloc(1, sizeof *c);
		if (!c)
			die("calloc");
		c->fd = fd;
		c->idx = nclients;
		push(&clients, &nclients, &clients_cap, c);
		if (dirty_cap < clients_cap) {
			/* Grown here, not while a turn queues output: an array
			 * reallocated amid the output buffers would stay above
			 * them on the heap, and keep their memory from being
			 * returned to the system once they are freed. */
			dirty_cap = clients_cap;
			dirty = xrealloc(dirty, (size_t)dirty_cap * sizeof *dirty);
		}
		struct epoll_event e = {.events = EPOLLIN, .data.ptr = c};
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) < 0)
			die("epoll_ctl");
	}
}

static void usage(void) {
	fprintf(stderr, "usage: floor [-addr HOST:PORT | PORT] [-max-out BYTES]\n");
	exit(2);
}

int main(int argc, char **argv) {
	const char *host = "127.0.0.1", *port = NULL;
	char hostbuf[64];
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] == '-' && a[1] == '-')
			a++;
		if (!strcmp(a, "-addr") && i + 1 < argc) {
			const char *v = argv[++i], *colon = strrchr(v, ':');
			if (!colon || (size_t)(colon - v) >= sizeof hostbuf)
				usage();
			if (colon > v) {
				memcpy(hostbuf, v, (size_t)(colon - v));
				hostbuf[colon - v] = 0;
				host = hostbuf;
			}
			port = colon + 1;
		} else if (!strcmp(a, "-max-out") && i + 1 < argc) {
			max_out = strtoull(argv[++i], NULL, 10);
			if (max_out == 0)
				usage();
		} else if (a[0] != '-' && !port) {
			port = a;
		} else {
			usage();
		}
	}
	if (!port)
		usage();
	char *end;
	long p = strtol(port, &end, 10);
	if (*end || p < 0 || p > 65535)
		usage();
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)p)};
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		fprintf(stderr, "floor: %s is not an IPv4 address\n", host);
		exit(2);
	}

	signal(SIGPIPE, SIG_IGN);
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &sigs, NULL) < 0)
		die("sigprocmask");
	int sfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0)
		die("signalfd");

	int ln = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ln < 0)
		die("socket");
	int one = 1;
	setsockopt(ln, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(ln, (struct sockaddr *)&sa, sizeof sa) < 0)
		die("bind");
	if (listen(ln, 4096) < 0)
		die("listen");
	socklen_t sl = sizeof sa;
	getsockname(ln, (struct sockaddr *)&sa, &sl);
	fprintf(stderr, "msg=listening addr=%s:%d\n", host, ntohs(sa.sin_port));

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die("epoll_create1");
	/* The listener and the signals are told apart from clients by these
	 * two addresses. */
	static int ln_tag, sig_tag;
	struct epoll_event e = {.events = EPOLLIN, .data.ptr = &ln_tag};
	if (epoll_ctl(ep, EPOLL_CTL_ADD, ln, &e) < 0)
		die("epoll_ctl");
	e.data.ptr = &sig_tag;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &e) < 0)
		die("epoll_ctl");

	static struct epoll_event events[MAX_EVENTS];
	int running = 1;
	while (running) {
		int n = epoll_wait(ep, events, MAX_EVENTS, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("epoll_wait");
		}
		for (int i = 0; i < n; i++) {
			void *tag = events[i].data.ptr;
			if (tag == &ln_tag) {
				accept_all(ln);
				continue;
			}
			if (tag == &sig_tag) {
				running = 0;
				continue;
			}
			struct client *c = tag;
			if (c->idx < 0)
				continue;
			uint32_t ev = events[i].events;
			if (ev & EPOLLOUT) {
				c->writable = 1;
				if (!c->dirty) {
					c->dirty = 1;
					push(&dirty, &ndirty, &dirty_cap, c);
				}
			}
			if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR))
				readable(c);
		}
		for (int i = 0; i < ndirty; i++)
			flush(dirty[i]);
		ndirty = 0;
		for (int i = 0; i < ndead; i++)
			free(dead[i]);
		ndead = 0;
	}
	while (nclients > 0)
		drop(clients[0], 0);
	for (int i = 0; i < ndead; i++)
		free(dead[i]);
	free(clients);
	free(dirty);
	free(dead);
	close(ln);
	close(sfd);
	close(ep);
	fprintf(stderr, "msg=stopped\n");
	return 0;
}
