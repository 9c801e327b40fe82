package io.cairn.raft;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Everything {@link RaftStorage#restore()} read back: exactly the state the acknowledged writes
 * left, with truncated entries and incomplete snapshots left out.
 *
 * @param localEndpoint the bytes last given to {@link RaftStorage#persistLocalEndpoint}, if any
 * @param membership the bytes last given to {@link RaftStorage#persistMembership}, if any
 * @param term the highest term persisted, 0 if none
 * @param votedFor the vote cast in {@code term}, if any
 * @param snapshot the newest complete snapshot, if any
 * @param compactedUntil entries up to and including this index were removed by {@link
 *     RaftStorage#truncateUntil}; 0 if none
 * @param entries the live log, consecutive indexes from {@code compactedUntil + 1}. Entries at or
 *     below the snapshot's index may be present (compaction is the caller's choice)
 */
public record RaftState(
    Optional<byte[]> localEndpoint,
    Optional<byte[]> membership,
    long term,
    Optional<byte[]> votedFor,
    Optional<Snapshot> snapshot,
    long compactedUntil,
    List<RaftEntry> entries) {

  /** Index of the last live entry, or {@code compactedUntil} if the log is empty. */
  public long lastIndex() {
    return entries.isEmpty() ? compactedUntil : entries.get(entries.size() - 1).index();
  }

  /**
   * A complete snapshot: all its chunks, in chunk order.
   *
   * @param index last log index covered
   * @param term term of the entry at {@code index}
   * @param chunks the chunks' data, {@code chunks.get(i)} is chunk {@code i}
   */
  public record Snapshot(long index, long term, List<byte[]> chunks) {
    /** Total bytes of the chunks' data. */
    public long sizeBytes() {
      return chunks.stream().mapToLong(c -> c.length).sum();
    }

    @Override
    public boolean equals(Object o) {
      if (!(o instanceof Snapshot s)
          || s.index != index
          || s.term != term
          || s.chunks.size() != chunks.size()) {
        return false;
      }
      for (int i = 0; i < chunks.size(); i++) {
        if (!Arrays.equals(chunks.get(i), s.chunks.get(i))) {
          return false;
        }
      }
      return true;
    }

    @Override
    public int hashCode() {
      return Long.hashCode(index) * 31 + chunks.size();
    }

    @Override
    public String toString() {
      return "Snapshot[index="
          + index
          + ", term="
          + term
          + ", "
          + chunks.size()
          + " chunks, "
          + sizeBytes()
          + " bytes]";
    }
  }
}
