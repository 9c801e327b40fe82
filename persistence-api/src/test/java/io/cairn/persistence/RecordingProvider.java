package io.cairn.persistence;

import io.cairn.persistence.spi.BackendContext;
import io.cairn.persistence.spi.StorageBackendProvider;
import java.util.List;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Test provider (type {@code recording}) whose backends only record when they open and close. A
 * backend whose name starts with {@code fail} refuses to open. Stores are not offered: these tests
 * are about the registry's lifecycle, and the TCK covers stores.
 */
public final class RecordingProvider implements StorageBackendProvider {
  static final List<String> EVENTS = new CopyOnWriteArrayList<>();

  @Override
  public String type() {
    return "recording";
  }

  @Override
  public StorageBackend open(BackendContext context) {
    if (context.name().startsWith("fail")) {
      EVENTS.add("refuse " + context.name());
      throw new StorageEngineException("refusing to open " + context.describe(), null);
    }
    EVENTS.add("open " + context.name());
    return new StorageBackend() {
      @Override
      public String name() {
        return context.name();
      }

      @Override
      public String type() {
        return "recording";
      }

      @Override
      public Durability durability() {
        return context.durability();
      }

      @Override
      public Set<Capability> capabilities() {
        return Set.of();
      }

      @Override
      public KeyValueStore keyValue(String namespace) {
        throw new UnsupportedOperationException();
      }

      @Override
      public LogStore log(String name) {
        throw new UnsupportedOperationException();
      }

      @Override
      public SnapshotStore snapshots(String name) {
        throw new UnsupportedOperationException();
      }

      @Override
      public <T> T inTransaction(Transaction.Work<T> work) {
        throw new UnsupportedOperationException();
      }

      @Override
      public SortedSet<StoreId> stores() {
        return new TreeSet<>();
      }

      @Override
      public BackendStats stats() {
        return new BackendStats(name(), type(), List.of(), -1, java.util.Map.of());
      }

      @Override
      public VerifyReport verify(Progress progress) {
        return new VerifyReport(name(), 0, List.of());
      }

      @Override
      public void compact(Progress progress) {}

      @Override
      public void close() {
        EVENTS.add("close " + context.name());
      }
    };
  }
}
