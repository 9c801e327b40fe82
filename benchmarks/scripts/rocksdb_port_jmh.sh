#!/bin/bash
# Issue 12 port (h-rocksport): RocksDbThreadsBenchmark get/put, old backend vs the engine on the base vs raw, t = 1, 4, 8
JAR=${1:-/tmp/rocksport-bench.jar}
OUT=${2:-/tmp/rocksport-jmh}
mkdir -p $OUT
for t in 1 4 8; do
  echo "t=$t start $(date -u +%H:%M:%S) load $(cat /proc/loadavg)"
  flock /tmp/bench.lock java -jar $JAR 'io.cairn.bench.rocksdb.RocksDbThreadsBenchmark' \
    -p impl=CAIRN_ROCKSDB,CAIRN_ROCKSDB_BASE,RAW_ROCKSDB -t $t -f 1 -wi 1 -w 2s -i 3 -r 3s \
    -rf json -rff $OUT/port-t$t.json > $OUT/port-t$t.txt 2>&1
  echo "t=$t end $(date -u +%H:%M:%S) load $(cat /proc/loadavg)"
done
