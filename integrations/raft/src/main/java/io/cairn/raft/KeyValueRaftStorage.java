package io.cairn.raft;

import io.cairn.persistence.CloseableIterator;
import io.cairn.persistence.Durability;
import io.cairn.persistence.Entry;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import io.cairn.persistence.Transaction;
import io.cairn.persistence.spi.ArgumentChecks;
import io.cairn.persistence.spi.Bytes;
import io.cairn.persistence.spi.Checksums;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * {@link RaftStorage} on three key-value namespaces of one backend.
 *
 * <h2>Layout (format 1)</h2>
 *
 * <pre>
 * raft.&lt;group&gt;.meta     "endpoint"  -> endpoint bytes as given
 *                       "members"   -> membership bytes as given
 *                       "term"      -> 01 | term:8 | hasVote:1 | vote bytes
 *                       "log"       -> 01 | compactedUntil:8 | last:8
 *                       "snapshot"  -> 01 | index:8 | term:8 | chunkCount:4 | dataBytes:8 (visible)
 * raft.&lt;group&gt;.log      index:8                -> 01 | term:8 | payload
 * raft.&lt;group&gt;.chunks   index:8 | chunkIndex:4 -> 01 | term:8 | chunkCount:4 | data
 * </pre>
 *
 * Integers are big-endian, so keys sort by index (indexes are positive). A {@link
 * io.cairn.persistence.LogStore} is not used because a Raft log reuses an index after a suffix
 * truncation, which a LogStore forbids; a SnapshotStore is not used because snapshot chunks arrive
 * out of order from several peers and completing a snapshot must commit together with the metadata.
 *
 * <h2>Recovery rules</h2>
 *
 * The live log is exactly the keys in {@code (compactedUntil, last]} of the {@code "log"} record.
 * Every change of those bounds commits in one {@link StorageBackend#inTransaction} with the entry
 * writes it implies, so a crash leaves either the old or the new log. Deleting the entries that
 * fell outside the bounds is cleanup: up to {@value #DELETE_BATCH} happen in that same transaction,
 * the rest in further transactions; entries a crash left outside the bounds are invisible (restore
 * reads only inside them, and an append overwrites each index it reuses) and are deleted on the
 * next open ({@link #inspect}, the read-only view, counts them instead). A key missing inside the
 * bounds is damage and restore throws {@link StoreCorruptedException} naming the store and index.
 * The visible snapshot is the one the {@code "snapshot"} record names; it is written in the same
 * transaction as its last chunk.
 *
 * <h2>Durability</h2>
 *
 * Each public call is one transaction (plus cleanup), so it returns at the backend's durability: a
 * call that returned on a {@code full} backend survives power loss, on {@code normal} a process
 * crash.
 */
final class KeyValueRaftStorage implements RaftStorage {
  static final int DELETE_BATCH = 1000;
  private static final byte FORMAT = 1;
  private static final byte[] K_ENDPOINT = ascii("endpoint");
  private static final byte[] K_MEMBERS = ascii("members");
  private static final byte[] K_TERM = ascii("term");
  private static final byte[] K_LOG = ascii("log");
  private static final byte[] K_SNAPSHOT = ascii("snapshot");

  private final StorageBackend backend;
  private final String group;
  private final String metaName;
  private final String logName;
  private final String chunksName;

  private final int maxChunkBytes;

  KeyValueRaftStorage(StorageBackend backend, String group) {
    this(backend, group, RaftSettings.MAX_CHUNK);
  }

  KeyValueRaftStorage(StorageBackend backend, String group, int maxChunkBytes) {
    this(backend, group, maxChunkBytes, true);
  }

  /**
   * @param cleanup whether to delete the entries a crash left outside the bounds now (a normal
   *     open); {@code false} for the read-only {@link #inspect} view, which writes nothing
   */
  private KeyValueRaftStorage(
      StorageBackend backend, String group, int maxChunkBytes, boolean cleanup) {
    this.maxChunkBytes = maxChunkBytes;
    this.backend = Objects.requireNonNull(backend, "backend");
    ArgumentChecks.check("Raft group", Objects.requireNonNull(group, "group"));
    if (group.length() > 100) {
      throw new IllegalArgumentException(
          "Raft group name '" + group + "' is longer than 100 characters");
    }
    this.group = group;
    this.metaName = "raft." + group + ".meta";
    this.logName = "raft." + group + ".log";
    this.chunksName = "raft." + group + ".chunks";
    if (cleanup) {
      synchronized (this) {
        removeEntriesOutsideBounds();
      }
    }
  }

  private static final String PREFIX = "raft.";
  private static final List<String> SUFFIXES = List.of(".meta", ".log", ".chunks");

  /** Names of the groups with at least one of their stores on {@code backend}; reads only. */
  static SortedSet<String> storedGroups(StorageBackend backend) {
    SortedSet<String> out = new TreeSet<>();
    for (StoreId id : backend.stores()) {
      if (id.kind() != StoreKind.KEY_VALUE || !id.name().startsWith(PREFIX)) {
        continue;
      }
      for (String suffix : SUFFIXES) {
        if (id.name().endsWith(suffix) && id.name().length() > PREFIX.length() + suffix.length()) {
          out.add(id.name().substring(PREFIX.length(), id.name().length() - suffix.length()));
        }
      }
    }
    return out;
  }

  /**
   * The read-only view behind {@link RaftStorage#inspect}: reads only stores that exist (looking up
   * a missing one could create it), runs no cleanup, and reports damage in {@link
   * RaftInspection#problems()} instead of throwing, so an operator sees everything readable.
   */
  static RaftInspection inspect(StorageBackend backend, String group, int lastEntries) {
    if (lastEntries < 0) {
      throw new IllegalArgumentException("lastEntries must be >= 0, got " + lastEntries);
    }
    KeyValueRaftStorage r = new KeyValueRaftStorage(backend, group, RaftSettings.MAX_CHUNK, false);
    Set<StoreId> stores = backend.stores();
    boolean hasMeta = stores.contains(new StoreId(StoreKind.KEY_VALUE, r.metaName));
    boolean hasLog = stores.contains(new StoreId(StoreKind.KEY_VALUE, r.logName));
    boolean hasChunks = stores.contains(new StoreId(StoreKind.KEY_VALUE, r.chunksName));
    if (!hasMeta && !hasLog && !hasChunks) {
      throw new IllegalArgumentException(
          "no Raft group '"
              + group
              + "' is stored on backend '"
              + backend.name()
              + "' (no store "
              + r.metaName
              + "); groups stored there: "
              + storedGroups(backend));
    }
    synchronized (r) {
      return r.inspectStored(hasMeta, hasLog, hasChunks, lastEntries);
    }
  }

  private RaftInspection inspectStored(
      boolean hasMeta, boolean hasLog, boolean hasChunks, int lastEntries) {
    List<String> problems = new ArrayList<>();
    Optional<byte[]> endpoint = Optional.empty();
    Optional<byte[]> members = Optional.empty();
    Term term = new Term(0, null);
    Bounds bounds = new Bounds(0, 0);
    Optional<SnapshotMeta> visible = Optional.empty();
    if (hasMeta) {
      endpoint = Optional.ofNullable(meta().get(K_ENDPOINT));
      members = Optional.ofNullable(meta().get(K_MEMBERS));
      try {
        term = readTerm();
      } catch (StoreCorruptedException e) {
        problems.add(e.getMessage());
      }
      try {
        bounds = readBounds();
      } catch (StoreCorruptedException e) {
        problems.add(e.getMessage() + "; the live log bounds are unknown, every entry is listed");
        bounds = null;
      }
      try {
        visible = readSnapshotMeta();
      } catch (StoreCorruptedException e) {
        problems.add(e.getMessage());
      }
    } else {
      problems.add(
          "Raft group '"
              + group
              + "': store "
              + metaName
              + " is missing (term, vote, log bounds and snapshot record) while "
              + (hasLog ? logName : chunksName)
              + " exists");
    }
    java.util.ArrayDeque<RaftInspection.EntrySummary> last = new java.util.ArrayDeque<>();
    long count = 0;
    long payload = 0;
    long stale = 0;
    long expected = bounds == null ? -1 : bounds.compactedUntil + 1;
    if (hasLog) {
      try (CloseableIterator<Entry> it = log().scan(null, null)) {
        while (it.hasNext()) {
          Entry e = it.next();
          long index;
          RaftEntry entry;
          try {
            index = decodeIndex(logName, e.key());
            if (bounds != null && (index <= bounds.compactedUntil || index > bounds.last)) {
              stale++;
              continue;
            }
            entry = decodeEntry(index, e.value());
          } catch (StoreCorruptedException ex) {
            problems.add(ex.getMessage());
            continue;
          }
          if (bounds != null && index != expected) {
            problems.add(missing(logName, gap(expected, index - 1), bounds).getMessage());
          }
          expected = index + 1;
          count++;
          payload += entry.payload().length;
          last.addLast(
              new RaftInspection.EntrySummary(
                  index, entry.term(), entry.payload().length, Checksums.crc32c(entry.payload())));
          if (last.size() > lastEntries) {
            last.removeFirst();
          }
        }
      }
    }
    if (bounds != null && expected <= bounds.last) {
      problems.add(missing(logName, gap(expected, bounds.last), bounds).getMessage());
    }
    List<RaftInspection.SnapshotSummary> snapshots =
        hasChunks ? inspectChunks(visible, problems) : new ArrayList<>();
    if (visible.isPresent()
        && snapshots.stream().noneMatch(RaftInspection.SnapshotSummary::visible)) {
      SnapshotMeta m = visible.get();
      problems.add(
          "Raft group '"
              + group
              + "': the snapshot record names snapshot "
              + m.index
              + " ("
              + m.chunkCount
              + " chunks) but store "
              + chunksName
              + " holds none of its chunks");
      snapshots.add(new RaftInspection.SnapshotSummary(m.index, m.term, m.chunkCount, 0, 0, true));
    }
    long compacted = bounds == null ? 0 : bounds.compactedUntil;
    return new RaftInspection(
        group,
        backend.name(),
        backend.durability(),
        endpoint,
        members,
        term.term,
        Optional.ofNullable(term.vote),
        compacted,
        bounds == null ? Math.max(compacted, expected - 1) : bounds.last,
        count,
        payload,
        List.copyOf(last),
        stale,
        List.copyOf(snapshots),
        List.copyOf(problems));
  }

  private static String gap(long from, long to) {
    return from == to ? "log entry " + from : "log entries " + from + ".." + to;
  }

  /** Every snapshot with chunks stored, by index; damage goes to {@code problems}. */
  private List<RaftInspection.SnapshotSummary> inspectChunks(
      Optional<SnapshotMeta> visible, List<String> problems) {
    java.util.TreeMap<Long, long[]> byIndex = new java.util.TreeMap<>(); // term, count, n, bytes
    try (CloseableIterator<Entry> it = backend.keyValue(chunksName).scan(null, null)) {
      while (it.hasNext()) {
        Entry e = it.next();
        if (e.key().length != 12) {
          problems.add(
              "Raft group '"
                  + group
                  + "': store "
                  + chunksName
                  + " holds a key of "
                  + e.key().length
                  + " bytes ("
                  + Bytes.toDisplay(e.key())
                  + "); chunk keys are index:8 | chunk:4");
          continue;
        }
        ByteBuffer k = ByteBuffer.wrap(e.key());
        long index = k.getLong();
        int chunkIndex = k.getInt();
        ChunkHeader h;
        try {
          h = decodeChunkHeader(index, chunkIndex, e.value());
        } catch (StoreCorruptedException ex) {
          problems.add(ex.getMessage());
          continue;
        }
        long[] s = byIndex.computeIfAbsent(index, i -> new long[] {h.term, h.chunkCount, 0, 0});
        if (s[0] != h.term || s[1] != h.chunkCount) {
          problems.add(
              "Raft group '"
                  + group
                  + "': chunk "
                  + chunkIndex
                  + " of snapshot "
                  + index
                  + " in store "
                  + chunksName
                  + " has term "
                  + h.term
                  + " and "
                  + h.chunkCount
                  + " chunks, other chunks of it term "
                  + s[0]
                  + " and "
                  + s[1]);
        }
        s[2]++;
        s[3] += e.value().length - ChunkHeader.LENGTH;
      }
    }
    List<RaftInspection.SnapshotSummary> out = new ArrayList<>();
    for (Map.Entry<Long, long[]> e : byIndex.entrySet()) {
      long[] s = e.getValue();
      boolean isVisible = visible.isPresent() && visible.get().index == e.getKey();
      if (isVisible && (s[2] != visible.get().chunkCount || s[0] != visible.get().term)) {
        problems.add(
            "Raft group '"
                + group
                + "': the visible snapshot "
                + e.getKey()
                + " (term "
                + visible.get().term
                + ", "
                + visible.get().chunkCount
                + " chunks) has "
                + s[2]
                + " chunks of term "
                + s[0]
                + " in store "
                + chunksName);
      }
      out.add(
          new RaftInspection.SnapshotSummary(
              e.getKey(), s[0], (int) s[1], (int) s[2], s[3], isVisible));
    }
    return out;
  }

  @Override
  public String group() {
    return group;
  }

  @Override
  public Durability durability() {
    return backend.durability();
  }

  @Override
  public synchronized void persistLocalEndpoint(byte[] endpoint) {
    meta().put(K_ENDPOINT, Objects.requireNonNull(endpoint, "endpoint"));
  }

  @Override
  public synchronized void persistMembership(byte[] membership) {
    meta().put(K_MEMBERS, Objects.requireNonNull(membership, "membership"));
  }

  @Override
  public synchronized void persistTerm(long term, byte[] votedFor) {
    if (term < 0) {
      throw new IllegalArgumentException(
          "Raft group '" + group + "': term must be >= 0, got " + term);
    }
    Term current = readTerm();
    if (term < current.term) {
      throw new IllegalArgumentException(
          "Raft group '"
              + group
              + "': term "
              + term
              + " is lower than the stored term "
              + current.term
              + "; a term never goes backwards");
    }
    if (term == current.term
        && current.vote != null
        && (votedFor == null || !Arrays.equals(votedFor, current.vote))) {
      throw new IllegalArgumentException(
          "Raft group '"
              + group
              + "': a vote is already stored for term "
              + term
              + "; it cannot be replaced or withdrawn in the same term");
    }
    ByteBuffer b = ByteBuffer.allocate(10 + (votedFor == null ? 0 : votedFor.length));
    b.put(FORMAT).putLong(term).put((byte) (votedFor == null ? 0 : 1));
    if (votedFor != null) {
      b.put(votedFor);
    }
    meta().put(K_TERM, b.array());
  }

  @Override
  public synchronized void append(List<RaftEntry> entries) {
    Objects.requireNonNull(entries, "entries");
    if (entries.isEmpty()) {
      return;
    }
    Bounds bounds = readBounds();
    long expected = bounds.last + 1;
    for (RaftEntry e : entries) {
      Objects.requireNonNull(e, "entry");
      if (e.index() != expected) {
        throw new IllegalArgumentException(
            "Raft group '"
                + group
                + "': append expected index "
                + expected
                + " but got "
                + e.index()
                + " (last index "
                + bounds.last
                + "); entries must be consecutive and continue the log; call truncateFrom("
                + e.index()
                + ") first to overwrite");
      }
      expected++;
    }
    long newLast = expected - 1;
    backend.inTransaction(
        tx -> {
          Transaction.KeyValueWriter log = tx.keyValue(logName);
          for (RaftEntry e : entries) {
            log.put(indexKey(e.index()), encodeEntry(e));
          }
          tx.keyValue(metaName).put(K_LOG, encodeBounds(bounds.compactedUntil, newLast));
          return null;
        });
  }

  @Override
  public synchronized void truncateFrom(long index) {
    Bounds bounds = readBounds();
    if (index <= bounds.compactedUntil) {
      throw new IllegalArgumentException(
          "Raft group '"
              + group
              + "': cannot truncate from index "
              + index
              + ": entries up to "
              + bounds.compactedUntil
              + " are compacted (committed) and can no longer be removed");
    }
    if (index > bounds.last) {
      return;
    }
    changeBounds(bounds.compactedUntil, index - 1, index, bounds.last);
  }

  @Override
  public synchronized void truncateUntil(long index) {
    Bounds bounds = readBounds();
    if (index <= bounds.compactedUntil) {
      return;
    }
    changeBounds(
        index,
        Math.max(bounds.last, index),
        bounds.compactedUntil + 1,
        Math.min(index, bounds.last));
  }

  @Override
  public synchronized void persistSnapshotChunk(RaftSnapshotChunk chunk) {
    Objects.requireNonNull(chunk, "chunk");
    if (chunk.data().length > maxChunkBytes) {
      throw new IllegalArgumentException(
          "Raft group '"
              + group
              + "': snapshot chunk "
              + chunk.chunkIndex()
              + " at index "
              + chunk.index()
              + " is "
              + chunk.data().length
              + " bytes, more than "
              + "snapshot-chunk-size ("
              + maxChunkBytes
              + " bytes, cairn.raft-groups."
              + group
              + ".snapshot-chunk-size); emit smaller chunks from the state machine or raise it");
    }
    Optional<SnapshotMeta> visible = readSnapshotMeta();
    if (visible.isPresent() && chunk.index() <= visible.get().index) {
      return; // an older (or the same, complete) snapshot: nothing to keep
    }
    Bounds bounds = readBounds();
    // Chunks of older snapshots, superseded if this one completes. Read before the transaction
    // (committed state; this instance's lock keeps it stable) so no store read runs inside it.
    List<byte[]> older = chunkKeys(null, chunkKey(chunk.index(), 0));
    // A snapshot ahead of the whole log (a follower that fell far behind): the entries it covers
    // are obsolete and the log continues after it, committed with the snapshot.
    boolean aheadOfLog = chunk.index() > bounds.last;
    long deleteFrom = bounds.compactedUntil + 1;
    long firstBatchEnd = Math.min(bounds.last, deleteFrom + DELETE_BATCH - 1);
    boolean completed =
        backend.inTransaction(
            tx -> {
              Transaction.KeyValueWriter chunks = tx.keyValue(chunksName);
              boolean complete = true;
              long dataBytes = chunk.data().length;
              for (int i = 0; i < chunk.chunkCount(); i++) {
                if (i == chunk.chunkIndex()) {
                  continue;
                }
                Optional<Entry> other = chunks.getEntry(chunkKey(chunk.index(), i));
                if (other.isEmpty()) {
                  complete = false;
                  continue;
                }
                ChunkHeader h = decodeChunkHeader(chunk.index(), i, other.get().value());
                dataBytes += other.get().value().length - ChunkHeader.LENGTH;
                if (h.term != chunk.term() || h.chunkCount != chunk.chunkCount()) {
                  throw new IllegalArgumentException(
                      "Raft group '"
                          + group
                          + "': snapshot chunk "
                          + chunk.chunkIndex()
                          + " at index "
                          + chunk.index()
                          + " has term "
                          + chunk.term()
                          + " and "
                          + chunk.chunkCount()
                          + " chunks, but chunk "
                          + i
                          + " stored has term "
                          + h.term
                          + " and "
                          + h.chunkCount
                          + " chunks; call deleteSnapshotChunks first");
                }
              }
              chunks.put(chunkKey(chunk.index(), chunk.chunkIndex()), encodeChunk(chunk));
              if (complete) {
                Transaction.KeyValueWriter meta = tx.keyValue(metaName);
                meta.put(
                    K_SNAPSHOT,
                    encodeSnapshotMeta(chunk.index(), chunk.term(), chunk.chunkCount(), dataBytes));
                older.forEach(chunks::delete);
                if (aheadOfLog) {
                  meta.put(K_LOG, encodeBounds(chunk.index(), chunk.index()));
                  Transaction.KeyValueWriter log = tx.keyValue(logName);
                  for (long i = deleteFrom; i <= firstBatchEnd; i++) {
                    log.delete(indexKey(i));
                  }
                }
              }
              return complete;
            });
    if (completed && aheadOfLog) {
      deleteLogRange(firstBatchEnd + 1, bounds.last);
    }
  }

  @Override
  public synchronized void deleteSnapshotChunks(long index) {
    Optional<SnapshotMeta> visible = readSnapshotMeta();
    if (visible.isPresent() && visible.get().index == index) {
      return;
    }
    List<byte[]> keys = chunkKeys(chunkKey(index, 0), Bytes.prefixUpperBound(indexKey(index)));
    backend.inTransaction(
        tx -> {
          keys.forEach(tx.keyValue(chunksName)::delete);
          return null;
        });
  }

  private List<byte[]> chunkKeys(byte[] from, byte[] to) {
    List<byte[]> keys = new ArrayList<>();
    try (CloseableIterator<Entry> it = backend.keyValue(chunksName).scan(from, to)) {
      while (it.hasNext()) {
        keys.add(it.next().key());
      }
    }
    return keys;
  }

  @Override
  public synchronized RaftState restore() {
    KeyValueStore meta = meta();
    Term term = readTerm();
    Bounds bounds = readBounds();
    List<RaftEntry> entries = new ArrayList<>();
    long expected = bounds.compactedUntil + 1;
    try (CloseableIterator<Entry> it =
        log().scan(indexKey(bounds.compactedUntil + 1), indexKeyEnd(bounds.last))) {
      while (it.hasNext()) {
        Entry e = it.next();
        long index = decodeIndex(logName, e.key());
        if (index != expected) {
          throw missing(logName, "log entry " + expected, bounds);
        }
        entries.add(decodeEntry(index, e.value()));
        expected++;
      }
    }
    if (expected != bounds.last + 1) {
      throw missing(logName, "log entry " + expected, bounds);
    }
    Optional<RaftState.Snapshot> snapshot = readSnapshotMeta().map(this::readSnapshot);
    return new RaftState(
        Optional.ofNullable(meta.get(K_ENDPOINT)),
        Optional.ofNullable(meta.get(K_MEMBERS)),
        term.term,
        Optional.ofNullable(term.vote),
        snapshot,
        bounds.compactedUntil,
        List.copyOf(entries));
  }

  /** Live log entries ({@code last - compactedUntil}); one key-value read. For metrics. */
  long logEntries() {
    Bounds b = readBounds();
    return b.last - b.compactedUntil;
  }

  /** Data bytes of the visible snapshot, 0 if none; one key-value read. For metrics. */
  long snapshotBytes() {
    return readSnapshotMeta().map(SnapshotMeta::dataBytes).orElse(0L);
  }

  // ---------------------------------------------------------------------------------------------

  /**
   * Commits new bounds and deletes the log keys in {@code [deleteFrom, deleteTo]} that fell outside
   * them: the first batch in the same transaction, the rest afterwards (see recovery rules).
   */
  private void changeBounds(long compactedUntil, long last, long deleteFrom, long deleteTo) {
    long firstBatchEnd = Math.min(deleteTo, deleteFrom + DELETE_BATCH - 1);
    backend.inTransaction(
        tx -> {
          tx.keyValue(metaName).put(K_LOG, encodeBounds(compactedUntil, last));
          Transaction.KeyValueWriter log = tx.keyValue(logName);
          for (long i = deleteFrom; i <= firstBatchEnd; i++) {
            log.delete(indexKey(i));
          }
          return null;
        });
    deleteLogRange(firstBatchEnd + 1, deleteTo);
  }

  private void deleteLogRange(long from, long to) {
    for (long start = from; start <= to; start += DELETE_BATCH) {
      long end = Math.min(to, start + DELETE_BATCH - 1);
      long s = start;
      backend.inTransaction(
          tx -> {
            Transaction.KeyValueWriter log = tx.keyValue(logName);
            for (long i = s; i <= end; i++) {
              log.delete(indexKey(i));
            }
            return null;
          });
    }
  }

  /** Deletes entries a crash left outside the live bounds (see recovery rules). */
  private void removeEntriesOutsideBounds() {
    Bounds bounds = readBounds();
    List<byte[]> stale = new ArrayList<>();
    try (CloseableIterator<Entry> it = log().scan(null, indexKey(bounds.compactedUntil + 1))) {
      while (it.hasNext()) {
        stale.add(it.next().key());
      }
    }
    try (CloseableIterator<Entry> it = log().scan(indexKeyEnd(bounds.last), null)) {
      while (it.hasNext()) {
        stale.add(it.next().key());
      }
    }
    for (int start = 0; start < stale.size(); start += DELETE_BATCH) {
      List<byte[]> batch = stale.subList(start, Math.min(stale.size(), start + DELETE_BATCH));
      backend.inTransaction(
          tx -> {
            Transaction.KeyValueWriter log = tx.keyValue(logName);
            batch.forEach(log::delete);
            return null;
          });
    }
  }

  private RaftState.Snapshot readSnapshot(SnapshotMeta m) {
    KeyValueStore chunks = backend.keyValue(chunksName);
    List<byte[]> data = new ArrayList<>(m.chunkCount);
    for (int i = 0; i < m.chunkCount; i++) {
      byte[] v = chunks.get(chunkKey(m.index, i));
      if (v == null) {
        throw new StoreCorruptedException(
            "Raft group '"
                + group
                + "': store "
                + chunksName
                + " lacks chunk "
                + i
                + " of "
                + m.chunkCount
                + " of the complete snapshot at index "
                + m.index
                + "; restore the backend from a backup or let the node catch up from a fresh"
                + " data directory");
      }
      ChunkHeader h = decodeChunkHeader(m.index, i, v);
      data.add(Arrays.copyOfRange(v, ChunkHeader.LENGTH, v.length));
      if (h.term != m.term || h.chunkCount != m.chunkCount) {
        throw new StoreCorruptedException(
            "Raft group '"
                + group
                + "': chunk "
                + i
                + " of snapshot "
                + m.index
                + " in store "
                + chunksName
                + " disagrees with the snapshot record (term "
                + h.term
                + " vs "
                + m.term
                + ", count "
                + h.chunkCount
                + " vs "
                + m.chunkCount
                + ")");
      }
    }
    return new RaftState.Snapshot(m.index, m.term, List.copyOf(data));
  }

  private StoreCorruptedException missing(String store, String what, Bounds bounds) {
    return new StoreCorruptedException(
        "Raft group '"
            + group
            + "': store "
            + store
            + " lacks "
            + what
            + " inside the live log ("
            + bounds.compactedUntil
            + ", "
            + bounds.last
            + "]; the log has a hole. Restore the"
            + " backend from a backup or let the node catch up from a fresh data directory");
  }

  private KeyValueStore meta() {
    return backend.keyValue(metaName);
  }

  private KeyValueStore log() {
    return backend.keyValue(logName);
  }

  private record Term(long term, byte[] vote) {}

  private record Bounds(long compactedUntil, long last) {}

  private record SnapshotMeta(long index, long term, int chunkCount, long dataBytes) {}

  private record ChunkHeader(long term, int chunkCount) {
    static final int LENGTH = 13;
  }

  private Term readTerm() {
    byte[] v = meta().get(K_TERM);
    if (v == null) {
      return new Term(0, null);
    }
    ByteBuffer b = checked(v, 10, "term");
    long term = b.getLong();
    byte hasVote = b.get();
    return new Term(term, hasVote == 0 ? null : Arrays.copyOfRange(v, 10, v.length));
  }

  private Bounds readBounds() {
    byte[] v = meta().get(K_LOG);
    if (v == null) {
      return new Bounds(0, 0);
    }
    ByteBuffer b = checked(v, 17, "log");
    long compacted = b.getLong();
    long last = b.getLong();
    if (compacted < 0 || last < compacted || v.length != 17) {
      throw corrupt("log", "bounds (" + compacted + ", " + last + "] are impossible");
    }
    return new Bounds(compacted, last);
  }

  private Optional<SnapshotMeta> readSnapshotMeta() {
    byte[] v = meta().get(K_SNAPSHOT);
    if (v == null) {
      return Optional.empty();
    }
    ByteBuffer b = checked(v, 29, "snapshot");
    return Optional.of(new SnapshotMeta(b.getLong(), b.getLong(), b.getInt(), b.getLong()));
  }

  private ByteBuffer checked(byte[] v, int minLength, String key) {
    if (v.length < minLength || v[0] != FORMAT) {
      throw corrupt(
          key,
          v.length < minLength
              ? "record is " + v.length + " bytes, expected at least " + minLength
              : "unknown format " + v[0] + " (this version reads format " + FORMAT + ")");
    }
    ByteBuffer b = ByteBuffer.wrap(v);
    b.get();
    return b;
  }

  private StoreCorruptedException corrupt(String key, String why) {
    return new StoreCorruptedException(
        "Raft group '" + group + "': store " + metaName + ", key '" + key + "': " + why);
  }

  private ChunkHeader decodeChunkHeader(long index, int chunkIndex, byte[] v) {
    if (v.length < ChunkHeader.LENGTH || v[0] != FORMAT) {
      throw new StoreCorruptedException(
          "Raft group '"
              + group
              + "': store "
              + chunksName
              + ", chunk "
              + chunkIndex
              + " of snapshot "
              + index
              + " has a bad header ("
              + v.length
              + " bytes, format "
              + (v.length > 0 ? v[0] : -1)
              + ")");
    }
    ByteBuffer b = ByteBuffer.wrap(v, 1, 12);
    return new ChunkHeader(b.getLong(), b.getInt());
  }

  private RaftEntry decodeEntry(long index, byte[] v) {
    if (v.length < 9 || v[0] != FORMAT) {
      throw new StoreCorruptedException(
          "Raft group '"
              + group
              + "': store "
              + logName
              + ", entry "
              + index
              + " has a bad header ("
              + v.length
              + " bytes)");
    }
    return new RaftEntry(
        index, ByteBuffer.wrap(v, 1, 8).getLong(), Arrays.copyOfRange(v, 9, v.length));
  }

  private long decodeIndex(String store, byte[] key) {
    if (key.length != 8) {
      throw new StoreCorruptedException(
          "Raft group '"
              + group
              + "': store "
              + store
              + " holds a key of "
              + key.length
              + " bytes ("
              + Bytes.toDisplay(key)
              + "); log keys are 8-byte indexes");
    }
    return ByteBuffer.wrap(key).getLong();
  }

  static byte[] indexKey(long index) {
    return ByteBuffer.allocate(8).putLong(index).array();
  }

  /** Exclusive scan end just after {@code index}. */
  private static byte[] indexKeyEnd(long index) {
    return index == Long.MAX_VALUE ? null : indexKey(index + 1);
  }

  private static byte[] chunkKey(long index, int chunk) {
    return ByteBuffer.allocate(12).putLong(index).putInt(chunk).array();
  }

  private static byte[] encodeEntry(RaftEntry e) {
    return ByteBuffer.allocate(9 + e.payload().length)
        .put(FORMAT)
        .putLong(e.term())
        .put(e.payload())
        .array();
  }

  private static byte[] encodeChunk(RaftSnapshotChunk c) {
    return ByteBuffer.allocate(ChunkHeader.LENGTH + c.data().length)
        .put(FORMAT)
        .putLong(c.term())
        .putInt(c.chunkCount())
        .put(c.data())
        .array();
  }

  private static byte[] encodeBounds(long compactedUntil, long last) {
    return ByteBuffer.allocate(17).put(FORMAT).putLong(compactedUntil).putLong(last).array();
  }

  private static byte[] encodeSnapshotMeta(long index, long term, int chunkCount, long dataBytes) {
    return ByteBuffer.allocate(29)
        .put(FORMAT)
        .putLong(index)
        .putLong(term)
        .putInt(chunkCount)
        .putLong(dataBytes)
        .array();
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }
}
