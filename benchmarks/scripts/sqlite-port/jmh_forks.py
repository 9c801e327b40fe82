#!/usr/bin/env python3
# jmh_forks.py samples.txt jmh-output.txt iteration_s [iterations=3]: per JMH fork (one line each,
# in run order, any -f and any number of params), over the fork's last `iterations` x iteration_s
# seconds: its score (mean ops/s of the measured iterations), wall per op, and where that wall went
# for the JMH worker threads: on CPU, waiting in the run queue (load), and the rest (blocked: I/O,
# fsync, park), plus voluntary context switches per 1,000 ops (a park or a blocking syscall per
# op shows as ~1,000). samples.txt comes from ../jmh_schedstat.py; unlike ../jmh_cpu_per_op.py it
# splits forks at "# Fork:" lines, so -f 2 or several params are attributed correctly.
import sys, re, collections
import os
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from jmh_samples import read_samples, measured_window
samples, out, its = sys.argv[1], sys.argv[2], float(sys.argv[3])
NI = int(sys.argv[4]) if len(sys.argv) > 4 else 3
rows, order = read_samples(samples)
forks = []; params = ''
for l in open(out):
    if l.startswith('# Parameters'): params = l.split(':', 1)[1].strip()
    elif l.startswith('# Fork:'): forks.append({'p': params, 'i': []})
    elif l.startswith('Iteration') and forks:
        forks[-1]['i'].append(float(re.search(r'([\d.]+) ops/s', l).group(1)))
if len(forks) != len(order):
    sys.exit(f'{len(forks)} forks in {out} but {len(order)} JVMs sampled in {samples}')
for k, pid in enumerate(order):
    ts = rows[pid]
    a, b = measured_window(ts, its, NI)
    A, B = ts[a], ts[b]
    tot = collections.Counter()
    workers = 0
    for tid, x in B.items():
        if tid in A and x[0].startswith('io.cairn.bench'):
            workers += 1
            for j, nm in enumerate(['cpu', 'runq', 'vcs', 'nvcs']):
                tot[nm] += x[j + 1] - A[tid][j + 1]
    f = forks[k]
    score = sum(f['i']) / len(f['i'])
    ops = (b - a) * score
    wall = workers * (b - a) * 1e9 / ops  # worker-thread wall ns per op
    cpu, rq = tot['cpu'] / ops, tot['runq'] / ops
    print(f"fork {k} [{f['p']}] score {score:.0f} ops/s: worker wall/op {wall/1e3:.1f}us = cpu {cpu/1e3:.1f}"
          f" + runq {rq/1e3:.1f} + blocked {(wall-cpu-rq)/1e3:.1f}; vcs/1k ops {1e3*tot['vcs']/ops:.1f}")
