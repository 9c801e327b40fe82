package io.cairn.backend.sqlite;

import io.cairn.persistence.Entry;
import io.cairn.persistence.Transaction;
import io.cairn.persistence.spi.ArgumentChecks;
import io.cairn.persistence.spi.Bytes;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The {@link Transaction} view: every call runs on the writer connection inside the open {@code
 * BEGIN IMMEDIATE} transaction, through the same operation code as the stores. Valid only inside
 * the callback and on its thread.
 */
final class SqliteTransaction implements Transaction {
  private final SqliteBackend backend;
  private final Writer.Session session;
  private final Thread owner = Thread.currentThread();
  private boolean active = true;

  SqliteTransaction(SqliteBackend backend, Writer.Session session) {
    this.backend = backend;
    this.session = session;
  }

  void end() {
    active = false;
  }

  private void check() {
    if (!active || Thread.currentThread() != owner) {
      throw new IllegalStateException(
          "This Transaction view is valid only inside its inTransaction() callback and on the"
              + " thread running it");
    }
  }

  private <T> T run(String what, String where, SqliteErrors.SqlCall<T> call) {
    check();
    return backend.errors().run(what, where, call);
  }

  @Override
  public KeyValueWriter keyValue(String namespace) {
    check();
    String ns = ArgumentChecks.check("namespace", namespace);
    return new KeyValueWriter() {
      private String at(byte[] key) {
        return "kv:"
            + ns
            + " key "
            + Bytes.toDisplay(key, backend.sealer().enabled())
            + " (in a transaction)";
      }

      @Override
      public Optional<Entry> getEntry(byte[] key) {
        ArgumentChecks.checkKey(key);
        long now = backend.clock().millis();
        return run(
            "get", at(key), () -> SqliteKeyValueStore.getIn(backend, session.conn(), ns, key, now));
      }

      @Override
      public long put(byte[] key, byte[] value) {
        return put(key, value, null);
      }

      @Override
      public long put(byte[] key, byte[] value, Duration ttl) {
        ArgumentChecks.checkKey(key);
        ArgumentChecks.checkValue(value);
        ArgumentChecks.checkTtl(ttl, true);
        byte[] stored = backend.sealer().sealValue(ns, key, value);
        long expires = ArgumentChecks.expiryMillis(backend.clock().millis(), ttl);
        return run(
            "put",
            at(key),
            () -> SqliteKeyValueStore.putIn(session, ns, key.clone(), stored, expires));
      }

      @Override
      public long compareAndSet(byte[] key, long expectedVersion, byte[] value, Duration ttl) {
        ArgumentChecks.checkKey(key);
        ArgumentChecks.checkValue(value);
        ArgumentChecks.checkTtl(ttl, true);
        if (expectedVersion < 0) {
          throw new IllegalArgumentException(
              "expectedVersion must be 0 (absent) or a version returned by a write, got "
                  + expectedVersion);
        }
        byte[] stored = backend.sealer().sealValue(ns, key, value);
        long expires = ArgumentChecks.expiryMillis(backend.clock().millis(), ttl);
        String at = at(key);
        return run(
            "compareAndSet",
            at,
            () ->
                SqliteKeyValueStore.casIn(
                    session,
                    ns,
                    at,
                    key.clone(),
                    expectedVersion,
                    stored,
                    expires,
                    backend.sealer().enabled()));
      }

      @Override
      public boolean delete(byte[] key) {
        ArgumentChecks.checkKey(key);
        return run("delete", at(key), () -> SqliteKeyValueStore.deleteIn(session, ns, key.clone()));
      }
    };
  }

  @Override
  public LogWriter log(String name) {
    check();
    String log = ArgumentChecks.check("log", name);
    String where = "log:" + log + " (in a transaction)";
    return new LogWriter() {
      @Override
      public long append(byte[] payload) {
        Objects.requireNonNull(payload, "payload");
        ArgumentChecks.checkValue(payload);
        byte[] copy = payload.clone();
        return run(
            "append", where, () -> SqliteLogStore.appendIn(session, backend.sealer(), log, copy));
      }

      @Override
      public long appendAll(List<byte[]> payloads) {
        Objects.requireNonNull(payloads, "payloads");
        for (byte[] p : payloads) {
          Objects.requireNonNull(p, "payload");
          ArgumentChecks.checkValue(p);
        }
        List<byte[]> stored = new ArrayList<>(payloads.size());
        for (byte[] p : payloads) {
          stored.add(p.clone());
        }
        if (stored.isEmpty()) {
          return nextOffset();
        }
        return run(
            "appendAll",
            where,
            () -> SqliteLogStore.appendAllIn(session, backend.sealer(), log, stored));
      }

      @Override
      public long nextOffset() {
        return run("nextOffset", where, () -> SqliteLogStore.nextOffset(session, log));
      }
    };
  }

  /** Used by the writer to run {@code work}; SQL failures inside it are already translated. */
  static <T> T runWork(SqliteBackend backend, Writer.Session s, Work<T> work) throws SQLException {
    SqliteTransaction tx = new SqliteTransaction(backend, s);
    try {
      return work.run(tx);
    } finally {
      tx.end();
    }
  }
}
