#!/bin/bash
# sqlite-port-cpu.sh OLD.jar PORT.jar [passes=2]
# Issue 12's CPU-per-operation comparison in one process per side, public API only: the probes in
# scripts/sqlite-port/ (plain Java, compiled here against PORT.jar) run against each jar in turn,
# alternated, all inside ONE hold of the benchmark lock, the load printed before and after.
# SqliteCpuProbe: one thread, 20,000 puts then 20,000 gets per round, 5 rounds (round 0 warm-up),
# thread CPU and wall per op. SqliteGetThreadsProbe: 4 and 8 threads reading at once, the readers'
# summed thread CPU per get. See benchmarks/RESULTS-sqlite-port.md.
set -e
old=$1; port=$2; passes=${3:-2}
here=$(cd "$(dirname "$0")" && pwd)
classes=$(mktemp -d)
javac -cp "$port" -d "$classes" "$here"/sqlite-port/*.java
flock /tmp/bench.lock bash -c "
echo \"=== start \$(date -u +%T) load \$(cut -d' ' -f1-3 /proc/loadavg)\"
for pass in \$(seq 1 $passes); do
  for side in old port; do
    jar=$old; [ \$side = port ] && jar=$port
    java -cp \$jar:$classes SqliteCpuProbe 20000 5 \$side-p\$pass 2>/dev/null | grep round
  done
done
for t in 4 8; do
  for pass in \$(seq 1 $passes); do
    for side in old port; do
      jar=$old; [ \$side = port ] && jar=$port
      java -cp \$jar:$classes SqliteGetThreadsProbe \$t 20000 4 \$side-p\$pass 2>/dev/null | grep round
    done
  done
done
echo \"=== end \$(date -u +%T) load \$(cut -d' ' -f1-3 /proc/loadavg)\""
