package io.cairn.raft;

import io.cairn.persistence.Durability;
import java.util.List;
import java.util.Optional;

/**
 * What {@link RaftStorage#inspect} found stored for one Raft group, for operators: the persistent
 * state without entry payloads or snapshot data (sizes and checksums instead), plus what a normal
 * open would clean up and any damage found. Reading it changed nothing.
 *
 * @param group the group name
 * @param backend the backend's name
 * @param durability the backend's durability
 * @param localEndpoint the stored local endpoint (library encoding), if any
 * @param membership the stored initial membership (library encoding), if any
 * @param term the stored term (0 if never persisted)
 * @param votedFor the vote stored for {@code term}, if any
 * @param compactedUntil the end of the compacted prefix; the first live index is one more
 * @param lastIndex the last live index ({@code compactedUntil} when the log is empty)
 * @param entryCount live entries found (equals {@code lastIndex - compactedUntil} unless damaged)
 * @param payloadBytes total payload bytes of the live entries
 * @param lastEntries the last live entries, oldest first, summarised
 * @param staleEntries entries outside the live bounds that a crash left behind; invisible, and
 *     deleted by the next normal open
 * @param snapshots every snapshot with chunks stored, by index: the visible one and incomplete ones
 * @param problems damage found (a hole in the live log, a bad record or header), empty if none
 */
public record RaftInspection(
    String group,
    String backend,
    Durability durability,
    Optional<byte[]> localEndpoint,
    Optional<byte[]> membership,
    long term,
    Optional<byte[]> votedFor,
    long compactedUntil,
    long lastIndex,
    long entryCount,
    long payloadBytes,
    List<EntrySummary> lastEntries,
    long staleEntries,
    List<SnapshotSummary> snapshots,
    List<String> problems) {

  /** The first live index (there may be no entry there when the log is empty). */
  public long firstIndex() {
    return compactedUntil + 1;
  }

  /**
   * One log entry without its payload.
   *
   * @param index the entry's index
   * @param term the entry's term
   * @param payloadBytes the payload's length
   * @param crc32c CRC-32C of the payload: compare nodes without printing payloads
   */
  public record EntrySummary(long index, long term, int payloadBytes, long crc32c) {}

  /**
   * One snapshot's stored chunks.
   *
   * @param index the snapshot's log index
   * @param term the snapshot's term
   * @param chunkCount chunks the snapshot has
   * @param chunksStored chunks found
   * @param dataBytes data bytes of the chunks found
   * @param visible whether this is the snapshot a restore returns; otherwise it is incomplete
   *     (still arriving, or abandoned) and invisible
   */
  public record SnapshotSummary(
      long index, long term, int chunkCount, int chunksStored, long dataBytes, boolean visible) {}
}
