package io.cairn.persistence.spi;

import io.cairn.persistence.Durability;
import io.cairn.persistence.ReadOnlyBackendException;
import io.cairn.persistence.StorageEngineException;
import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one backend-wide sequence every key-value version of an {@link EngineBackend} comes from, so
 * that a put writes its entry blindly: no read of the entry it replaces (compare-and-set,
 * compare-and-delete and delete still read it, under the key's write stripe).
 *
 * <h2>Layout (in the base's reserved store {@code (KEY_VALUE, "_cairn")}, see {@link ExpiryIndex})
 * </h2>
 *
 * <pre>
 *   "next-version"       'V' | bound i64      exclusive bound of the versions reserved so far
 * </pre>
 *
 * <h2>Rules</h2>
 *
 * <ul>
 *   <li><b>Blocks.</b> Versions are handed out from a block whose exclusive bound is already
 *       stored: taking the first version at or above the stored bound first writes the next bound
 *       ({@link #BLOCK} above) in its own engine batch and waits for that write to return; only
 *       then is any version of the new block handed out. So every version stored in an entry is
 *       below the stored bound, and a reopened backend continues from the bound: every later
 *       version is greater than every version that can be stored, also after a crash.
 *   <li><b>Durability of the bound.</b> The bound is written at {@link Durability#FULL} (one sync
 *       per block of {@value #BLOCK} versions, nothing measurable beside the block's writes), so it
 *       is on stable storage before an entry carrying a version of its block is even built: no
 *       promise about the order in which an engine's batches survive a crash is needed at {@code
 *       normal} and {@code full}. At {@code none} it is written at {@code none} like everything
 *       (the engine need not honour more); what {@link Durability#NONE} allows a crash to lose is
 *       the most recent writes, never an older batch while a later one survives, so the bound,
 *       written before any entry of its block, survives whenever one of those entries does.
 *   <li><b>Order per key.</b> A version is taken under the key's write stripe (or the exclusive
 *       write gate: transactions), and the entry's batch is written before the stripe is released,
 *       so one key's versions increase in the order its writes are applied; different keys'
 *       versions interleave freely.
 *   <li><b>Imports</b> bring their own versions: the batch of the imported entries also writes a
 *       bound above the highest of them ({@link #writeAbove}), so later versions are above every
 *       imported one.
 *   <li><b>Data written before the sequence existed</b> (the bound absent, e.g. per-key versions
 *       counted from 1 by an older base): opening scans every key-value namespace once for the
 *       highest version stored, a page at a time with a progress line every 2^20 entries, then
 *       writes the bound above it (at {@code FULL}). The scan writes nothing, so a crash during it
 *       redoes it at the next open. A fresh engine gets the bound 1.
 *   <li><b>Read-only opens</b> (the engine refuses every write) read nothing and write nothing
 *       here: taking a version throws {@link ReadOnlyBackendException}, before the engine is asked.
 *   <li>Data written again by a Cairn older than the sequence (a downgrade) counts versions per key
 *       from the stored ones; a key written there more often than the rest of the current block
 *       holds can carry a version above the stored bound, which the next open trusts. Reopen such
 *       data after deleting the {@code next-version} record to have it scanned again.
 * </ul>
 */
final class VersionSequence {
  private static final Logger LOG = LoggerFactory.getLogger(VersionSequence.class);

  /** Versions reserved per bound write. */
  static final long BLOCK = 1 << 16;

  /**
   * Highest version an import may bring: the sequence goes on above it, in blocks, so it leaves
   * room for 2^62 later versions (as the RocksDB backend's importer did).
   */
  static final long MAX_IMPORTED = Long.MAX_VALUE / 2;

  static final byte[] KEY = "next-version".getBytes(StandardCharsets.US_ASCII);

  private static final long PROGRESS_EVERY = 1 << 20;

  private final EngineBackend b;
  private final boolean readOnly;
  private final long block;
  private final AtomicLong next;
  private volatile long limit; // exclusive bound stored in the engine
  private final Object lock = new Object(); // held while a bound is written

  private VersionSequence(EngineBackend b, boolean readOnly, long start, long block) {
    this.b = b;
    this.readOnly = readOnly;
    this.block = block;
    this.next = new AtomicLong(start);
    this.limit = start; // the first version taken reserves a fresh block
  }

  /** A sequence that refuses to hand out versions: the backend was opened read-only. */
  static VersionSequence readOnly(EngineBackend b) {
    return new VersionSequence(b, true, 1, BLOCK);
  }

  /**
   * Reads the stored bound, or (absent) finds the highest stored version and writes the bound above
   * it. Called once while the backend opens, before anything else can write.
   */
  static VersionSequence open(EngineBackend b) {
    return open(b, BLOCK);
  }

  /** As {@link #open(EngineBackend)}, reserving {@code block} versions at a time (tests). */
  static VersionSequence open(EngineBackend b, long block) {
    byte[] raw = b.engine().get(ExpiryIndex.META, KEY);
    if (raw != null) {
      return new VersionSequence(b, false, decode(b, raw), block);
    }
    long start = highestStored(b) + 1;
    b.engine().write(List.of(boundWrite(b, start)), b.importDurability());
    return new VersionSequence(b, false, start, block);
  }

  /**
   * The next version. Caller holds the write stripe of the key it is for (or the exclusive write
   * gate), and writes the entry before releasing it.
   */
  long next() {
    refuseIfReadOnly();
    long v = next.getAndIncrement();
    if (v < 1 || v > Long.MAX_VALUE - 2 * BLOCK) {
      // only after 2^62 versions above the highest import (MAX_IMPORTED): never in practice
      throw new StorageEngineException(
          b
              + ": the backend-wide version sequence is exhausted (next version "
              + v
              + "); nothing was written. Export the data and import it into a new backend"
              + " (imports keep their versions: re-number them first).",
          null);
    }
    if (v >= limit) {
      reserve(v);
    }
    return v;
  }

  /** Writes bounds until {@code v} is below the stored one (other threads may have done it). */
  private void reserve(long v) {
    synchronized (lock) {
      while (v >= limit) {
        long bound = Math.max(limit, v + 1) + block;
        b.engine().write(List.of(boundWrite(b, bound)), b.importDurability());
        limit = bound;
      }
    }
  }

  /**
   * Writes {@code batch} (imported entries with versions up to {@code highest}) at {@code
   * durability} with a bound above them in the same batch, and moves the sequence past them. Holds
   * the block lock while writing, so no reservation writes a bound in between that this one would
   * lower.
   */
  void writeAbove(List<StorageEngine.Write> batch, long highest, Durability durability) {
    refuseIfReadOnly();
    synchronized (lock) {
      long bound = Math.max(limit, highest + 1);
      List<StorageEngine.Write> all = new ArrayList<>(batch.size() + 1);
      all.addAll(batch);
      all.add(boundWrite(b, bound));
      b.engine().write(all, durability);
      next.accumulateAndGet(highest + 1, Math::max);
      limit = bound;
    }
  }

  private void refuseIfReadOnly() {
    if (readOnly) {
      throw new ReadOnlyBackendException(
          b
              + " was opened with read-only = true: no version is handed out and nothing was"
              + " written. Open it without read-only to write.");
    }
  }

  private static StorageEngine.Write boundWrite(EngineBackend b, long bound) {
    ByteBuffer body = b.frame.begin(RecordFrame.SEQUENCE, 8).putLong(bound);
    return new StorageEngine.Write(ExpiryIndex.META, KEY, b.frame.end(body, ExpiryIndex.META, KEY));
  }

  private static long decode(EngineBackend b, byte[] raw) {
    String where = "the version bound";
    ByteBuffer body = b.frame.open(RecordFrame.SEQUENCE, ExpiryIndex.META, KEY, raw, where);
    if (body.remaining() != 8) {
      throw b.frame.corrupt(ExpiryIndex.META, where, "has the wrong length");
    }
    long bound = body.getLong();
    if (bound < 1) {
      throw b.frame.corrupt(ExpiryIndex.META, where, "is " + bound + " (must be >= 1)");
    }
    return bound;
  }

  /** The highest version of any entry of any key-value namespace, 0 if none. */
  private static long highestStored(EngineBackend b) {
    long started = System.nanoTime();
    long highest = 0;
    long scanned = 0;
    for (StoreId id : b.engine().stores()) {
      if (id.kind() != StoreKind.KEY_VALUE || ExpiryIndex.reserved(id)) {
        continue;
      }
      BaseKeyValueStore store = b.kvStore(id.name());
      byte[] from = new byte[0];
      while (true) {
        List<StorageEngine.Record> page = b.engine().range(id, from, null, EngineBackend.page());
        for (StorageEngine.Record r : page) {
          try {
            highest = Math.max(highest, store.decode(r.key(), r.value()).version());
          } catch (StoreCorruptedException e) {
            // reads refuse it and verify reports it; a put over it replaces it
            LOG.warn("{} (skipped while finding the highest version)", e.getMessage());
          }
        }
        long before = scanned;
        scanned += page.size();
        if (scanned / PROGRESS_EVERY != before / PROGRESS_EVERY) {
          LOG.info("{}: version sequence: {} entries scanned so far", b, scanned);
        }
        if (page.size() < EngineBackend.page()) {
          break;
        }
        from = BaseKeyValueStore.successor(page.get(page.size() - 1).key());
      }
    }
    if (scanned > 0) {
      LOG.info(
          "{}: found the highest version once (data written before the version sequence): {} of"
              + " {} entries, in {} ms",
          b,
          highest,
          scanned,
          (System.nanoTime() - started) / 1_000_000);
    }
    return highest;
  }
}
