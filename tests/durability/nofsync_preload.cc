// LD_PRELOAD shim for the "no fsync" variant of raftkv: every call that asks
// the kernel to make data durable returns success without doing anything.
// A node run under it acknowledges writes that live only in the page cache.
// SIGKILL cannot tell (the kernel still has the data); a power cut on
// lossyfs must (tests/durability/nofsync-check.sh).
#include <sys/mman.h>
#include <sys/types.h>

#include <cstddef>

extern "C" {

int fsync(int) {
  return 0;
}
int fdatasync(int) {
  return 0;
}
int sync_file_range(int, off64_t, off64_t, unsigned int) {
  return 0;
}
int msync(void*, size_t, int) {
  return 0;
}
int syncfs(int) {
  return 0;
}
void sync() {}

}  // extern "C"
