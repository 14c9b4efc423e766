/* string.h for compiling the executor without a C library's headers (clang
 * -nostdlibinc; the artifact's target may have no C library here, e.g.
 * Hexagon): only what HalideRuntime.h and modelc_executor.c use. The C
 * library the artifact is linked with at the end provides the functions. */
#ifndef MODELC_FREESTANDING_STRING_H_
#define MODELC_FREESTANDING_STRING_H_

#include <stddef.h>

void* memcpy(void* dst, const void* src, size_t n);
void* memset(void* dst, int c, size_t n);
int memcmp(const void* a, const void* b, size_t n);
int strcmp(const char* a, const char* b);
size_t strlen(const char* s);

#endif
