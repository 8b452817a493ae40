#include "csystem_epoll.h"
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <pthread.h>

_Static_assert(EPOLLIN == 0x001 && EPOLLOUT == 0x004 && EPOLLERR == 0x008 && EPOLLHUP == 0x010, "epoll bits");
_Static_assert(EPOLLRDHUP == 0x2000 && EPOLLET == (1u << 31), "epoll bits");

int csystem_epoll_create(void) {
    return epoll_create1(EPOLL_CLOEXEC);
}

int csystem_epoll_arm(int epfd, int fd, int add, int writable, uint64_t token) {
    struct epoll_event event = {
        .events = (writable ? EPOLLOUT : EPOLLIN) | EPOLLONESHOT,
        .data = {.u64 = token},
    };
    return epoll_ctl(epfd, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &event);
}

int csystem_epoll_remove(int epfd, int fd) {
    return epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
}

int csystem_epoll_wait(int epfd, uint64_t *tokens, int capacity) {
    struct epoll_event events[64];
    if (capacity > 64) {
        capacity = 64;
    }
    int count = epoll_wait(epfd, events, capacity, -1);
    for (int i = 0; i < count; i++) {
        tokens[i] = events[i].data.u64;
    }
    return count;
}

int csystem_epoll_add_events(int epfd, int fd, uint32_t events, uint64_t token) {
    struct epoll_event event = {.events = events, .data = {.u64 = token}};
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &event);
}

int csystem_epoll_wait_events(int epfd, uint64_t *tokens, uint32_t *events, int capacity, int timeout_ms) {
    struct epoll_event ready[128];
    if (capacity > 128) {
        capacity = 128;
    }
    int count = epoll_wait(epfd, ready, capacity, timeout_ms);
    for (int i = 0; i < count; i++) {
        tokens[i] = ready[i].data.u64;
        events[i] = ready[i].events;
    }
    return count;
}

int csystem_eventfd(void) {
    return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

int csystem_set_thread_name(const char *name) {
    return pthread_setname_np(pthread_self(), name);
}
