#include "csystem_memory.h"
#include <malloc.h>

int csystem_malloc_trim(size_t pad) {
    return malloc_trim(pad);
}

int csystem_malloc_arena_max(int count) {
    return mallopt(M_ARENA_MAX, count);
}

int csystem_malloc_mmap_threshold(int bytes) {
    return mallopt(M_MMAP_THRESHOLD, bytes);
}
