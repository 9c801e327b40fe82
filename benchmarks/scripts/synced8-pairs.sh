#!/usr/bin/env bash
# Issue 15, 8 writers at fsync per commit: one-fork runs of PeerSyncedWritersBenchmark, the sides
# alternated fork by fork (the order flips every round), so the virtual disk's fsync latency, which
# drifts over minutes, slows both sides of a round alike; prints each fork's ops/s and, per round,
# each side's ratio to the first side. A side is <label>=<impl>[@<class-path prefix>]: the prefix
# (e.g. a directory of changed classes) goes before the jar.
#   flock /tmp/bench.lock benchmarks/scripts/synced8-pairs.sh <rounds> <jar> \
#     raw=RAW_ROCKSDB_SYNC cairn=CAIRN_ROCKSDB_FULL [more sides]
# Holds nothing itself: run it under the lock.
set -euo pipefail
rounds=$1
jar=$2
shift 2
sides=("$@")
for r in $(seq 1 "$rounds"); do
  order=("${sides[@]}")
  if [ $((r % 2)) = 0 ]; then
    order=()
    for ((i = ${#sides[@]} - 1; i >= 0; i--)); do order+=("${sides[$i]}"); done
  fi
  declare -A score=()
  for s in "${order[@]}"; do
    label=${s%%=*}
    rest=${s#*=}
    impl=${rest%%@*}
    cp=$jar
    if [ "$rest" != "$impl" ]; then cp=${rest#*@}:$jar; fi
    v=$(java -cp "$cp" org.openjdk.jmh.Main -f 1 -wi 1 -i 3 -w 2s -r 2s -p impl="$impl" \
      io.cairn.bench.peers.PeerSyncedWritersBenchmark 2>&1 |
      awk '/^PeerSyncedWritersBenchmark.put/ {print $(NF-3)}')
    score[$label]=$v
    echo "round $r $label $impl ops/s $v load $(cut -d' ' -f1 /proc/loadavg)"
  done
  first=${sides[0]%%=*}
  line="round $r ratios to $first:"
  for s in "${sides[@]}"; do
    label=${s%%=*}
    line+=" $label $(awk -v a="${score[$label]}" -v b="${score[$first]}" 'BEGIN {printf "%.2f", a / b}')"
  done
  echo "$line"
  unset score
done
