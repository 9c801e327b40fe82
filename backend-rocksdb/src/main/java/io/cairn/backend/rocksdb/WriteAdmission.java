package io.cairn.backend.rocksdb;

import java.util.concurrent.Semaphore;

/**
 * How many unsynced writes may be inside RocksDB at once ({@code advanced.max-concurrent-writes}).
 *
 * <h2>Why a limit in front of RocksDB's own write group</h2>
 *
 * RocksDB groups concurrent writers: a leader writes the group's WAL records, each member inserts
 * into the memtable in parallel, and the leader waits for the last member before the group ends.
 * When there are more writer threads than cores, a member is often descheduled inside the group,
 * and every other member spins, yields and finally parks on a futex until it runs again. On the
 * 2-core machine of the benchmarks, with 8 writer threads at {@code durability = none}, that cost
 * Cairn 7.4-12 µs of process CPU per put against 4.9-7.6 µs with one writer admitted at a time, and
 * 0.43-0.76 of raw rocksdbjni's throughput against 0.90-1.07; at {@code normal} 19-21 against
 * 13-13.5 µs (benchmarks/RESULTS-rocksdb.md, 2026-12-07 13:00-14:00 UTC). Writers held here park
 * once in Java, outside RocksDB; the admitted one runs its batch through RocksDB without waiting
 * for anyone. With as many writers as cores there is little to save, and the limit costs one
 * uncontended semaphore acquire and release per write.
 *
 * <h2>What it costs</h2>
 *
 * The permits are not fair: a thread releasing one and coming back for the next write usually gets
 * it again before a parked thread wakes. That is what saves the hand-offs, and it lengthens the
 * tail: in the same measurement the 99.9th percentile of an 8-thread put went from 4.1-4.8 ms to
 * 7.8-8.0 ms, the 99.99th from 8-12 ms to 16 ms (the median stayed at 3-4.6 µs). {@code unlimited}
 * gives the old behaviour, RocksDB's group only.
 *
 * <h2>Which writes</h2>
 *
 * Only writes that do not fsync the WAL: a synced write (durability {@code full}, or a write asking
 * for more than the backend's durability) is never held here: those go through {@link
 * SyncedWriteGroup}, which shares one fsync among all the writers queued at once, and making them
 * wait in turn would cost one fsync each.
 *
 * <p>Thread-safe. {@link #enter()} and {@link #exit()} pair on one thread, {@code exit} in a {@code
 * finally}; a write holds one permit and nothing else is acquired while holding it (RocksDB's write
 * takes no lock of Cairn's), so it cannot take part in a deadlock.
 */
final class WriteAdmission {
  /** The configured permits; 0 = unlimited (then {@link #permits} is null). */
  private final int limit;

  private final Semaphore permits;

  /**
   * @param limit writes admitted at once, at least 1; 0 = no limit
   */
  WriteAdmission(int limit) {
    if (limit < 0) {
      throw new IllegalArgumentException("limit must be 0 (unlimited) or positive: " + limit);
    }
    this.limit = limit;
    this.permits = limit == 0 ? null : new Semaphore(limit);
  }

  /**
   * {@code auto}: half the processors this JVM may use, at least one. Measured on 2 cores only
   * (where it is 1); on more cores it still admits enough writers for RocksDB's parallel memtable
   * inserts to use half the machine, and binds only when writers outnumber that.
   */
  static int auto() {
    return Math.max(1, Runtime.getRuntime().availableProcessors() / 2);
  }

  /** Waits for a permit (not interruptibly: a write in progress is not abandoned half-way). */
  void enter() {
    if (permits != null) {
      permits.acquireUninterruptibly();
    }
  }

  /** Returns the permit {@link #enter()} took. */
  void exit() {
    if (permits != null) {
      permits.release();
    }
  }

  /** Permits free now (for tests); {@link Integer#MAX_VALUE} when unlimited. */
  int available() {
    return permits == null ? Integer.MAX_VALUE : permits.availablePermits();
  }

  /** The limit as configured, for stats: a number or {@code unlimited}. */
  String describe() {
    return limit == 0 ? "unlimited" : String.valueOf(limit);
  }
}
