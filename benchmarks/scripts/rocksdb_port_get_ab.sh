#!/bin/bash
# Issue 12 port (h-rget): one-thread get CPU ns (RocksDbGetCpuCost), jars alternated, each beside raw
# in the same process; compare the cairn / raw ratios. The probe class is compiled once against the
# first jar into PROBE (default /tmp/rget-probe) and put first on each classpath, so jars built
# before the probe existed (main 3b92ff8) run the same probe.
# usage: rocksdb_port_get_ab.sh PAIRS JAR1 JAR2 [JAR3...]   (e.g. 2 main.jar port.jar fix.jar)
PAIRS=${1:?pairs}; shift
PROBE=${PROBE:-/tmp/rget-probe}
SRC=$(dirname "$0")/../src/main/java/io/cairn/bench/rocksdb/RocksDbGetCpuCost.java
mkdir -p "$PROBE" && javac -d "$PROBE" -cp "$1" "$SRC" || exit 1
for i in $(seq "$PAIRS"); do
  for j in "$@"; do
    echo "== $j load $(cat /proc/loadavg)"
    flock /tmp/bench.lock java -cp "$PROBE:$j" io.cairn.bench.rocksdb.RocksDbGetCpuCost ${ROUNDS:-30} 50000 cairn raw 2>&1 | grep "ns/get"
  done
done
