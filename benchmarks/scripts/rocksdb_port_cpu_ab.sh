#!/bin/bash
# Issue 12 port (h-rocksport): one-thread put CPU ns, before/after jars alternated, each beside raw in
# the same process. Since the provider switch type rocksdb IS the port: target 'cairn' is the
# layout-2 backend in a jar built before the switch (main) and the engine on the base after it.
# usage: rocksdb_port_cpu_ab.sh BEFORE.jar AFTER.jar   (compare the cairn / raw ratios)
BEFORE=${1:?before jar}; AFTER=${2:?after jar}
for i in 1 2; do
  for j in "$BEFORE" "$AFTER"; do
    echo "== $j load $(cat /proc/loadavg)"
    flock /tmp/bench.lock java -cp $j io.cairn.bench.rocksdb.RocksDbPutCpuCost 30 20000 cairn raw 2>&1 | grep "ns/put"
  done
done
