// Linux calls that Swift's Glibc module does not expose. Each area has its own header
// (socket, process, ...) included here; the target is built with _GNU_SOURCE.
#ifndef VIPPS_CSYSTEM_H
#define VIPPS_CSYSTEM_H
#include "csystem_socket.h"
#include "csystem_process.h"
#include "csystem_spawn.h"
#include "csystem_epoll.h"
#include "csystem_memory.h"
#include "csystem_signal.h"
#endif
