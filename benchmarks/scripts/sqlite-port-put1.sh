#!/bin/bash
# sqlite-port-put1.sh OLD.jar NEW.jar [pairs=3] [out=/tmp/sqlite-port-put1]
# The SQLite put at ONE thread, old backend vs port (issue 12's open item after the 18:03 landing
# check: SqliteThreadsBenchmark.put -t 1 Cairn/raw 0.57 and 0.83 against 0.93 and 0.91), in two
# parts, each under the shared benchmark lock:
#  1. syscalls per Cairn put, strace -f -c of SqlitePut1Probe (cairn side only), 3 rounds of 20,000
#     puts minus 1 round: counts do not depend on the machine's load (a park/unpark or a lock
#     hand-off per put would show as ~1 futex per put, an extra sync as fsync/fdatasync);
#  2. JMH SqliteThreadsBenchmark.put -t 1 -f 1 (port-ab.sh's settings), new and old alternated
#     `pairs` times, every forked JVM's threads sampled (../jmh_schedstat.py); per fork the score,
#     and the worker's wall per op split into CPU, run-queue wait (load) and blocked (I/O, fsync,
#     park), plus voluntary switches per 1,000 puts (sqlite-port/jmh_forks.py). A slow fork then
#     says whether it spent more CPU (code, JIT), more run-queue (load) or more blocked time.
# Results: benchmarks/RESULTS-sqlite-port.md (2026-12-06, "put at one thread").
set -euo pipefail
old=$1; new=$2; pairs=${3:-3}; out=${4:-/tmp/sqlite-port-put1}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out/cls"
javac -cp "$new" -d "$out/cls" "$here"/sqlite-port/SqlitePut1Probe.java
flock /tmp/bench.lock bash -c "
set -e
echo \"=== syscalls per put, \$(date -u +%T) load \$(cut -d' ' -f1-3 /proc/loadavg)\"
for side in old new; do
  jar=$old; [ \$side = new ] && jar=$new
  for r in 1 3; do
    strace -f -c -o $out/strace-\$side-\$r.txt java -cp \$jar:$out/cls SqlitePut1Probe n20000 \$r \$side '' cairn > /dev/null 2>&1
  done
  python3 - \$side $out <<'PY'
import sys
side, out = sys.argv[1], sys.argv[2]
def parse(f):
    d = {}
    for line in open(f):
        p = line.split()
        if len(p) >= 5 and p[0][0].isdigit() and p[-1] != 'total':
            try: d[p[-1]] = int(p[3])
            except ValueError: pass
    return d
a, b = parse(f'{out}/strace-{side}-1.txt'), parse(f'{out}/strace-{side}-3.txt')
print(side + ': ' + ', '.join(f'{k} {(b.get(k,0)-a.get(k,0))/40000:.3f}' for k in sorted(b, key=lambda k: a.get(k,0)-b.get(k,0)) if abs(b.get(k,0)-a.get(k,0)) >= 200))
PY
done
"
for i in $(seq 1 "$pairs"); do
  for side in new old; do
    jar=$old; [ "$side" = new ] && jar=$new
    flock /tmp/bench.lock bash -c "
      l0=\$(cut -d' ' -f1 /proc/loadavg)
      $here/jmh_schedstat.py $out/ss-\$0-\$1.txt java -jar \$2 io.cairn.bench.sqlite.SqliteThreadsBenchmark.put \
        -t 1 -f 1 -wi 2 -w 2s -i 3 -r 3s -p impl=CAIRN_SQLITE,RAW_SQLITE > $out/put-\$0-\$1.log 2>&1
      echo \"=== \$1 #\$0 \$(date -u +%T) load \$l0-\$(cut -d' ' -f1 /proc/loadavg)\"
      python3 $here/sqlite-port/jmh_forks.py $out/ss-\$0-\$1.txt $out/put-\$0-\$1.log 3 3 | sed 's/checkpointed = false, impl = //; s/, keys = 100000//'
    " "$i" "$side" "$jar"
  done
done
