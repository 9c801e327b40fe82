package io.cairn.backend.postgres;

import io.cairn.persistence.Entry;
import io.cairn.persistence.StoreKind;
import io.cairn.persistence.Transaction;
import io.cairn.persistence.spi.ArgumentChecks;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The view given to {@link PostgresBackend#inTransaction} work: every operation runs on the one
 * connection of the transaction, through the same statements as the stores ({@code *In} methods).
 * Valid only inside the work, on its thread; after the work returns or throws, every use throws
 * {@link IllegalStateException}.
 */
final class PostgresTransaction implements Transaction {
  private final PostgresBackend backend;
  private final Connection c;
  private final Thread owner = Thread.currentThread();
  private boolean done;

  PostgresTransaction(PostgresBackend backend, Connection c) {
    this.backend = backend;
    this.c = c;
  }

  void end() {
    done = true;
  }

  private void check() {
    if (done || Thread.currentThread() != owner) {
      throw new IllegalStateException(
          "This transaction view is valid only inside its inTransaction() work and on the thread"
              + " running it");
    }
  }

  /** Runs {@code w} on the transaction's connection, translating engine errors. */
  private <T> T run(String op, Object where, PostgresPool.SqlWork<T> w) {
    check();
    try {
      return w.run(c);
    } catch (SQLException e) {
      throw backend.errors().translate(e, "transaction " + op, where, false);
    }
  }

  @Override
  public KeyValueWriter keyValue(String namespace) {
    check();
    ArgumentChecks.check(StoreKind.KEY_VALUE, namespace);
    return new KeyValueWriter() {
      @Override
      public Optional<Entry> getEntry(byte[] key) {
        ArgumentChecks.checkKey(key);
        long now = backend.clock().millis();
        return run(
            "get",
            PostgresKeyValueStore.at(namespace, key),
            c -> PostgresKeyValueStore.getIn(backend, c, namespace, key, now));
      }

      @Override
      public long put(byte[] key, byte[] value) {
        return put(key, value, null);
      }

      @Override
      public long put(byte[] key, byte[] value, Duration ttl) {
        var w = PostgresKeyValueStore.Write.of(backend, namespace, key, value, ttl);
        return run(
            "put",
            PostgresKeyValueStore.at(namespace, key),
            c ->
                PostgresKeyValueStore.putIn(
                    backend, c, namespace, w.key(), w.stored(), w.expires()));
      }

      @Override
      public long compareAndSet(byte[] key, long expectedVersion, byte[] value, Duration ttl) {
        ArgumentChecks.checkExpectedVersion(expectedVersion);
        var w = PostgresKeyValueStore.Write.of(backend, namespace, key, value, ttl);
        return run(
            "compareAndSet",
            PostgresKeyValueStore.at(namespace, key),
            c -> PostgresKeyValueStore.casIn(backend, c, namespace, w, expectedVersion));
      }

      @Override
      public boolean delete(byte[] key) {
        ArgumentChecks.checkKey(key);
        long now = backend.clock().millis();
        return run(
            "delete",
            PostgresKeyValueStore.at(namespace, key),
            c -> PostgresKeyValueStore.deleteIn(c, namespace, key, now));
      }
    };
  }

  @Override
  public LogWriter log(String name) {
    check();
    ArgumentChecks.check(StoreKind.LOG, name);
    String where = "log:" + name;
    return new LogWriter() {
      @Override
      public long append(byte[] payload) {
        List<byte[]> one = PostgresLogStore.checked(java.util.Collections.singletonList(payload));
        return run(
            "append",
            where,
            c -> PostgresLogStore.appendIn(backend, c, name, one, backend.clock().millis()));
      }

      @Override
      public long appendAll(List<byte[]> payloads) {
        List<byte[]> checked = PostgresLogStore.checked(payloads);
        if (checked.isEmpty()) {
          return nextOffset();
        }
        return run(
            "appendAll",
            where,
            c -> PostgresLogStore.appendIn(backend, c, name, checked, backend.clock().millis()));
      }

      @Override
      public long nextOffset() {
        return run("nextOffset", where, c -> PostgresLogStore.headIn(c, name)[1]);
      }
    };
  }
}
