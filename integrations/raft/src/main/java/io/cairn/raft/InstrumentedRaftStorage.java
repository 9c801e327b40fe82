package io.cairn.raft;

import com.codahale.metrics.Gauge;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.Timer;
import io.cairn.persistence.Durability;
import java.util.List;

/**
 * Times every state-changing call of a {@link KeyValueRaftStorage} and publishes its sizes:
 *
 * <ul>
 *   <li>{@code cairn.raft-groups.<group>.persist}: timer over every call that writes (each is one
 *       commit at the backend's durability, so this is the persist latency Raft waits for);
 *   <li>{@code cairn.raft-groups.<group>.log-entries}: gauge, live log entries;
 *   <li>{@code cairn.raft-groups.<group>.snapshot-bytes}: gauge, data bytes of the visible
 *       snapshot.
 * </ul>
 *
 * The gauges read one key each when sampled. Opening the same group again replaces its gauges.
 */
final class InstrumentedRaftStorage implements RaftStorage {
  private final KeyValueRaftStorage delegate;
  private final Timer persist;

  InstrumentedRaftStorage(KeyValueRaftStorage delegate, MetricRegistry metrics) {
    this.delegate = delegate;
    String prefix = RaftSettings.RAFT + "." + delegate.group() + ".";
    this.persist = metrics.timer(prefix + "persist");
    metrics.remove(prefix + "log-entries");
    metrics.register(prefix + "log-entries", (Gauge<Long>) delegate::logEntries);
    metrics.remove(prefix + "snapshot-bytes");
    metrics.register(prefix + "snapshot-bytes", (Gauge<Long>) delegate::snapshotBytes);
  }

  private void timed(Runnable call) {
    try (Timer.Context ignored = persist.time()) {
      call.run();
    }
  }

  @Override
  public String group() {
    return delegate.group();
  }

  @Override
  public Durability durability() {
    return delegate.durability();
  }

  @Override
  public void persistLocalEndpoint(byte[] endpoint) {
    timed(() -> delegate.persistLocalEndpoint(endpoint));
  }

  @Override
  public void persistMembership(byte[] membership) {
    timed(() -> delegate.persistMembership(membership));
  }

  @Override
  public void persistTerm(long term, byte[] votedFor) {
    timed(() -> delegate.persistTerm(term, votedFor));
  }

  @Override
  public void append(List<RaftEntry> entries) {
    timed(() -> delegate.append(entries));
  }

  @Override
  public void truncateFrom(long index) {
    timed(() -> delegate.truncateFrom(index));
  }

  @Override
  public void truncateUntil(long index) {
    timed(() -> delegate.truncateUntil(index));
  }

  @Override
  public void persistSnapshotChunk(RaftSnapshotChunk chunk) {
    timed(() -> delegate.persistSnapshotChunk(chunk));
  }

  @Override
  public void deleteSnapshotChunks(long index) {
    timed(() -> delegate.deleteSnapshotChunks(index));
  }

  @Override
  public RaftState restore() {
    return delegate.restore();
  }
}
