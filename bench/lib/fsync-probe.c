// fsync-probe DIR [SECONDS]: appends 128-byte records to a file in DIR with an
// fdatasync after each, for SECONDS (default 1), and prints fdatasync calls
// per second. Single-threaded, like one log writer: the disk's ceiling for
// one-entry-per-sync commits, which varies with machine load.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: fsync-probe DIR [SECONDS]\n");
    return 2;
  }
  double seconds = argc > 2 ? atof(argv[2]) : 1.0;
  char path[4096];
  snprintf(path, sizeof path, "%s/fsync-probe.%d", argv[1], (int)getpid());
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
  if (fd < 0) {
    perror(path);
    return 1;
  }
  char rec[128];
  memset(rec, 'x', sizeof rec);
  long n = 0;
  double start = now_s(), end = start + seconds, t = start;
  while (t < end) {
    if (write(fd, rec, sizeof rec) != (ssize_t)sizeof rec || fdatasync(fd) != 0) {
      perror("write/fdatasync");
      unlink(path);
      return 1;
    }
    ++n;
    if ((n & 15) == 0) t = now_s();
  }
  t = now_s();
  close(fd);
  unlink(path);
  printf("%.0f\n", n / (t - start));
  return 0;
}
