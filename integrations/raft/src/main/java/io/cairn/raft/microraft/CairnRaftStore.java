package io.cairn.raft.microraft;

import io.cairn.raft.RaftEntry;
import io.cairn.raft.RaftSnapshotChunk;
import io.cairn.raft.RaftState;
import io.cairn.raft.RaftStorage;
import io.microraft.RaftEndpoint;
import io.microraft.model.RaftModelFactory;
import io.microraft.model.impl.DefaultRaftModelFactory;
import io.microraft.model.log.LogEntry;
import io.microraft.model.log.RaftGroupMembersView;
import io.microraft.model.log.SnapshotChunk;
import io.microraft.model.log.SnapshotEntry;
import io.microraft.model.persistence.RaftEndpointPersistentState;
import io.microraft.model.persistence.RaftTermPersistentState;
import io.microraft.persistence.RaftStore;
import io.microraft.persistence.RaftStoreSerializer;
import io.microraft.persistence.RestoredRaftState;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * MicroRaft's {@link RaftStore} on a Cairn {@link RaftStorage}, and the matching loader {@link
 * #restore}. MicroRaft's objects are encoded with the application's {@link RaftStoreSerializer} (it
 * alone knows the endpoint and operation types).
 *
 * <h2>Durability</h2>
 *
 * {@link #persistLogEntries} buffers in memory; {@link #flush()} appends the buffer as one batch
 * (one commit). Every other call first writes the buffer, then its own change, so storage sees the
 * calls in MicroRaft's order. When {@code flush} or a {@code persistAndFlush…} method returns, the
 * data is as durable as the backend's durability ({@code full}: power loss, {@code normal}: process
 * crash). A node on a {@code none} backend must not be restarted from its storage.
 *
 * <h2>Errors and threads</h2>
 *
 * Any failure of the storage (including a violated Raft invariant, e.g. a term going backwards) is
 * thrown as an {@link IOException} carrying the Cairn exception as its cause, so MicroRaft treats
 * it as a storage failure. MicroRaft calls a store from its node's single thread; this class is
 * nevertheless safe to call from any thread (methods are synchronised).
 */
public final class CairnRaftStore implements RaftStore {
  private final RaftStorage storage;
  private final RaftStoreSerializer serializer;
  private final List<RaftEntry> pending = new ArrayList<>();

  public CairnRaftStore(RaftStorage storage, RaftStoreSerializer serializer) {
    this.storage = Objects.requireNonNull(storage, "storage");
    this.serializer = Objects.requireNonNull(serializer, "serializer");
  }

  /**
   * Reads the state MicroRaft needs to restart the node, with {@link DefaultRaftModelFactory}.
   *
   * @return the restored state, or {@code null} if the local endpoint was never persisted (a node
   *     that never started: build it with its endpoint and initial members instead)
   * @throws io.cairn.persistence.StoreCorruptedException if the stored state is damaged or lacks
   *     the membership or term MicroRaft always persists before it appends
   */
  public static RestoredRaftState restore(RaftStorage storage, RaftStoreSerializer serializer) {
    return restore(storage, serializer, new DefaultRaftModelFactory());
  }

