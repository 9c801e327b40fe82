package io.cairn.backend.rocksdb;

import io.cairn.persistence.spi.StorageEngine.Write;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import org.rocksdb.RocksDBException;

/**
 * Group commit, in Java, of the writes that fsync RocksDB's WAL ({@code durability = full}, or a
 * write asking for more than the backend's {@code normal}).
 *
 * <h2>Why not RocksDB's own write group</h2>
 *
 * RocksDB already shares one fsync among the writers that join a write group, but its waiters spin,
 * yield and then block on a futex each, inside the group and between groups: eight writers at
 * {@code full} on the 2-core benchmark machine made 6.8 {@code futex} calls and 0.35 {@code
 * sched_yield} per put, about 55 µs of process CPU a put, and 4.4-4.6 writes per fsync
 * (benchmarks/RESULTS-rocksdb.md). Here only one thread at a time is inside RocksDB for synced
 * writes, so RocksDB's write thread never waits for anyone, and a writer waiting for its group
 * parks once and is unparked once.
 *
 * <h2>How a group forms</h2>
 *
 * A write enqueues itself, then tries the group lock. Whoever holds it (the leader) takes every
 * write queued at that moment (at most {@link #MAX_GROUP} writes, and no more than {@link
 * #MAX_GROUP_BYTES} unless one write alone is larger), writes all their records in one RocksDB
 * {@code WriteBatch} with the WAL fsynced, completes each (unparking its thread), and loops until
 * its own write is done. On release it unparks the oldest write still queued, whose thread leads
 * the next group with everything queued during this group's fsync. A lone writer finds the queue
 * holding its own write only and writes it at once on its own thread, with no hand-off.
 *
 * <h2>What holds</h2>
 *
 * <ul>
 *   <li><b>Atomicity and order.</b> A group is one {@code WriteBatch}: every write in it becomes
 *       visible and durable together, in queue order, so each write stays atomic.
 *   <li><b>Acknowledgement.</b> A write returns only after the fsynced RocksDB write that holds it
 *       returned; as durable as RocksDB's {@code sync = true} makes it, exactly as before.
 *   <li><b>Failure.</b> If the group's write fails, every write of that group fails with it (none
 *       of it was applied: a RocksDB write batch is all or nothing); later groups are unaffected.
 *       The caller translates the error and names its own store and key.
 *   <li><b>The data directory check</b> ({@link RocksEngine#syncedWriteOptions()}) runs once per
 *       group, after the group was taken from the queue: every write in it arrived before that
 *       check started, which is what a check per write guaranteed.
 * </ul>
 *
 * <p>Thread-safe. Callers are inside the engine's guard ({@link RocksEngine#enter()}) for the whole
 * call, so the database cannot close or restart under a group. A write's own work never re-enters,
 * so the lock is never taken twice by one thread.
 */
final class SyncedWriteGroup {
  /** Writes taken into one group at most: bounds the leader's batch and its own wait. */
  static final int MAX_GROUP = 128;

  /**
   * Bytes of keys and values taken into one group at most (a write larger than this goes alone):
   * the leader copies the group into one native batch, so this bounds that copy when large writes
   * (snapshot chunks) queue together.
   */
  static final long MAX_GROUP_BYTES = 4L << 20;

  /** Writes one group (one or more writes' records) with the WAL fsynced. */
  @FunctionalInterface
  interface GroupWriter {
    void write(List<List<Write>> group) throws RocksDBException;
  }

  private static final class Pending {
    final List<Write> writes;
    final Thread waiter = Thread.currentThread();
    RocksDBException engineError;
    Throwable error; // a RuntimeException or an Error
    volatile boolean done; // set after the errors, so reading it publishes them

    Pending(List<Write> writes) {
      this.writes = writes;
    }
  }

  private final GroupWriter writer;
  private final ReentrantLock lock = new ReentrantLock();
  private final ConcurrentLinkedQueue<Pending> queue = new ConcurrentLinkedQueue<>();
  private final List<Pending> group = new ArrayList<>(); // under the lock
  private final List<List<Write>> records = new ArrayList<>(); // under the lock
  private final LongAdder groups = new LongAdder();
  private final LongAdder writes = new LongAdder();

  SyncedWriteGroup(GroupWriter writer) {
    this.writer = writer;
  }

  /**
   * Writes {@code batch} in the next group and returns once that group's fsynced write returned.
   *
   * @throws RocksDBException the group's write failed (nothing of it was applied)
   * @throws RuntimeException what the group's writer threw otherwise (the data directory check)
   */
  void write(List<Write> batch) throws RocksDBException {
    Pending p = new Pending(batch);
    queue.add(p);
    while (!p.done) {
      if (lock.tryLock()) {
        try {
          while (!p.done) {
            runGroup();
          }
        } finally {
          lock.unlock();
          Pending next = queue.peek();
          if (next != null) {
            LockSupport.unpark(next.waiter); // it leads the next group
          }
        }
      } else {
        LockSupport.park(this); // completed by the leader, or unparked to lead
      }
    }
    if (p.engineError != null) {
      throw p.engineError;
    }
    if (p.error instanceof Error e) {
      throw e;
    }
    if (p.error != null) {
      throw (RuntimeException) p.error;
    }
  }

  // Runs under the lock.
  private void runGroup() {
    group.clear();
    records.clear();
    Pending next;
    long bytes = 0;
    while (group.size() < MAX_GROUP && (next = queue.peek()) != null) {
      long size = bytes(next.writes);
      if (!group.isEmpty() && bytes + size > MAX_GROUP_BYTES) {
        break; // the next group starts with it
      }
      queue.poll(); // the one peeked: only the lock's holder takes from the queue
      bytes += size;
      group.add(next);
      records.add(next.writes);
    }
    if (group.isEmpty()) {
      return;
    }
    RocksDBException engineError = null;
    Throwable error = null;
    try {
      writer.write(records);
    } catch (RocksDBException e) {
      engineError = e;
    } catch (RuntimeException | Error e) {
      error = e; // every member must be completed, or it would park for ever
    }
    groups.increment();
    writes.add(group.size());
    for (Pending p : group) {
      p.engineError = engineError;
      p.error = error;
      p.done = true;
      if (p.waiter != Thread.currentThread()) {
        LockSupport.unpark(p.waiter);
      }
    }
    group.clear();
    records.clear();
  }

  private static long bytes(List<Write> writes) {
    long n = 0;
    for (Write w : writes) {
      n += w.key().length + (w.isDelete() ? 0 : w.value().length);
    }
    return n;
  }

  /** Writes waiting for a group now (tests wait on it). */
  int queued() {
    return queue.size();
  }

  /** Groups written since open. */
  long groups() {
    return groups.sum();
  }

  /** Writes those groups held. */
  long writes() {
    return writes.sum();
  }
}
