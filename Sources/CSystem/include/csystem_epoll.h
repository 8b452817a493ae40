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

#endif
