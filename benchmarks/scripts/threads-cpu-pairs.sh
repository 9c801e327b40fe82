#!/usr/bin/env bash
# Issue 15, puts and gets at N threads: one-fork runs of RocksDbThreadsBenchmark (or another
# benchmark with an impl parameter, $CAIRN_PAIRS_CLASS below), the sides
# alternated fork by fork (the order flips every round), each with JMH's perfnorm profiler counting
# the process's CPU time (task-clock), context switches and page faults per operation: software
# events, which this VM offers (it has no hardware counters). CPU per operation does not move with
# other load the way throughput does. A side is <label>=<impl>=<JAVA_TOOL_OPTIONS>, the options
# reaching the forked JVM (system properties such as
# -Dcairn.backends.bench.advanced.db-options.<option>=<value> reach Cairn's configuration; heap
# flags reach the JVM).
#   flock /tmp/bench.lock benchmarks/scripts/threads-cpu-pairs.sh <rounds> <threads> <put|get> \
#     raw=RAW_ROCKSDB= cairn=CAIRN_ROCKSDB= "heap=CAIRN_ROCKSDB=-Xms2g -Xmx2g"
# JSON per fork under $CAIRN_PAIRS_OUT (default /tmp/threads-cpu-pairs); $CAIRN_PAIRS_JMH_ARGS
# adds JMH arguments (e.g. "-p durability=normal"); $CAIRN_PAIRS_RUN_ARGS replaces the run shape
# (default "-f 1 -wi 1 -i 3 -w 2s -r 2s"); $CAIRN_PAIRS_CLASS names another benchmark with an impl
# parameter (default io.cairn.bench.rocksdb.RocksDbThreadsBenchmark, e.g.
# io.cairn.bench.sqlite.SqliteThreadsBenchmark). A label may name its own jar, <label>@<jar>, to
# set two builds side by side (before@/tmp/old.jar=CAIRN_SQLITE=). Holds no lock itself.
set -euo pipefail
jar=${CAIRN_BENCH_JAR:-benchmarks/target/benchmarks.jar}
rounds=$1
threads=$2
bench=$3
shift 3
sides=("$@")
out=${CAIRN_PAIRS_OUT:-/tmp/threads-cpu-pairs}
mkdir -p "$out"
for r in $(seq 1 "$rounds"); do
  order=("${sides[@]}")
  if [ $((r % 2)) = 0 ]; then
    order=()
    for ((i = ${#sides[@]} - 1; i >= 0; i--)); do order+=("${sides[$i]}"); done
  fi
  for s in "${order[@]}"; do
    IFS='=' read -r label impl opts <<<"$s"
    side_jar=$jar
    if [[ $label == *@* ]]; then
      side_jar=${label#*@}
      label=${label%%@*}
    fi
    f=$out/t$threads-$bench-r$r-$label.json
    # shellcheck disable=SC2086 # the run and JMH arguments are word lists
    JAVA_TOOL_OPTIONS="$opts" java -cp "$side_jar" org.openjdk.jmh.Main ${CAIRN_PAIRS_RUN_ARGS:--f 1 -wi 1 -i 3 -w 2s -r 2s} \
      -t "$threads" -p impl="$impl" ${CAIRN_PAIRS_JMH_ARGS:-} -prof "perfnorm:events=task-clock,context-switches,page-faults" \
      -rf json -rff "$f" "${CAIRN_PAIRS_CLASS:-io.cairn.bench.rocksdb.RocksDbThreadsBenchmark}.$bench\$" >/dev/null 2>&1
    python3 - "$f" "$r" "$label" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))[0]
sec = d["secondaryMetrics"]
g = lambda k: sec[k]["score"] if k in sec else float("nan")
print("round %s %-10s ops/s %9.0f  cpu us/op %.3f  cs/op %.3f  pf/op %.3f" % (
    sys.argv[2], sys.argv[3], d["primaryMetric"]["score"], g("task-clock") * 1000,
    g("context-switches"), g("page-faults")))
PY
  done
done
