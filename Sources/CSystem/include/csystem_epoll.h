#ifndef VIPPS_CSYSTEM_EPOLL_H
#define VIPPS_CSYSTEM_EPOLL_H
#include <stdint.h>

/// epoll_create1(EPOLL_CLOEXEC); -1 with errno on failure.
int csystem_epoll_create(void);

/// Arms `fd` in `epfd` for one notification (EPOLLONESHOT, level-triggered): when it is readable, or writable
/// when `writable` is non-zero; hang-up and error conditions fire too. `add` non-zero adds the descriptor
/// (EPOLL_CTL_ADD), zero re-arms one added before (EPOLL_CTL_MOD). `token` is what `csystem_epoll_wait` reports.
/// 0, or -1 with errno.
int csystem_epoll_arm(int epfd, int fd, int add, int writable, uint64_t token);

/// Removes `fd` from `epfd` (EPOLL_CTL_DEL); call it while `fd` is still open. 0, or -1 with errno.
int csystem_epoll_remove(int epfd, int fd);

/// epoll_wait(2) without timeout: stores the tokens of up to `capacity` ready descriptors in `tokens` and
/// returns their number, or -1 with errno (EINTR included).
int csystem_epoll_wait(int epfd, uint64_t *tokens, int capacity);

/// Adds `fd` to `epfd` (EPOLL_CTL_ADD) for `events` (EPOLLIN, EPOLLET, ... as given), reported with `token`.
/// 0, or -1 with errno.
int csystem_epoll_add_events(int epfd, int fd, uint32_t events, uint64_t token);

/// epoll_wait(2) with a timeout in milliseconds (-1: none): stores the token and event mask of up to `capacity`
/// (at most 128) ready descriptors and returns their number, or -1 with errno (EINTR included).
int csystem_epoll_wait_events(int epfd, uint64_t *tokens, uint32_t *events, int capacity, int timeout_ms);

/// eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); -1 with errno on failure.
int csystem_eventfd(void);

/// pthread_setname_np(3) for the calling thread (at most 15 bytes); 0 or an error number.
int csystem_set_thread_name(const char *name);

/// The epoll event bits, as constants Swift imports (Glibc does not expose <sys/epoll.h>, and including it here
/// would make this module re-export libc types). epoll.c checks them against the real header.
static const uint32_t csystem_epoll_in = 0x001;
static const uint32_t csystem_epoll_out = 0x004;
static const uint32_t csystem_epoll_err = 0x008;
static const uint32_t csystem_epoll_hup = 0x010;
static const uint32_t csystem_epoll_rdhup = 0x2000;
static const uint32_t csystem_epoll_et = 1u << 31;

#endif
