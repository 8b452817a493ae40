/* floor.c: the syscall floor of a durable webhook receiver (issue 19). A probe, not a product.
 *
 * How little CPU per event can ANY receiver on this machine spend if it does the unavoidable work of
 * vipps-webhookd: take an HTTP/1.1 POST, make its body durable in a journal, deliver it to a file sink
 * (durably), write an access-log line, answer 200? One thread, one epoll loop, and per epoll_wait round
 * a group commit of every request completed in that round:
 *   journal: 4-byte length + body per event, ONE pwrite + ONE fdatasync;
 *   sink:    one line per event,              ONE write  + ONE fdatasync;
 *   log:     one line per request,            ONE write(2) to stderr;
 *   then one send per connection with its "200 OK" answers.
 * --crypto  also SHA-256 of the body (EVP_Digest) and HMAC-SHA256 (HMAC()) over ~300 bytes per request,
 *           as signature verification costs (the result is not checked).
 * --crypto-fetched  the same work the way vipps-webhookd does it (Sources/COpenSSL/shim.h): SHA-256 fetched
 *           once (EVP_MD_fetch), HMAC from a keyed EVP_MAC_CTX template duplicated per request; OpenSSL 3's
 *           one-shot calls above do an implicit algorithm fetch on every call.
 * --nosync  skips both fdatasyncs (shows their CPU share).
 * No verification, no routing, no dedup, no retries, no limits: errors close the connection.
 *
 * build: cc -O2 -o floor floor.c -lcrypto     run: ./floor PORT [--crypto] [--nosync]   (bench/floor/floor.sh)
 * Files journal.bin and sink.log are created in the current directory. On SIGTERM/SIGINT it prints
 * "commits=N requests=M" (group commits done, requests in them) to stdout and exits. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/core_names.h>
#include <openssl/params.h>

typedef struct { char *p; size_t len, cap; } buf;
typedef struct { int fd; buf in, out; size_t pos; int nresp, want_out; } conn;
typedef struct { conn *c; size_t head, hlen, body, blen; } req;   /* offsets into c->in */

static const char OK[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";

static void reserve(buf *b, size_t extra) {
    if (b->len + extra <= b->cap) return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra) cap *= 2;
    if (!(b->p = realloc(b->p, cap))) { perror("realloc"); exit(1); }
    b->cap = cap;
}
static void put(buf *b, const void *p, size_t n) { reserve(b, n); memcpy(b->p + b->len, p, n); b->len += n; }
static double now_us(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e6 + t.tv_nsec / 1e3; }
static void die(const char *what) { perror(what); exit(1); }

static int epfd;
static volatile sig_atomic_t stop;
static void on_term(int sig) { (void)sig; stop = 1; }
static conn **dead; static size_t ndead;
static void closeconn(conn *c) {   /* freed at the end of the round, after every use */
    close(c->fd); c->fd = -1;
    if (!(dead = realloc(dead, (ndead + 1) * sizeof *dead))) die("realloc");
    dead[ndead++] = c;
}

/* Moves every complete request of c->in (from c->pos) to reqs; returns -1 on a malformed request. */
static int parse(conn *c, req **reqs, size_t *nreq, size_t *capreq) {
    for (;;) {
        char *s = c->in.p + c->pos, *end = memmem(s, c->in.len - c->pos, "\r\n\r\n", 4);
        if (!end) return 0;
        size_t hlen = end - s, blen = 0;
        for (char *l = memchr(s, '\n', hlen); l && l < end; l = memchr(l + 1, '\n', end - l)) {
            if (end - l > 16 && strncasecmp(l + 1, "content-length:", 15) == 0) blen = strtoul(l + 16, NULL, 10);
        }
        if (blen > (64u << 20)) return -1;
        if (c->in.len - c->pos < hlen + 4 + blen) return 0;                /* body not all here yet */
        if (*nreq == *capreq && !(*reqs = realloc(*reqs, (*capreq = *capreq * 2 + 64) * sizeof(req)))) die("realloc");
        (*reqs)[(*nreq)++] = (req){c, c->pos, hlen, c->pos + hlen + 4, blen};
        c->pos += hlen + 4 + blen;
    }
}

