package io.cairn.persistence.spi;

import com.codahale.metrics.health.HealthCheck;
import io.cairn.persistence.Durability;
import io.cairn.persistence.Progress;
import io.cairn.persistence.StoreId;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedSet;

/**
 * The narrow SPI: the primitives a storage engine offers, and all a backend built on {@link
 * EngineBackend} writes. The engine is an ordered map of byte-array keys to byte-array values per
 * store ({@link StoreId}); {@link EngineBackend} lays every key-value entry, log record, log
 * position and snapshot chunk out as such records and owns every rule above them (argument and name
 * checks, closed state, TTL and expiry, versions, offsets, checksum framing, chunked snapshot
 * streaming, sealing for {@link Encryption}, transactions).
 *
 * <h2>Rules every engine must follow</h2>
 *
 * <ul>
 *   <li><b>Ordering.</b> Keys of one store are ordered by {@link Bytes#UNSIGNED}. Keys are 0 to
 *       {@value #MAX_KEY_BYTES} bytes (the empty key is used); values are any length the caller
 *       writes (the base keeps them within the documented caps).
 *   <li><b>Store names.</b> Any {@link StoreId} the base passes is stored and listed like any
 *       other, also names starting with {@code _} (up to 136 characters): the base's own stores
 *       (its expiry index, see {@link EngineBackend}), which it hides from users itself.
 *   <li><b>Atomic batches.</b> {@link #write} applies all its puts and deletes or none, also across
 *       a crash. A concurrent {@link #get} or {@link #range} sees all of a batch or none of it, and
 *       one that starts after {@link #write} returned sees the batch (the base reads a version or a
 *       log position it has just written, from any thread).
 *   <li><b>Durability.</b> When {@link #write} returns, the batch is as durable as {@code
 *       durability} says ({@link Durability}), and so is every batch whose {@link #write} returned
 *       before this one was called (a later write at {@code FULL} makes the earlier ones durable
 *       too: the base relies on this for snapshot chunks written before their manifest, always by
 *       one thread, one after the other). Between batches written concurrently (calls that overlap
 *       in time, only if {@link #concurrentWrites()}) nothing is promised: a crash may keep either
 *       or both. An engine that cannot honour a durability must not be opened with it: the provider
 *       refuses (e.g. {@code ConfigurationException}). An engine opened at {@code normal} or {@code
 *       full} must honour {@code FULL} for any single batch: the base writes some of its own at
 *       {@code FULL} whatever the backend's level (its markers, imports, and the bound of its
 *       version sequence, once per block of versions: see {@code VersionSequence}). At {@code none}
 *       the base asks for nothing more than {@code NONE}, and relies on what {@link
 *       Durability#NONE} says a crash loses: the most recent writes, never an older batch while a
 *       later one (one whose {@link #write} was called after the older returned) survives.
 *   <li><b>Thread safety.</b> Every method may be called from any thread at any time before {@link
 *       #close()}. The base calls {@link #get} and {@link #range} concurrently with each other and
 *       with writes. Writes: if {@link #concurrentWrites()} is false (the default), the base makes
 *       one {@link #write} at a time; if true, it calls {@link #write} from several threads at once
 *       (see there).
 *   <li><b>Arrays.</b> The engine must not keep or modify arrays passed to it after the call
 *       returns, except those of a {@link Write} it stores (they are the base's private copies);
 *       arrays it returns belong to the caller.
 *   <li><b>Errors.</b> Engine failures are translated in one place of the engine to {@link
 *       io.cairn.persistence.StorageEngineException} (I/O, disk full, engine error) or {@link
 *       io.cairn.persistence.StoreCorruptedException} (the engine's own checks failed), each naming
 *       the backend and the file or store. A write that throws wrote nothing, or (for a failure
 *       while committing) is indistinguishable from a crash just before it returned.
 *   <li><b>Close.</b> {@link #close()} is called once, after every operation of the base has ended;
 *       it releases files, locks, handles and threads. The base never calls the engine afterwards.
 * </ul>
 *
 * <p>What the engine does <em>not</em> do: check arguments or store names, track closed state for
 * callers, know about TTLs, versions, offsets, snapshot sets, transactions or encryption (its own
 * optional {@link #snapshot()} is a consistent read view, unrelated to snapshot sets). Those rules
 * are written once, in {@link EngineBackend}.
 */
