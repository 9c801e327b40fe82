#!/bin/bash
# sqlite-port-pread.sh OLD.jar PORT.jar ["CACHE SIZES"]
# Reads from the OS per warm get (SQLite page-cache misses of the reader connections): the
# pread64 calls strace counts while SqliteGetThreadsProbe (4 threads, 100,000 keys of 100 bytes)
# runs 3 rounds minus those of a 1-round run (so preload, open and the first, cold round cancel
# out): the count of 160,000 warm gets. Exact and independent of the machine's load, unlike CPU
# time. Each cache size (default: the jar's own default, "") is passed as cache-size.
set -e
# one hold of the benchmark lock for the whole comparison
[ -z "$SQLITE_PORT_PREAD_LOCKED" ] && exec env SQLITE_PORT_PREAD_LOCKED=1 flock /tmp/bench.lock "$0" "$@"
old=$1; port=$2; sizes=${3:-default}
here=$(cd "$(dirname "$0")" && pwd)
classes=$(mktemp -d)
javac -cp "$port" -d "$classes" "$here"/sqlite-port/SqliteGetThreadsProbe.java
count() { # jar rounds extra
  strace -f --seccomp-bpf -c -e trace=pread64 java -Dextra="$3" -cp "$1:$classes" \
    SqliteGetThreadsProbe 4 20000 "$2" x 2>&1 >/dev/null | awk '/pread64/ {print $4}'
}
echo "=== start $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
for size in $sizes; do
  extra=""; [ "$size" != default ] && extra="cache-size = $size"
  for side in old port; do
    jar=$old; [ $side = port ] && jar=$port
    one=$(count "$jar" 1 "$extra"); three=$(count "$jar" 3 "$extra")
    echo "$side cache-size=$size: pread64 $one after 1 round, $three after 3: $((three - one)) per 160000 warm gets"
  done
done
echo "=== end $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
