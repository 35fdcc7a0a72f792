/*
 * t/serve_load.c - t/serve_load.sh's client: C concurrent clients, each
 * sending R score requests to a `bbtbench serve` on loopback, one
 * connection per request, and counting the answers by status.
 *
 *     serve_load PORT C R BODY-FILE load
 *         every 8th request repeats the previous one's Idempotency-Key (a
 *         retry): it must come back replayed, with the same logits, when
 *         the first was answered 200. Prints
 *         "requests N fresh F replayed P refused B other O unanswered U"
 *         and exits 1 when a request got no status, a replay differed, or
 *         a status was neither 200 nor 503.
 *     serve_load PORT C R BODY-FILE abort
 *         clients that die mid-request: half of them stop half-way
 *         through the body, the other half send it all and close without
 *         reading the answer. Prints "aborted N".
 *
 * Raw sockets and threads only, so the test needs no HTTP client.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static int port, n_req, abort_mode;
static char *body;
static size_t body_len;

struct client {
	int id;
	unsigned long fresh, replayed, refused, other, unanswered, mismatched, aborted;
};

static int dial(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	struct timeval tv = { 30, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* One request with key; the whole answer into *resp (malloc'ed). Sends
 * only `part` bytes of the body when part < body_len. The status, or 0. */
static int request(const char *key, size_t part, int read_answer, char **resp, size_t *rlen)
{
	*resp = NULL;
	*rlen = 0;
	int fd = dial();
	if (fd < 0)
		return 0;
	char head[256];
	int hn = snprintf(head, sizeof head,
	                  "POST /v1/score HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
	                  "Idempotency-Key: %s\r\nContent-Length: %zu\r\n\r\n", key, body_len);
	if (send_all(fd, head, (size_t)hn) < 0 || send_all(fd, body, part) < 0 || !read_answer) {
		close(fd);
		return 0;
	}
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap + 1);
	ssize_t r;
	while (buf && (r = recv(fd, buf + len, cap - len, 0)) > 0) {
		len += (size_t)r;
		if (len == cap) {
			char *b = realloc(buf, 2 * cap + 1);
			if (b == NULL)
				break;
			buf = b;
			cap *= 2;
		}
	}
	close(fd);
	if (buf == NULL)
		return 0;
	buf[len] = '\0';
	*resp = buf;
	*rlen = len;
	int status = 0;
	if (len < 12 || sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
		status = 0;
	return status;
}

/* The body after the headers. */
static const char *payload(const char *resp, size_t len, size_t *n)
{
	const char *p = resp ? strstr(resp, "\r\n\r\n") : NULL;
	*n = p ? len - (size_t)(p + 4 - resp) : 0;
	return p ? p + 4 : "";
}

static void *run(void *arg)
{
	struct client *c = arg;
	char key[64], *last = NULL;
	size_t last_len = 0;
	int last_status = 0;
	for (int i = 0; i < n_req; i++) {
		if (abort_mode) {
			snprintf(key, sizeof key, "abort-%d-%d", c->id, i);
			char *resp;
			size_t rl;
			request(key, i % 2 ? body_len / 2 : body_len, 0, &resp, &rl);
			c->aborted++;
			continue;
		}
		int retry = i % 8 == 7;
		if (!retry)
			snprintf(key, sizeof key, "load-%d-%d", c->id, i);
		char *resp;
		size_t rl;
		int status = request(key, body_len, 1, &resp, &rl);
		int replay = resp && strstr(resp, "X-BBT-Replayed: 1") != NULL;
		if (status == 0)
			c->unanswered++;
		else if (status == 200 && replay)
			c->replayed++;
		else if (status == 200)
			c->fresh++;
		else if (status == 503)
			c->refused++;
		else
			c->other++;
		if (retry && last_status == 200) {   /* answered once: the same logits, replayed */
			size_t a, b;
			const char *pa = payload(last, last_len, &a), *pb = payload(resp, rl, &b);
			if (status != 200 || !replay || a != b || memcmp(pa, pb, a) != 0)
				c->mismatched++;
		}
		free(last);
		last = resp;
		last_len = rl;
		last_status = status;
	}
	free(last);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 6) {
		fprintf(stderr, "usage: serve_load PORT CLIENTS REQUESTS BODY-FILE load|abort\n");
		return 2;
	}
	port = atoi(argv[1]);
	int n = atoi(argv[2]);
	n_req = atoi(argv[3]);
	abort_mode = strcmp(argv[5], "abort") == 0;
	FILE *f = fopen(argv[4], "rb");
	if (f == NULL || n < 1 || n > 256 || n_req < 1) {
		fprintf(stderr, "serve_load: bad arguments\n");
		return 2;
	}
	fseek(f, 0, SEEK_END);
	body_len = (size_t)ftell(f);
	rewind(f);
	body = malloc(body_len ? body_len : 1);
	if (body == NULL || fread(body, 1, body_len, f) != body_len)
		return 2;
	fclose(f);
	struct client cl[256];
	pthread_t tid[256];
	for (int i = 0; i < n; i++) {
		cl[i] = (struct client){ .id = i };
		if (pthread_create(&tid[i], NULL, run, &cl[i]) != 0)
			return 2;
	}
	struct client t = { 0 };
	for (int i = 0; i < n; i++) {
		pthread_join(tid[i], NULL);
		t.fresh += cl[i].fresh, t.replayed += cl[i].replayed, t.refused += cl[i].refused;
		t.other += cl[i].other, t.unanswered += cl[i].unanswered;
		t.mismatched += cl[i].mismatched, t.aborted += cl[i].aborted;
	}
	free(body);
	if (abort_mode) {
		printf("aborted %lu\n", t.aborted);
		return 0;
	}
	printf("requests %lu fresh %lu replayed %lu refused %lu other %lu unanswered %lu "
	       "mismatched %lu\n", (unsigned long)n * (unsigned long)n_req, t.fresh, t.replayed,
	       t.refused, t.other, t.unanswered, t.mismatched);
	return t.unanswered || t.other || t.mismatched ? 1 : 0;
}
