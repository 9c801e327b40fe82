#!/bin/bash
# Issue 12 port (h-rget): one-thread get CPU ns (RocksDbGetCpuCost), jars alternated, each beside raw
# in the same process; compare the cairn / raw ratios. OP=put runs the put probe (RocksDbPutCpuCost)
# the same way (h-palloc). The probe classes are compiled once against the first jar into PROBE
# (default /tmp/rget-probe) and put first on each classpath, so jars built before the probe existed
# (main 3b92ff8) run the same probe. Each line also gives the bytes allocated per operation.
# usage: [OP=put] [ROUNDS=30] [OPS=50000] rocksdb_port_get_ab.sh PAIRS JAR1 JAR2 [JAR3...]
PAIRS=${1:?pairs}; shift
PROBE=${PROBE:-/tmp/rget-probe}
OP=${OP:-get}
case "$OP" in
  get) CLASS=RocksDbGetCpuCost ;;
  put) CLASS=RocksDbPutCpuCost ;;
  *) echo "OP must be get or put, not '$OP'" >&2; exit 2 ;;
esac
SRC=$(dirname "$0")/../src/main/java/io/cairn/bench/rocksdb
mkdir -p "$PROBE" && javac -d "$PROBE" -cp "$1" "$SRC/RocksDbGetCpuCost.java" "$SRC/RocksDbPutCpuCost.java" || exit 1
for i in $(seq "$PAIRS"); do
  for j in "$@"; do
    echo "== $j load $(cat /proc/loadavg)"
    flock /tmp/bench.lock java -cp "$PROBE:$j" io.cairn.bench.rocksdb.$CLASS ${ROUNDS:-30} ${OPS:-50000} cairn raw 2>&1 | grep "ns/$OP"
  done
done
