// Test-only LD_PRELOAD library: every write() to a file (fd > 2) fails with ENOSPC, as on
// a full disk; stdin/stdout/stderr still work. Lets tests check "disk full" handling
// without filling a real disk.
#include <dlfcn.h>
#include <errno.h>
#include <unistd.h>

extern "C" ssize_t write(int fd, const void* buf, size_t n) {
  using WriteFn = ssize_t (*)(int, const void*, size_t);
  static WriteFn real = reinterpret_cast<WriteFn>(dlsym(RTLD_NEXT, "write"));
  if (fd > 2) {
    errno = ENOSPC;
    return -1;
  }
  return real(fd, buf, n);
}
