#include "csystem_memory.h"
#include <malloc.h>

int csystem_malloc_trim(size_t pad) {
    return malloc_trim(pad);
}