static void flush_out(conn *c) {   /* send what is queued; wait for EPOLLOUT if the socket is full */
    while (c->out.len) {
        ssize_t n = send(c->fd, c->out.p, c->out.len, MSG_NOSIGNAL);
        if (n < 0 && errno == EAGAIN) break;
        if (n <= 0) { closeconn(c); return; }
        memmove(c->out.p, c->out.p + n, c->out.len - n); c->out.len -= n;
    }
    int want = c->out.len > 0;
    if (want != c->want_out) {
        struct epoll_event ev = {.events = EPOLLIN | (want ? EPOLLOUT : 0), .data.ptr = c};
        epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
        c->want_out = want;
    }
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: %s PORT [--crypto] [--nosync]\n", argv[0]); return 2; }
    int crypto = 0, sync = 1;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--crypto")) crypto = 1;
        else if (!strcmp(argv[i], "--crypto-fetched")) crypto = 2;
        else if (!strcmp(argv[i], "--nosync")) sync = 0;
        else { fprintf(stderr, "unknown flag %s\n", argv[i]); return 2; }
    }
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1])), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) || listen(lfd, 4096)) die("bind/listen");
    int jfd = open("journal.bin", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int sfd = open("sink.log", O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
    if (jfd < 0 || sfd < 0) die("open");
    epfd = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL}, evs[1024];   /* NULL = the listener */
    epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev);

    struct sigaction sa_term = {.sa_handler = on_term};   /* no SA_RESTART: epoll_wait returns EINTR */
    sigaction(SIGTERM, &sa_term, NULL); sigaction(SIGINT, &sa_term, NULL);
    unsigned long commits = 0, committed = 0;
    buf jour = {0}, sink = {0}, log = {0};
    req *reqs = NULL; size_t capreq = 0; off_t joff = 0;
    static const char key[] = "bench-secret-not-for-production";
    EVP_MD *sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);   /* for --crypto-fetched */
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *keyed = EVP_MAC_CTX_new(mac);
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0), OSSL_PARAM_construct_end()};
    if (!sha256 || !keyed || EVP_MAC_init(keyed, (const unsigned char *)key, sizeof key - 1, params) != 1) die("openssl init");
    for (;;) {
        int n = epoll_wait(epfd, evs, 1024, 1000);   /* 1 s: a SIGTERM just before the call is still seen */
        if (stop) { printf("commits=%lu requests=%lu\n", commits, committed); return 0; }
        if (n < 0) { if (errno == EINTR) continue; die("epoll_wait"); }
        double t0 = now_us();
        size_t nreq = 0;
        for (int i = 0; i < n; i++) {
            conn *c = evs[i].data.ptr;
            if (!c) {   /* accept everything pending */
                int fd;
                while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    c = calloc(1, sizeof *c); c->fd = fd;
                    struct epoll_event e = {.events = EPOLLIN, .data.ptr = c};
                    epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &e);
                }
                continue;
            }
            if (evs[i].events & EPOLLOUT) flush_out(c);
            if (c->fd < 0 || !(evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))) continue;
            for (;;) {   /* read until the socket is empty */
                reserve(&c->in, 16384);
                ssize_t r = recv(c->fd, c->in.p + c->in.len, c->in.cap - c->in.len, 0);
                if (r > 0) { c->in.len += r; if (c->in.len < c->in.cap) break; continue; }
                if (r < 0 && errno == EAGAIN) break;
                closeconn(c); break;   /* EOF or error */
            }
            if (c->fd >= 0 && parse(c, &reqs, &nreq, &capreq) < 0) closeconn(c);
        }
        /* group commit of this round's requests (those of connections closed above are dropped) */
        jour.len = sink.len = log.len = 0;
        for (size_t i = 0; i < nreq; i++) {
            req *r = &reqs[i];
            if (r->c->fd < 0) continue;
            const char *in = r->c->in.p;
            uint32_t len = r->blen;
            committed++;
            put(&jour, &len, 4); put(&jour, in + r->body, r->blen);
            put(&sink, in + r->body, r->blen); put(&sink, "\n", 1);
            if (crypto) {
                unsigned char md[EVP_MAX_MD_SIZE]; unsigned int mdlen; size_t maclen;
                unsigned char msg[300];   /* stands in for the signed string: method, path, date, host, hash */
                size_t m = r->hlen < sizeof msg ? r->hlen : sizeof msg;
                memcpy(msg, in + r->head, m); memset(msg + m, 'x', sizeof msg - m);
                if (crypto == 1) {
                    EVP_Digest(in + r->body, r->blen, md, &mdlen, EVP_sha256(), NULL);
                    HMAC(EVP_sha256(), key, sizeof key - 1, msg, sizeof msg, md, &mdlen);
                } else {
                    EVP_Digest(in + r->body, r->blen, md, &mdlen, sha256, NULL);
                    EVP_MAC_CTX *ctx = EVP_MAC_CTX_dup(keyed);
                    if (!ctx || !EVP_MAC_update(ctx, msg, sizeof msg) || !EVP_MAC_final(ctx, md, &maclen, sizeof md)) die("hmac");
                    EVP_MAC_CTX_free(ctx);
                }
            }
        }
        if (jour.len) {
            if (pwrite(jfd, jour.p, jour.len, joff) != (ssize_t)jour.len) die("pwrite journal");
            joff += jour.len;
            if (sync && fdatasync(jfd)) die("fdatasync journal");
            if (write(sfd, sink.p, sink.len) != (ssize_t)sink.len) die("write sink");
            if (sync && fdatasync(sfd)) die("fdatasync sink");
            commits++;
        }
        double t1 = now_us();
        for (size_t i = 0; i < nreq; i++) {
            req *r = &reqs[i];
            if (r->c->fd < 0) continue;
            const char *h = r->c->in.p + r->head, *sp1 = memchr(h, ' ', r->hlen);
            const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', h + r->hlen - sp1 - 1) : NULL;
            if (!sp2) sp1 = sp2 = h;
            reserve(&log, 64 + (sp2 - h));
            log.len += snprintf(log.p + log.len, log.cap - log.len, "%.*s %.*s 200 %zu %.0fus\n",
                                (int)(sp1 - h), h, (int)(sp2 - sp1 - (sp1 < sp2)), sp1 + (sp1 < sp2), r->blen, t1 - t0);
            put(&r->c->out, OK, sizeof OK - 1);
            r->c->nresp++;
        }
        if (log.len && write(2, log.p, log.len) < 0) { /* a full stderr pipe is not our problem */ }
        for (size_t i = 0; i < nreq; i++) {   /* one send per connection, then drop consumed input */
            conn *c = reqs[i].c;
            if (c->fd < 0 || !c->nresp) continue;
            c->nresp = 0;
            flush_out(c);
            memmove(c->in.p, c->in.p + c->pos, c->in.len - c->pos); c->in.len -= c->pos; c->pos = 0;
        }
        for (size_t i = 0; i < ndead; i++) { free(dead[i]->in.p); free(dead[i]->out.p); free(dead[i]); }
        ndead = 0;
    }
}
