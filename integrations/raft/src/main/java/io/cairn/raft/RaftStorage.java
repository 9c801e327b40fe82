package io.cairn.raft;

import io.cairn.persistence.Durability;
import io.cairn.persistence.StorageBackend;
import java.util.List;

/**
 * The persistent state of one Raft node of one group, on any Cairn {@link StorageBackend}: term and
 * vote, local endpoint, membership, the log with suffix truncation and prefix compaction, and
 * chunked snapshots. Library-neutral: identities and entries are opaque bytes the Raft library
 * encodes (see {@link io.cairn.raft.microraft} for MicroRaft).
 *
 * <h2>Contract</h2>
 *
 * <ul>
 *   <li><b>Durability.</b> Every method that changes state returns only once the change is as
 *       durable as the backend's {@link Durability}: at {@code full} it survives power loss, at
 *       {@code normal} a process crash ({@code kill -9}), at {@code none} nothing. There is no
 *       separate flush: each call is its own commit, so batch entries into one {@link #append}. A
 *       call that throws did not happen, except that a failure while committing may be
 *       indistinguishable from a crash just before it returned (the change may or may not be there
 *       after a restart, never half of it).
 *   <li><b>Atomicity.</b> Each call is all-or-nothing across a crash: an {@link #append} batch is
 *       there entirely or not at all; a truncation never leaves a log with a hole or with a
 *       truncated entry visible; a snapshot becomes visible only when its last chunk is stored.
 *   <li><b>Restore.</b> {@link #restore()} (on this or a new instance over the same backend and
 *       group, also after a restart) returns exactly the acknowledged state.
 *   <li><b>Safety checks.</b> Calls that would break Raft's invariants throw {@link
 *       IllegalArgumentException} (or {@link IllegalStateException}) naming the group, the
 *       offending index or term and the current one, and change nothing: a term lower than the
 *       stored one, a second different vote in one term, an append that does not continue the log,
 *       a truncation below the compacted prefix.
 *   <li><b>Thread safety.</b> All methods may be called from any thread; writes are serialised per
 *       instance. Use one instance per group per backend; two instances writing the same group
 *       concurrently are not supported (Raft has one writer per node anyway).
 *   <li><b>Errors.</b> As the backend's stores: {@link io.cairn.persistence.BackendClosedException}
 *       after close, {@link io.cairn.persistence.StoreCorruptedException} when stored state fails a
 *       check (naming the store and index), {@link io.cairn.persistence.StorageEngineException} for
 *       engine failures. {@code null} arguments throw {@link NullPointerException}.
 * </ul>
 */
public interface RaftStorage {

  /**
   * Opens (creating on first use) the storage of Raft group {@code group} on {@code backend}. The
   * group name becomes part of store names, so it follows store-name rules and is at most 100
   * characters.
   */
  static RaftStorage open(StorageBackend backend, String group) {
    return new KeyValueRaftStorage(backend, group);
  }

  /**
   * Opens the storage of {@code group} on the registry's backend {@code backend}, with metrics in
   * the registry's {@link com.codahale.metrics.MetricRegistry}: timer {@code
   * cairn.raft-groups.<group>.persist} (every writing call), gauges {@code
   * cairn.raft-groups.<group>.log-entries} and {@code cairn.raft-groups.<group>.snapshot-bytes},
   * and the health check {@code cairn.raft-groups.<group>}.
   *
   * @throws IllegalArgumentException if the registry has no backend {@code backend} (from {@link
   *     io.cairn.persistence.PersistenceRegistry#backend})
   */
  static RaftStorage open(
      io.cairn.persistence.PersistenceRegistry registry, String backend, String group) {
    return instrumented(registry, new KeyValueRaftStorage(registry.backend(backend), group));
  }

  /**
   * Opens the storage of {@code group} as configured under {@code cairn.raft-groups.<group>} (or
   * the deprecated {@code cairn.raft.<group>}; {@code cairn.raft-defaults} when the group is not
   * listed): on its {@code backend}, with its {@code snapshot-chunk-size}, and with the metrics of
   * {@link #open(io.cairn.persistence.PersistenceRegistry, String, String)}.
   *
   * @throws io.cairn.persistence.ConfigurationException naming every bad setting of the group
   */
  static RaftStorage open(io.cairn.persistence.PersistenceRegistry registry, String group) {
    RaftSettings s = RaftGroups.settings(registry.config(), group);
    return instrumented(
        registry,
        new KeyValueRaftStorage(registry.backend(s.backend()), group, s.snapshotChunkSize()));
  }