  /** As {@link #restore(RaftStorage, RaftStoreSerializer)} with the given model factory. */
  public static RestoredRaftState restore(
      RaftStorage storage, RaftStoreSerializer serializer, RaftModelFactory factory) {
    RaftState state = storage.restore();
    if (state.localEndpoint().isEmpty()) {
      return null;
    }
    RaftEndpointPersistentState endpoint =
        serializer.raftEndpointPersistentStateSerializer().deserialize(state.localEndpoint().get());
    RaftGroupMembersView members =
        serializer
            .raftGroupMembersViewSerializer()
            .deserialize(
                state
                    .membership()
                    .orElseThrow(
                        () ->
                            new io.cairn.persistence.StoreCorruptedException(
                                "Raft group '"
                                    + storage.group()
                                    + "': the local endpoint is stored but the initial members"
                                    + " are not; MicroRaft persists both before starting. Remove"
                                    + " the group's stores and let the node rejoin")));
    RaftEndpoint votedFor =
        state.votedFor().map(v -> serializer.raftEndpointSerializer().deserialize(v)).orElse(null);
    RaftTermPersistentState term =
        factory
            .createRaftTermPersistentStateBuilder()
            .setTerm(Math.toIntExact(state.term()))
            .setVotedFor(votedFor)
            .build();
    SnapshotEntry snapshot = null;
    long snapshotIndex = 0;
    if (state.snapshot().isPresent()) {
      RaftState.Snapshot s = state.snapshot().get();
      List<SnapshotChunk> chunks = new ArrayList<>(s.chunks().size());
      for (byte[] c : s.chunks()) {
        chunks.add(serializer.snapshotChunkSerializer().deserialize(c));
      }
      snapshot =
          factory
              .createSnapshotEntryBuilder()
              .setIndex(s.index())
              .setTerm(Math.toIntExact(s.term()))
              .setSnapshotChunks(chunks)
              .setGroupMembersView(chunks.get(0).getGroupMembersView())
              .build();
      snapshotIndex = s.index();
    }
    List<LogEntry> entries = new ArrayList<>();
    for (RaftEntry e : state.entries()) {
      if (e.index() > snapshotIndex) {
        entries.add(serializer.logEntrySerializer().deserialize(e.payload()));
      }
    }
    return new RestoredRaftState(endpoint, members, term, snapshot, entries);
  }

  /** The Cairn storage underneath. */
  public RaftStorage storage() {
    return storage;
  }

  @Override
  public synchronized void persistAndFlushLocalEndpoint(RaftEndpointPersistentState state)
      throws IOException {
    run(
        () ->
            storage.persistLocalEndpoint(
                serializer.raftEndpointPersistentStateSerializer().serialize(state)));
  }

  @Override
  public synchronized void persistAndFlushInitialGroupMembers(RaftGroupMembersView members)
      throws IOException {
    run(
        () ->
            storage.persistMembership(
                serializer.raftGroupMembersViewSerializer().serialize(members)));
  }

  @Override
  public synchronized void persistAndFlushTerm(RaftTermPersistentState state) throws IOException {
    RaftEndpoint vote = state.getVotedFor();
    run(
        () ->
            storage.persistTerm(
                state.getTerm(),
                vote == null ? null : serializer.raftEndpointSerializer().serialize(vote)));
  }

  @Override
  public synchronized void persistLogEntries(List<LogEntry> logEntries) {
    for (LogEntry e : logEntries) {
      pending.add(
          new RaftEntry(e.getIndex(), e.getTerm(), serializer.logEntrySerializer().serialize(e)));
    }
  }

  @Override
  public synchronized void persistSnapshotChunk(SnapshotChunk chunk) throws IOException {
    byte[] data = serializer.snapshotChunkSerializer().serialize(chunk);
    run(
        () ->
            storage.persistSnapshotChunk(
                new RaftSnapshotChunk(
                    chunk.getIndex(),
                    chunk.getTerm(),
                    chunk.getSnapshotChunkIndex(),
                    chunk.getSnapshotChunkCount(),
                    data)));
  }

  @Override
  public synchronized void truncateLogEntriesFrom(long logIndexInclusive) throws IOException {
    run(() -> storage.truncateFrom(logIndexInclusive));
  }

  @Override
  public synchronized void truncateLogEntriesUntil(long logIndexInclusive) throws IOException {
    run(() -> storage.truncateUntil(logIndexInclusive));
  }

  @Override
  public synchronized void deleteSnapshotChunks(long logIndex, int snapshotChunkCount)
      throws IOException {
    run(() -> storage.deleteSnapshotChunks(logIndex));
  }

  @Override
  public synchronized void flush() throws IOException {
    run(() -> {});
  }

  /** Writes the buffered entries, then {@code change}; Cairn failures become IOExceptions. */
  private void run(Runnable change) throws IOException {
    try {
      if (!pending.isEmpty()) {
        storage.append(List.copyOf(pending));
        pending.clear();
      }
      change.run();
    } catch (RuntimeException e) {
      throw new IOException(
          "Cairn storage of Raft group '" + storage.group() + "' failed: " + e.getMessage(), e);
    }
  }
}
