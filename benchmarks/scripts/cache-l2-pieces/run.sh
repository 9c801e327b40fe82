#!/bin/bash
# cache-l2-pieces/run.sh BENCHMARKS.jar [ROUNDS OPS] [RUNS]
# The L2 hit taken apart, piece by piece, in thread CPU per operation (PieceCost, see its class
# comment): builds a copy of BENCHMARKS.jar whose TieredCache and UpwardFills carry the switches of
# switches.patch (applied to this tree's sources, which must be the ones BENCHMARKS.jar was built
# from), then runs PieceCost RUNS times (default 3) under the benchmark lock. Results:
# benchmarks/RESULTS-cache-tiers.md, "2026-12-07 ...: the L2 hit's reader CPU, piece by piece".
# PIECES_JAR_OUT=path keeps the switched jar (e.g. for TieredCacheCpuCost with
# -Dpieces.l1-fill-on-reader=true, the L1 fill made on the reader's thread); RUNS=0 only builds it.
set -euo pipefail
jar=$(realpath "$1"); rounds=${2:-16}; ops=${3:-50000}; runs=${4:-3}
here=$(cd "$(dirname "$0")" && pwd)
tree=$(cd "$here/../../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src" "$work/out"
cp "$tree"/integrations/cache/src/main/java/io/cairn/cache/{TieredCache,UpwardFills}.java "$work/src/"
(cd "$work/src" && patch -s -p1 < "$here/switches.patch")
javac --release 17 -nowarn -cp "$jar" -d "$work/out" "$work"/src/*.java
cp "$jar" "$work/pieces.jar"
jar uf "$work/pieces.jar" -C "$work/out" io
javac --release 17 -nowarn -cp "$work/pieces.jar" -d "$work/out" "$here/PieceCost.java"
[ -n "${PIECES_JAR_OUT:-}" ] && cp "$work/pieces.jar" "$PIECES_JAR_OUT"
for i in $(seq "$runs"); do
  echo "=== run $i start $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
  flock /tmp/bench.lock java -cp "$work/pieces.jar:$work/out" io.cairn.cache.PieceCost \
    "$rounds" "$ops" 2>&1 | grep -v ' INFO '
done
echo "=== end $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
