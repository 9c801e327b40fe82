#!/usr/bin/env bash
# The 10M builds of RESULTS-rocksdb-port.md ("Layout 4"): each jar builds each data set into a
# fresh directory, one at a time under the exclusive benchmark lock, jars alternated per round;
# after each build the level stats of every column family (RocksLevelStats.java), then the
# directory is deleted.
# usage: rocksdb-layout4-builds.sh OUT_DIR ROUNDS ENTRIES NAME=JAR...
set -euo pipefail
out=$1; rounds=$2; n=$3; shift 3
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
jars=("$@")
for ((r = 1; r <= rounds; r++)); do
  for impl in CAIRN_ROCKSDB_LOG CAIRN_ROCKSDB; do
    k=${#jars[@]}
    for ((i = 0; i < k; i++)); do
      spec=${jars[$(((i + r - 1) % k))]}   # rotate the order each round
      name=${spec%%=*}; jar=${spec#*=}
      dir=$out/data-$name-$impl-$r
      rm -rf "$dir"; mkdir -p "$dir"
      echo "== round $r $impl $name $(date -u +%H:%M:%S) load: $(cut -d' ' -f1-3 /proc/loadavg)"
      flock /tmp/bench.lock java -Dcairn.bench.dir="$dir" -cp "$jar" \
        io.cairn.bench.scale.ScaleFootprint build "$impl" "$n" "$out/$name-$impl-$r.json" \
        > "$out/$name-$impl-$r.log" 2>&1
      grep -o '"score":[0-9.]*' "$out/$name-$impl-$r.json" | tr '\n' ' ' || true; echo
      db=$(dirname "$(find "$dir" -name CURRENT | head -1)")
      flock /tmp/bench.lock java -cp "$jar" "$here/RocksLevelStats.java" "$db"
      du -sm "$db" | cut -f1 | sed 's/$/ MB on disk/'
      rm -rf "$dir"
    done
  done
done
