#!/usr/bin/env python3
# Runs a command (a JMH run) and samples, twice a second, every thread of every JMH forked JVM
# (ForkedMain): /proc/<pid>/task/<tid>/schedstat (on-CPU ns, run-queue wait ns, slices) and the
# voluntary / involuntary context switches. Output lines: t pid tid comm oncpu rq slices vcs nvcs.
# Summarise with jmh_cpu_per_op.py. Issue 15 (benchmarks/RESULTS-sqlite.md, 2026-12-06 05:47).
#   flock /tmp/bench.lock benchmarks/scripts/jmh_schedstat.py samples.txt \
#     java -jar benchmarks/target/benchmarks.jar SqliteThreadsBenchmark.get -t 4 -f 1 -wi 1 -w 3s -i 3 -r 4s > jmh.txt
import os, sys, time, subprocess
out = open(sys.argv[1], 'w')
proc = subprocess.Popen(sys.argv[2:])
t0 = time.time()
while proc.poll() is None:
    now = time.time() - t0
    for pid in os.listdir('/proc'):
        if not pid.isdigit(): continue
        try:
            cmd = open(f'/proc/{pid}/cmdline','rb').read()
        except OSError: continue
        if b'ForkedMain' not in cmd: continue
        try:
            for tid in os.listdir(f'/proc/{pid}/task'):
                try:
                    comm = open(f'/proc/{pid}/task/{tid}/comm').read().strip().replace(' ','_')
                    s = open(f'/proc/{pid}/task/{tid}/schedstat').read().split()
                    st = open(f'/proc/{pid}/task/{tid}/status').read()
                    vcs = [l.split()[1] for l in st.splitlines() if 'ctxt_switches' in l]
                    out.write(f'{now:.2f} {pid} {tid} {comm} {s[0]} {s[1]} {s[2]} {vcs[0]} {vcs[1]}\n')
                except OSError: pass
        except OSError: pass
    out.flush()
    time.sleep(0.5)
sys.exit(proc.returncode)