public interface StorageEngine extends AutoCloseable {
  /** Longest key the base passes: a user key of 4096 bytes plus the base's framing. */
  int MAX_KEY_BYTES = 4096 + 32;

  /** One stored record of a store, as {@link #range} returns it. */
  record Record(byte[] key, byte[] value) {
    public Record {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(value, "value");
    }

    @Override
    public String toString() {
      return "Record[key=" + key.length + " bytes, value=" + value.length + " bytes]";
    }
  }

  /** One put ({@code value} not null) or delete ({@code value} null) of a batch. */
  record Write(StoreId store, byte[] key, byte[] value) {
    public Write {
      Objects.requireNonNull(store, "store");
      Objects.requireNonNull(key, "key");
    }

    /** Whether this write deletes {@link #key()}. */
    public boolean isDelete() {
      return value == null;
    }

    @Override
    public String toString() {
      return (value == null ? "Delete[" : "Put[")
          + store
          + ", key="
          + key.length
          + " bytes"
          + (value == null ? "" : ", value=" + value.length + " bytes")
          + "]";
    }
  }

  /** The value stored under {@code key} in {@code store}, or {@code null} if there is none. */
  byte[] get(StoreId store, byte[] key);

  /**
   * Up to {@code limit} records of {@code store} with {@code fromInclusive <= key < toExclusive}
   * ({@code toExclusive} {@code null} = unbounded), in increasing {@link Bytes#UNSIGNED} order.
   * Each call is one consistent read: it sees each batch all or none (a point-in-time view does; so
   * does a map whose one-record writes land during the call, each whole). The base pages through
   * larger ranges itself, resuming after the last key it received, so the engine never holds a
   * cursor for a caller.
   *
   * @param limit at least 1
   */
  List<Record> range(StoreId store, byte[] fromInclusive, byte[] toExclusive, int limit);

  /**
   * Applies {@code batch} atomically and durably per {@code durability} (see the rules above). An
   * empty batch is never passed. Later writes in the batch win over earlier ones of the same key.
   * Called by one thread at a time unless {@link #concurrentWrites()}.
   */
  void write(List<Write> batch, Durability durability);

  /**
   * Whether {@link #write} may be called from several threads at once. Default {@code false}: the
   * base then makes one write at a time (an engine written before this method existed stays correct
   * unchanged). Say {@code true} only if concurrent calls of {@link #write} are safe and each stays
   * atomic for readers and across a crash; the base then orders its writes itself, per key, per log
   * and per snapshot set ({@code WriteOrder}), and promises:
   *
   * <ul>
   *   <li>two batches in flight at once never write the same (store, key): the base has already
   *       decided every version, offset and manifest, so the engine needs no read-modify-write and
   *       no ordering of its own between concurrent batches;
   *   <li>batches that need an order (a log's appends, a snapshot's chunks and then its manifest, a
   *       transaction against everything) are written one after the other: the next is built only
   *       after the previous {@link #write} returned;
   *   <li>{@link #snapshot()}, {@link #checkpoint}, {@link #verify} and {@link #compact} may run
   *       while writes are in flight, as before (checkpoint: the base holds the write gate
   *       exclusively, so no write of the base is in flight).
   * </ul>
   *
   * An engine that writes under one lock of its own (a map guarded by one mutex) may say {@code
   * true}: its writes still follow each other, but the base's work around them (framing, sealing,
   * reading the current version) then runs in parallel. Must not change while open.
   */
  default boolean concurrentWrites() {
    return false;
  }

  /** Every store that holds at least one record, sorted. */
  SortedSet<StoreId> stores();

