#ifndef VIPPS_CSYSTEM_SOCKET_H
#define VIPPS_CSYSTEM_SOCKET_H
#include <sys/socket.h>

/// accept4(2) with SOCK_NONBLOCK | SOCK_CLOEXEC.
int csystem_accept_nonblocking(int fd, struct sockaddr *addr, socklen_t *len);

#endif
