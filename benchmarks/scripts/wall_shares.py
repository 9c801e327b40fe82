#!/usr/bin/env python3
# Issue 15 (benchmarks/RESULTS-rocksdb.md, bound15 section): shares of an async-profiler collapsed
# profile taken with threads=true (first frame = thread name), over the threads whose name
# contains the filter (default jmh-worker), by where each sample was: the categories below, first
# match wins. Then the 12 heaviest "blocked" leaves (the frames under the futex or park), which
# name what a thread waited in.
#   benchmarks/scripts/wall_shares.py <collapsed file> [thread filter]
import collections, sys

CATS = [
    ('write group: blocked (BlockingAwaitState)', ['BlockingAwaitState']),
    ('write group: sched_yield', ['AwaitState', 'sched_yield']),
    ('write group: spin', ['AwaitState']),
    ('safepoint / VM block', ['SafepointSynchronize', 'ThreadBlockInVM', 'SafepointMechanism', 'block_if_requested', 'JavaThread::check_safepoint']),
    ('Java park (j.u.c.)', ['LockSupport.park', 'Unsafe.park']),
    ('Java monitor', ['ObjectMonitor', 'ObjectSynchronizer']),
    ('other futex', ['futex']),
    ('memtable insert', ['MemTable::Add']),
    ('write-buffer manager / cache', ['WriteBufferManager', 'CacheReservationManager']),
    ('switch memtable / listener', ['SwitchMemtable', 'NotifyOnMemTableSealed', 'OnMemTableSealed']),
    ('JMH between iterations', ['Thread.sleep', 'BenchmarkHandler', 'runUntilStopped']),
    ('other inside RocksDB.put', ['RocksDB.put']),
]


def main():
    path = sys.argv[1]
    filt = sys.argv[2] if len(sys.argv) > 2 else 'jmh-worker'
    total = 0
    cats = collections.Counter()
    blocked = collections.Counter()
    for line in open(path):
        line = line.rstrip('\n')
        if not line:
            continue
        stack, _, n = line.rpartition(' ')
        n = int(n)
        frames = stack.split(';')
        if filt not in frames[0]:
            continue
        total += n
        hit = 'other'
        for name, keys in CATS:
            if all(any(k in f for f in frames) for k in keys):
                hit = name
                break
        cats[hit] += n
        if any(k in hit for k in ('blocked', 'park', 'monitor', 'futex', 'safepoint')):
            blocked[';'.join(frames[-6:])] += n
    print(f'{total} samples of threads matching {filt!r}')
    for name, n in cats.most_common():
        print(f'{100.0 * n / max(1, total):6.1f}%  {name}')
    print('heaviest blocked stacks (last 6 frames):')
    for s, n in blocked.most_common(12):
        print(f'{100.0 * n / max(1, total):6.1f}%  {s}')


main()
