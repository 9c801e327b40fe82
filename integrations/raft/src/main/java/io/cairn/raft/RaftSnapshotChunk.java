package io.cairn.raft;

import java.util.Arrays;

/**
 * One chunk of a snapshot that covers the log up to {@code index}. A snapshot has {@code
 * chunkCount} chunks numbered from 0; they may arrive in any order (a follower receives them from
 * several peers).
 *
 * @param index the last log index the snapshot covers, {@code >= 1}
 * @param term the term of the entry at {@code index}
 * @param chunkIndex this chunk's number, {@code 0 <= chunkIndex < chunkCount}
 * @param chunkCount how many chunks the snapshot has, {@code >= 1}
 * @param data the Raft library's encoding of the chunk (not copied)
 */
public record RaftSnapshotChunk(
    long index, long term, int chunkIndex, int chunkCount, byte[] data) {
  public RaftSnapshotChunk {
    if (index < 1 || term < 0) {
      throw new IllegalArgumentException(
          "Snapshot index must be >= 1 and term >= 0, got index " + index + ", term " + term);
    }
    if (chunkCount < 1 || chunkIndex < 0 || chunkIndex >= chunkCount) {
      throw new IllegalArgumentException(
          "Snapshot chunk "
              + chunkIndex
              + " of "
              + chunkCount
              + " at index "
              + index
              + " is out of range: need 0 <= chunkIndex < chunkCount");
    }
    if (data == null) {
      throw new NullPointerException("data of snapshot chunk " + chunkIndex + " at " + index);
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RaftSnapshotChunk c
        && c.index == index
        && c.term == term
        && c.chunkIndex == chunkIndex
        && c.chunkCount == chunkCount
        && Arrays.equals(c.data, data);
  }

  @Override
  public int hashCode() {
    return (Long.hashCode(index) * 31 + chunkIndex) * 31 + Arrays.hashCode(data);
  }

  @Override
  public String toString() {
    return "RaftSnapshotChunk[index="
        + index
        + ", term="
        + term
        + ", chunk "
        + chunkIndex
        + "/"
        + chunkCount
        + ", "
        + data.length
        + " bytes]";
  }
}
