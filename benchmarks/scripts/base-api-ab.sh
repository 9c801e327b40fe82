#!/usr/bin/env bash
# Before/after comparison of a change to the shared base (persistence-api's spi) on the memory and
# third-party engines: the same benchmarks.jar, with the persistence-api jar of each build put first
# on the class path (its classes win), runs alternated (A B A B ...), each under the benchmark lock
# on its own so neighbours can take turns. Results: benchmarks/RESULTS-blind-put.md.
#
#   benchmarks/scripts/base-api-ab.sh cpu|guard|get A_API_JAR B_API_JAR [pairs]
#
# cpu: io.cairn.bench.memory.BasePutCpuCost on memory and thirdparty (CPU ns per put, put with TTL,
#      get as the control; the thread's CPU clock, so machine load changes it little).
# guard: BasePutCpuCost on memory, gets from 1, 4 and 8 threads at once (CPU ns per get of all the
#      threads: what the close guard costs under concurrency).
# get: JMH KeyValueBenchmark.get, CAIRN_MEMORY beside SKIPLIST_MAP in the same run, at 1, 4 and 8
#      threads (compare the ratios, not raw figures across runs).
# A_API_JAR, B_API_JAR: cairn-persistence-api-*.jar of the two builds, e.g. built by
#   git worktree add /tmp/api-a COMMIT && (cd /tmp/api-a && ./mvnw -q -o -pl persistence-api \
#     package -DskipTests -Djacoco.skip=true -Dmaven.javadoc.skip=true -Dmaven.source.skip=true)
# BENCH_JAR: benchmarks/target/benchmarks.jar of a build that has BasePutCpuCost (default: this
#   checkout's). TP_CLASSES: persistence-tck/target/test-classes (the third-party example).
# JAVA (default java). Prints the probe's or JMH's lines, each run headed by its build and the load.
set -euo pipefail
mode=$1
a_jar=$2
b_jar=$3
pairs=${4:-2}
root=$(cd "$(dirname "$0")/../.." && pwd)
bench=${BENCH_JAR:-$root/benchmarks/target/benchmarks.jar}
tp=${TP_CLASSES:-$root/persistence-tck/target/test-classes}
java=${JAVA:-java}

run() { # $1: label, $2: api jar
  echo "# $1 $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
  case $mode in
    cpu)
      for engine in memory thirdparty; do
        flock /tmp/bench.lock "$java" -Xms1g -Xmx1g -cp "$2:$bench:$tp" \
          io.cairn.bench.memory.BasePutCpuCost "$engine" "$1" 2>/dev/null
      done
      ;;
    guard)
      flock /tmp/bench.lock "$java" -Xms1g -Xmx1g -cp "$2:$bench" \
        io.cairn.bench.memory.BasePutCpuCost memory "$1" get@1 get@4 get@8 2>/dev/null
      ;;
    get)
      for t in 1 4 8; do
        flock /tmp/bench.lock "$java" -cp "$2:$bench" org.openjdk.jmh.Main \
          'io.cairn.bench.KeyValueBenchmark.get' -t "$t" -f 1 -wi 3 -i 5 -w 1s -r 1s \
          -rf json -rff "/tmp/base-api-ab-$1-t$t.json" 2>/dev/null \
          | grep -E '^KeyValueBenchmark' || true
      done
      ;;
    *)
      echo "mode must be cpu, guard or get" >&2
      exit 2
      ;;
  esac
}

for ((p = 1; p <= pairs; p++)); do
  run "A#$p" "$a_jar"
  run "B#$p" "$b_jar"
done