  /** With metrics and the group's health check in the registry's registries. */
  private static RaftStorage instrumented(
      io.cairn.persistence.PersistenceRegistry registry, KeyValueRaftStorage storage) {
    RaftHealth.register(registry.healthChecks(), storage);
    return new InstrumentedRaftStorage(storage, registry.metrics());
  }

  /**
   * Reads what is stored for {@code group} on {@code backend} without changing anything: unlike
   * {@link #open(StorageBackend, String)} it does not delete the entries a crash left outside the
   * live log (it counts them), creates no store, and reports damage in {@link
   * RaftInspection#problems()} rather than throwing. Entry payloads and snapshot data are
   * summarised (sizes, CRC-32C), never returned. The backend's own open (its recovery) is not part
   * of this; the caller opened it. Do not run it against a backend a live node is writing: the
   * values read are each committed state, but not one consistent moment.
   *
   * @param lastEntries how many of the last live entries to summarise
   * @throws IllegalArgumentException if none of the group's stores exists on the backend (the
   *     message lists the groups that do)
   */
  static RaftInspection inspect(StorageBackend backend, String group, int lastEntries) {
    return KeyValueRaftStorage.inspect(backend, group, lastEntries);
  }

  /** The names of the Raft groups with state stored on {@code backend}, sorted; reads only. */
  static java.util.SortedSet<String> storedGroups(StorageBackend backend) {
    return KeyValueRaftStorage.storedGroups(backend);
  }

  /** The group name. */
  String group();

  /** The backend's durability, which every acknowledged call has. */
  Durability durability();

  /** Stores the local node's identity (library encoding), replacing any earlier one. */
  void persistLocalEndpoint(byte[] endpoint);

  /** Stores the group membership (library encoding), replacing any earlier one. */
  void persistMembership(byte[] membership);

  /**
   * Stores the current term and the vote cast in it ({@code null}: none yet).
   *
   * @throws IllegalArgumentException if {@code term} is lower than the stored term, or equal to it
   *     while a different (or no) vote would replace a vote already stored for that term
   */
  void persistTerm(long term, byte[] votedFor);

  /**
   * Appends consecutive entries. The first must have index {@code lastIndex() + 1}, where the last
   * index is that of the last live entry, or the compacted prefix's end when the log is empty.
   * Entries of one call commit together. An empty list does nothing.
   *
   * @throws IllegalArgumentException if the indexes do not continue the log; to overwrite entries
   *     call {@link #truncateFrom} first
   */
  void append(List<RaftEntry> entries);

  /**
   * Removes the entries with index {@code >= index} (a new leader overwrote this node's uncommitted
   * tail); the next append continues at {@code index}. Beyond the last entry it does nothing.
   *
   * @throws IllegalArgumentException if {@code index <= compactedUntil} (compacted entries are
   *     committed and can no longer be removed)
   */
  void truncateFrom(long index);

  /**
   * Removes the entries with index {@code <= index} (prefix compaction after a snapshot). If {@code
   * index} is beyond the last entry the log becomes empty and continues at {@code index + 1} (a
   * follower that installed a leader's snapshot). Lower than an earlier compaction: nothing
   * happens.
   */
  void truncateUntil(long index);

  /**
   * Stores one snapshot chunk. When the last missing chunk of a snapshot arrives, in the same
   * commit that snapshot becomes the visible one (if newer than the visible one) and the chunks of
   * older snapshots are deleted; if the snapshot is beyond the last entry, the log is emptied and
   * continues at its index + 1, as after {@link #truncateUntil}. Chunks of a snapshot not newer
   * than the visible one are ignored.
   *
   * @throws IllegalArgumentException if a chunk of that snapshot index is stored with another term
   *     or chunk count, or the chunk is larger than the group's {@code snapshot-chunk-size}
   */
  void persistSnapshotChunk(RaftSnapshotChunk chunk);

  /**
   * Deletes the stored chunks of the incomplete snapshot at {@code index} (the library abandoned
   * it). The complete, visible snapshot is never deleted this way.
   */
  void deleteSnapshotChunks(long index);

  /** Reads back the acknowledged state. Reads the whole live log into memory. */
  RaftState restore();
}
