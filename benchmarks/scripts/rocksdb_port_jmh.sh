#!/bin/bash
# Issue 12 port: RocksDbThreadsBenchmark get/put at 1, 4, 8 threads, Cairn beside raw, one jar.
# Since the provider switch CAIRN_ROCKSDB is the engine on the shared base; for before/after use
# benchmarks/scripts/port-ab.sh OLD.jar PORT.jar 2 OUT rocksdb.
JAR=${1:-/tmp/rocksport-bench.jar}; OUT=${2:-/tmp/rocksport-jmh}; mkdir -p $OUT
for t in 1 4 8; do
  echo "t=$t start $(date -u +%H:%M:%S) load $(cat /proc/loadavg)"
  flock /tmp/bench.lock java -jar $JAR 'io.cairn.bench.rocksdb.RocksDbThreadsBenchmark' \
    -p impl=CAIRN_ROCKSDB,RAW_ROCKSDB -t $t -f 1 -wi 1 -w 2s -i 3 -r 3s \
    -rf json -rff $OUT/port-t$t.json > $OUT/port-t$t.txt 2>&1
done