  /**
   * Whether the engine checksums every record itself and reports a damaged one as {@link
   * io.cairn.persistence.StoreCorruptedException} (RocksDB block checksums, for example). If not
   * (the default), the base frames every value with a CRC-32C over the store, key and value and
   * checks it on every read. Must not change between opens of the same data.
   */
  default boolean checksumsRecords() {
    return false;
  }

  /**
   * Adds to {@code problems} what the engine's own checks find (page checksums, structure, files).
   * Read-only, safe while in use. The base has already checked its own invariants (gap-free logs,
   * record checksums, snapshot checksums).
   */
  default void verify(List<String> problems, Progress progress) {}

  /** Reclaims space (vacuum, compaction). The base has already purged expired entries. */
  default void compact(Progress progress) {}

  /**
   * Writes a consistent copy of the whole engine into {@code target} (empty or absent) while in
   * use. Only engines whose backend declares {@link io.cairn.persistence.Capability#CHECKPOINT}.
   */
  default void checkpoint(Path target, Progress progress) {
    throw new UnsupportedOperationException("this engine cannot take online checkpoints");
  }

  /** Bytes the engine occupies on disk, or -1 if not known. */
  default long diskBytes() {
    return -1;
  }

  /** Engine facts for operators, shown in {@link io.cairn.persistence.BackendStats}. */
  default Map<String, String> properties() {
    return Map.of();
  }

  /** A quick, non-blocking liveness check; {@code null} for "nothing to report" (healthy). */
  default HealthCheck.Result health() {
    return null;
  }

  /**
   * A read-only view of one consistent state of the engine, for {@link
   * io.cairn.persistence.StorageBackend#readTransaction} (see {@link #snapshot()}).
   *
   * <p>Contract:
   *
   * <ul>
   *   <li><b>What it sees.</b> {@link #get} and {@link #range} (same meaning as the engine's) see
   *       exactly the batches {@link StorageEngine#write} applied before {@link #snapshot()}
   *       returned: all of a batch or none of it (the atomic-batch rule, held across the whole life
   *       of the snapshot, all stores together). Batches written later are never seen.
   *   <li><b>Writers.</b> An open snapshot never makes {@link StorageEngine#write} fail, and never
   *       makes it wait beyond what the engine documents for {@link #snapshot()}; its reads never
   *       wait for a write.
   *   <li><b>Threads.</b> The base uses a snapshot from one thread at a time (the thread running
   *       the read transaction), concurrently with the engine's other methods and other snapshots.
   *   <li><b>Arrays</b> returned belong to the caller, as for the engine.
   *   <li><b>Close.</b> The base calls {@link #close()} exactly once, when the read transaction
   *       ends, possibly after the engine's {@link StorageEngine#close()} (then it does nothing).
   *       Close releases what the snapshot pins (versions, copies); reads after close are not made
   *       by the base (an engine may throw {@link IllegalStateException}).
   * </ul>
   */
  interface Snapshot extends AutoCloseable {
    /** The value under {@code key} in {@code store} in this snapshot, or {@code null}. */
    byte[] get(StoreId store, byte[] key);

    /** As {@link StorageEngine#range}, over this snapshot. */
    List<Record> range(StoreId store, byte[] fromInclusive, byte[] toExclusive, int limit);

    /** Releases the snapshot; idempotent. */
    @Override
    void close();
  }

  /**
   * Whether this engine offers {@link #snapshot()}; a backend built on {@link EngineBackend} then
   * declares {@link io.cairn.persistence.Capability#SNAPSHOT_READS}. Must not change while open.
   */
  default boolean offersSnapshots() {
    return false;
  }

  /**
   * A consistent read-only view of the engine as of now (see {@link Snapshot} for the contract).
   * Called by the base from any thread, concurrently with every other method, only if {@link
   * #offersSnapshots()}. Each engine documents what taking one costs and whom it makes wait.
   *
   * @throws UnsupportedOperationException if the engine does not offer snapshots
   */
  default Snapshot snapshot() {
    throw new UnsupportedOperationException("this engine offers no snapshots");
  }

  /** Releases everything; called once, after the last operation. */
  @Override
  void close();
}
