#ifndef VIPPS_CSYSTEM_EPOLL_H
#define VIPPS_CSYSTEM_EPOLL_H
#include <stdint.h>

/// epoll_create1(EPOLL_CLOEXEC); -1 with errno on failure.
int csystem_epoll_create(void);

/// epoll_ctl(2): `op` is csystem_epoll_add, csystem_epoll_modify or csystem_epoll_delete; `fd` is watched for
/// `events` (the csystem_epoll_* bits below) and reported with `token` (both ignored for delete, which must run
/// while `fd` is still open). 0, or -1 with errno.
int csystem_epoll_control(int epfd, int op, int fd, uint32_t events, uint64_t token);

/// epoll_wait(2) with a timeout in milliseconds (-1: none): stores the token and event mask of up to `capacity`
/// (at most 128) ready descriptors and returns their number, or -1 with errno (EINTR included).
int csystem_epoll_wait_events(int epfd, uint64_t *tokens, uint32_t *events, int capacity, int timeout_ms);

/// eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); -1 with errno on failure.
int csystem_eventfd(void);

/// pthread_setname_np(3) for the calling thread (at most 15 bytes); 0 or an error number.
int csystem_set_thread_name(const char *name);

/// The epoll_ctl operations.
static const int csystem_epoll_add = 1;
static const int csystem_epoll_delete = 2;
static const int csystem_epoll_modify = 3;

/// The epoll event bits, as constants Swift imports (Glibc does not expose <sys/epoll.h>, and including it here
/// would make this module re-export libc types). epoll.c checks them against the real header.
static const uint32_t csystem_epoll_in = 0x001;
static const uint32_t csystem_epoll_out = 0x004;
static const uint32_t csystem_epoll_err = 0x008;
static const uint32_t csystem_epoll_hup = 0x010;
static const uint32_t csystem_epoll_rdhup = 0x2000;
static const uint32_t csystem_epoll_oneshot = 1u << 30;
static const uint32_t csystem_epoll_et = 1u << 31;

#endif
