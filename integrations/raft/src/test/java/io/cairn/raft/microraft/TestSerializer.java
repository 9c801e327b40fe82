package io.cairn.raft.microraft;

import io.microraft.RaftEndpoint;
import io.microraft.model.RaftModelFactory;
import io.microraft.model.impl.DefaultRaftModelFactory;
import io.microraft.model.log.LogEntry;
import io.microraft.model.log.RaftGroupMembersView;
import io.microraft.model.log.SnapshotChunk;
import io.microraft.model.persistence.RaftEndpointPersistentState;
import io.microraft.model.persistence.RaftTermPersistentState;
import io.microraft.persistence.RaftStoreSerializer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * What an application supplies: encodings of MicroRaft's model objects for its endpoint type
 * ({@link TestEndpoint}) and operation type ({@link String}).
 */
final class TestSerializer implements RaftStoreSerializer {
  private final RaftModelFactory factory = new DefaultRaftModelFactory();

  record TestEndpoint(String id) implements RaftEndpoint {
    @Override
    public Object getId() {
      return id;
    }
  }

  private interface Writer<T> {
    void write(DataOutputStream out, T value) throws IOException;
  }

  private interface Reader<T> {
    T read(DataInputStream in) throws IOException;
  }

  private static <T> Serializer<T> of(Writer<T> w, Reader<T> r) {
    return new Serializer<>() {
      @Override
      public byte[] serialize(T value) {
        try {
          ByteArrayOutputStream bytes = new ByteArrayOutputStream();
          DataOutputStream out = new DataOutputStream(bytes);
          w.write(out, value);
          out.flush();
          return bytes.toByteArray();
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }

      @Override
      public T deserialize(byte[] data) {
        try {
          DataInputStream in = new DataInputStream(new ByteArrayInputStream(data));
          T value = r.read(in);
          if (in.available() != 0) {
            throw new IllegalArgumentException(in.available() + " trailing bytes");
          }
          return value;
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
    };
  }

  static void writeEndpoint(DataOutputStream out, RaftEndpoint e) throws IOException {
    out.writeUTF((String) e.getId());
  }

  static RaftEndpoint readEndpoint(DataInputStream in) throws IOException {
    return new TestEndpoint(in.readUTF());
  }

  static void writeOp(DataOutputStream out, Object op) throws IOException {
    if (!(op instanceof String s)) {
      throw new IllegalArgumentException("Test operations are Strings, got " + op);
    }
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    out.writeInt(b.length);
    out.write(b);
  }

  static String readOp(DataInputStream in) throws IOException {
    byte[] b = new byte[in.readInt()];
    in.readFully(b);
    return new String(b, StandardCharsets.UTF_8);
  }

  private static void writeEndpoints(DataOutputStream out, Collection<RaftEndpoint> es)
      throws IOException {
    out.writeInt(es.size());
    for (RaftEndpoint e : es) {
      writeEndpoint(out, e);
    }
  }

  private static List<RaftEndpoint> readEndpoints(DataInputStream in) throws IOException {
    int n = in.readInt();
    List<RaftEndpoint> es = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      es.add(readEndpoint(in));
    }
    return es;
  }

  private void writeMembers(DataOutputStream out, RaftGroupMembersView v) throws IOException {
    out.writeLong(v.getLogIndex());
    writeEndpoints(out, v.getMembers());
    writeEndpoints(out, v.getVotingMembers());
  }

  private RaftGroupMembersView readMembers(DataInputStream in) throws IOException {
    return factory
        .createRaftGroupMembersViewBuilder()
        .setLogIndex(in.readLong())
        .setMembers(readEndpoints(in))
        .setVotingMembers(readEndpoints(in))
        .build();
  }

  @Override
  public Serializer<RaftGroupMembersView> raftGroupMembersViewSerializer() {
    return of(this::writeMembers, this::readMembers);
  }

  @Override
  public Serializer<RaftEndpoint> raftEndpointSerializer() {
    return of(TestSerializer::writeEndpoint, TestSerializer::readEndpoint);
  }

  @Override
  public Serializer<LogEntry> logEntrySerializer() {
    return of(
        (out, e) -> {
          out.writeLong(e.getIndex());
          out.writeInt(e.getTerm());
          writeOp(out, e.getOperation());
        },
        in ->
            factory
                .createLogEntryBuilder()
                .setIndex(in.readLong())
                .setTerm(in.readInt())
                .setOperation(readOp(in))
                .build());
  }

  @Override
  public Serializer<SnapshotChunk> snapshotChunkSerializer() {
    return of(
        (out, c) -> {
          out.writeLong(c.getIndex());
          out.writeInt(c.getTerm());
          out.writeInt(c.getSnapshotChunkIndex());
          out.writeInt(c.getSnapshotChunkCount());
          writeMembers(out, c.getGroupMembersView());
          writeOp(out, c.getOperation());
        },
        in ->
            factory
                .createSnapshotChunkBuilder()
                .setIndex(in.readLong())
                .setTerm(in.readInt())
                .setSnapshotChunkIndex(in.readInt())
                .setSnapshotChunkCount(in.readInt())
                .setGroupMembersView(readMembers(in))
                .setOperation(readOp(in))
                .build());
  }

  @Override
  public Serializer<RaftEndpointPersistentState> raftEndpointPersistentStateSerializer() {
    return of(
        (out, s) -> {
          writeEndpoint(out, s.getLocalEndpoint());
          out.writeBoolean(s.isVoting());
        },
        in ->
            factory
                .createRaftEndpointPersistentStateBuilder()
                .setLocalEndpoint(readEndpoint(in))
                .setVoting(in.readBoolean())
                .build());
  }

  @Override
  public Serializer<RaftTermPersistentState> raftTermPersistentState() {
    return of(
        (out, s) -> {
          out.writeInt(s.getTerm());
          out.writeBoolean(s.getVotedFor() != null);
          if (s.getVotedFor() != null) {
            writeEndpoint(out, s.getVotedFor());
          }
        },
        in -> {
          var b = factory.createRaftTermPersistentStateBuilder().setTerm(in.readInt());
          if (in.readBoolean()) {
            b.setVotedFor(readEndpoint(in));
          }
          return b.build();
        });
  }
}
