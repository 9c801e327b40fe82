package io.cairn.raft;

import java.util.Arrays;

/**
 * One Raft log entry as {@link RaftStorage} stores it: its index (from 1), the term it was created
 * in, and the library's encoded entry. The payload array is not copied; callers must not change it
 * after handing it over.
 *
 * @param index position in the log, {@code >= 1}
 * @param term the term of the leader that created the entry, {@code >= 0}
 * @param payload the Raft library's encoding of the entry, never {@code null}
 */
public record RaftEntry(long index, long term, byte[] payload) {
  public RaftEntry {
    if (index < 1) {
      throw new IllegalArgumentException("Raft log index must be >= 1, got " + index);
    }
    if (term < 0) {
      throw new IllegalArgumentException("Raft term must be >= 0, got " + term);
    }
    if (payload == null) {
      throw new NullPointerException("payload of Raft entry " + index);
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RaftEntry e
        && e.index == index
        && e.term == term
        && Arrays.equals(e.payload, payload);
  }

  @Override
  public int hashCode() {
    return Long.hashCode(index) * 31 + Arrays.hashCode(payload);
  }

  @Override
  public String toString() {
    return "RaftEntry[index=" + index + ", term=" + term + ", " + payload.length + " bytes]";
  }
}
