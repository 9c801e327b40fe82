#!/bin/bash
# cache-l3-sched.sh BEFORE.jar AFTER.jar [pairs=2] [outdir=/tmp/cache-l3-sched]
# The L3 hit's tail (issue 12: its p99 with the RocksDB port as fast tier) and the scheduler's view
# of it: TieredCachePairedBenchmark -p tier=l3 under jmh_schedstat.py, each thread's CPU share,
# run-queue wait and context switches over the measured iterations (jmh_thread_sched.py), in three
# set-ups per jar, alternated after/before, each run under the shared benchmark lock:
#   pair  - the benchmark as published: the cache's reader and the raw reader together, so three
#           busy threads (two readers and the cache's fill thread) share the two cores;
#   solo  - the cache's reader alone (-tg 1,0): two busy threads on two cores;
#   idle  - as pair, with the fill thread moved to SCHED_IDLE (chrt -i) once it starts, so that it
#           never preempts a reader (it then starves and most fills are shed; an experiment, not a
#           set-up a service would use).
# MODES="idle" runs only those set-ups. See benchmarks/RESULTS-cache-tiers.md, 2026-12-07.
set -e
before=$1; after=$2; pairs=${3:-2}; out=${4:-/tmp/cache-l3-sched}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
run() { # side jar mode label
  local side=$1 jar=$2 mode=$3 dir=$out/$4 extra=
  mkdir -p "$dir"
  [ "$mode" = solo ] && extra="-tg 1,0"
  flock /tmp/bench.lock bash -c "
    echo \"=== $4 start \$(date -u +%T) load \$(cut -d' ' -f1-3 /proc/loadavg)\"
    if [ $mode = idle ]; then
      ( while true; do # once a second, builtins only (a process per thread would load the cores)
          for p in \$(pgrep -f '[F]orkedMain'); do for t in /proc/\$p/task/*; do
            read -r c < \$t/comm 2>/dev/null || continue
            case \$c in cairn-cache-fil*) chrt -i -p 0 \${t##*/} 2>/dev/null;; esac
          done; done; sleep 1; done ) &
      idler=\$!
    fi
    python3 '$here/jmh_schedstat.py' '$dir/sched.txt' java -jar '$jar' \
      io.cairn.bench.cache.TieredCachePairedBenchmark -p tier=l3 -f 1 -wi 2 -i 4 -w 2s -r 3s $extra \
      -rf json -rff '$dir/result.json' > '$dir/jmh.log' 2>&1
    [ -z \"\$idler\" ] || kill \$idler
    echo \"=== $4 end \$(date -u +%T) load \$(cut -d' ' -f1-3 /proc/loadavg)\""
  python3 "$here/jmh_thread_sched.py" "$dir/sched.txt" 3 4 "$dir/result.json" |
    grep -E '^(cairn|raw):|io.cairn.bench|cairn-cache-fil' | column -t
}
n=0
for mode in ${MODES:-pair solo idle}; do
  for p in $(seq 1 "$pairs"); do
    for side in after before; do
      [ "$mode" = idle ] && [ "$side" = before ] && continue # the idle experiment is about the after jar
      n=$((n + 1)); jar=$before; [ "$side" = after ] && jar=$after
      run "$side" "$jar" "$mode" "$n-$mode-$side"
    done
  done
done
