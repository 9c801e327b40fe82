/*
 * Cairn fault-injection shim: makes fsync(2), fdatasync(2), syncfs(2) and sync_file_range(2) fail
 * with EIO on demand, for tests of what a storage engine does after a failed fsync ("fsyncgate").
 * Loaded into a child process with LD_PRELOAD; it interposes the libc symbols, so it reaches every
 * caller that links libc dynamically: the JVM's FileChannel.force, SQLite (sqlite-jdbc's native
 * library) and RocksDB (rocksdbjni's native library).
 *
 * Control, read at every call (environment of the process):
 *   CAIRN_FSYNC_FAIL_TRIGGER=<path>  fail while this file exists (the test creates and deletes it)
 *   CAIRN_FSYNC_FAIL_AFTER=<n>       fail every call after the first n calls (counted from start)
 *   CAIRN_FSYNC_FAIL_LOG=<path>      append one line per injected failure: call, fd, file path
 * Without any of them every call passes through unchanged.
 *
 * Built by io.cairn.tck.fault.FsyncFaultShim with: gcc -shared -fPIC -O1 -o <out>.so <this> -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static long calls; /* approximate under concurrency: only used with CAIRN_FSYNC_FAIL_AFTER */

static void log_failure(const char *call, int fd) {
  const char *log = getenv("CAIRN_FSYNC_FAIL_LOG");
  if (log == NULL) {
    return;
  }
  char link[64];
  char target[512];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, target, sizeof target - 1);
  target[n > 0 ? n : 0] = '\0';
  char line[700];
  int len = snprintf(line, sizeof line, "EIO %s fd=%d path=%s\n", call, fd, target);
  int out = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (out >= 0) {
    ssize_t ignored = write(out, line, (size_t) len);
    (void) ignored;
    close(out);
  }
}

static int should_fail(const char *call, int fd) {
  long n = __atomic_add_fetch(&calls, 1, __ATOMIC_SEQ_CST);
  int fail = 0;
  const char *trigger = getenv("CAIRN_FSYNC_FAIL_TRIGGER");
  if (trigger != NULL && access(trigger, F_OK) == 0) {
    fail = 1;
  }
  const char *after = getenv("CAIRN_FSYNC_FAIL_AFTER");
  if (after != NULL && n > atol(after)) {
    fail = 1;
  }
  if (fail) {
    log_failure(call, fd);
  }
  return fail;
}

int fsync(int fd) {
  static int (*real)(int);
  if (should_fail("fsync", fd)) {
    errno = EIO;
    return -1;
  }
  if (real == NULL) {
    real = (int (*)(int)) dlsym(RTLD_NEXT, "fsync");
  }
  return real(fd);
}

int fdatasync(int fd) {
  static int (*real)(int);
  if (should_fail("fdatasync", fd)) {
    errno = EIO;
    return -1;
  }
  if (real == NULL) {
    real = (int (*)(int)) dlsym(RTLD_NEXT, "fdatasync");
  }
  return real(fd);
}

int syncfs(int fd) {
  static int (*real)(int);
  if (should_fail("syncfs", fd)) {
    errno = EIO;
    return -1;
  }
  if (real == NULL) {
    real = (int (*)(int)) dlsym(RTLD_NEXT, "syncfs");
  }
  return real(fd);
}

int sync_file_range(int fd, off64_t offset, off64_t nbytes, unsigned int flags) {
  static int (*real)(int, off64_t, off64_t, unsigned int);
  if (should_fail("sync_file_range", fd)) {
    errno = EIO;
    return -1;
  }
  if (real == NULL) {
    real = (int (*)(int, off64_t, off64_t, unsigned int)) dlsym(RTLD_NEXT, "sync_file_range");
  }
  return real(fd, offset, nbytes, flags);
}
