package io.cairn.backend.postgres;

import io.cairn.persistence.CloseableIterator;
import io.cairn.persistence.Entry;
import io.cairn.persistence.KeyValue;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.VersionConflictException;
import io.cairn.persistence.spi.ArgumentChecks;
import io.cairn.persistence.spi.Bytes;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * One key-value namespace: rows of table {@code kv} with {@code ns = name} (layout in {@link
 * PostgresSchema}). Single writes are one autocommit statement each; {@link #putAll} is one
 * transaction. The static {@code *In} methods are the single implementation of each operation,
 * shared with {@link PostgresTransaction}. Thread-safe.
 *
 * <h2>Versions</h2>
 *
 * Versions come from the {@code kv_version} sequence in blocks (see {@link PostgresVersions#next}),
 * so a write needs no extra round trip. A block may be older than a version another process (or
 * thread) has written since, so every write is conditional on the stored version being lower
 * ({@code ON CONFLICT ... WHERE kv.version < EXCLUDED.version}); when it is not, the write takes a
 * fresh block, which is above every version handed out before, and tries again. Each write of a
 * live key therefore gets a strictly greater version, across threads, processes and restarts.
 */
final class PostgresKeyValueStore implements KeyValueStore {
  /** A new row (parameters bound by {@link #bindUpsert}); alone it fails on an existing key. */
  static final String INSERT =
      "INSERT INTO kv (ns, key, value, version, expires_at, crc) VALUES (?, ?, ?, ?, ?, ?)";

  static final String UPSERT =
      INSERT
          + " ON CONFLICT (ns, key) DO UPDATE SET value = EXCLUDED.value,"
          + " version = EXCLUDED.version, expires_at = EXCLUDED.expires_at, crc = EXCLUDED.crc"
          + " WHERE kv.version < EXCLUDED.version";

  /** Insert for compare-and-set from 0: replaces only an expired row (parameter 7 = now). */
  static final String INSERT_IF_ABSENT = UPSERT + " AND kv.expires_at <> 0 AND kv.expires_at <= ?";

  static final String UPDATE_IF_VERSION =
      "UPDATE kv SET value = ?, version = ?, expires_at = ?, crc = ? WHERE ns = ? AND key = ?"
          + " AND version = ? AND (expires_at = 0 OR expires_at > ?)";

  static final String GET =
      "SELECT value, version, expires_at, crc FROM kv WHERE ns = ? AND key = ?";

  static final String DELETE = "DELETE FROM kv WHERE ns = ? AND key = ? RETURNING expires_at";

  static final String DELETE_IF_VERSION =
      "DELETE FROM kv WHERE ns = ? AND key = ? AND version = ?"
          + " AND (expires_at = 0 OR expires_at > ?)";

  /** A write's checked, copied and sealed input, shared by the store and the transaction view. */
  record Write(byte[] key, byte[] stored, long now, long expires) {
    static Write of(PostgresBackend backend, String ns, byte[] key, byte[] value, Duration ttl) {
      ArgumentChecks.checkKey(key);
      ArgumentChecks.checkValue(value);
      ArgumentChecks.checkTtl(ttl, true);
      long now = backend.clock().millis();
      byte[] k = key.clone();
      return new Write(
          k, backend.sealer().sealValue(ns, k, value), now, ArgumentChecks.expiryMillis(now, ttl));
    }
  }

  /** Attempts of a conditional write before giving up (each after a fresh version block). */
  private static final int ATTEMPTS = 8;

  private final PostgresBackend backend;
  private final String ns;
  private final String where;

  PostgresKeyValueStore(PostgresBackend backend, String ns) {
    this.backend = backend;
    this.ns = ns;
    this.where = "kv:" + ns;
  }

  @Override
  public String name() {
    return ns;
  }

  static String at(String ns, byte[] key) {
    return "kv:" + ns + " key " + Bytes.toDisplay(key);
  }

  private Object lazyAt(byte[] key) {
    return new Object() {
      @Override
      public String toString() {
        return at(ns, key);
      }
    };
  }

  @Override
  public Optional<Entry> getEntry(byte[] key) {
    ArgumentChecks.checkKey(key);
    long now = backend.clock().millis();
    return backend.call("get", lazyAt(key), c -> getIn(backend, c, ns, key, now));
  }

  @Override
  public long put(byte[] key, byte[] value) {
    return write(key, value, null);
  }

  @Override
  public long put(byte[] key, byte[] value, Duration ttl) {
    ArgumentChecks.checkTtl(ttl, false);
    return write(key, value, ttl);
  }

  private long write(byte[] key, byte[] value, Duration ttl) {
    Write w = Write.of(backend, ns, key, value, ttl);
    return backend.call(
        "put", lazyAt(key), c -> putIn(backend, c, ns, w.key(), w.stored(), w.expires()));
  }

  @Override
  public long compareAndSet(byte[] key, long expectedVersion, byte[] value, Duration ttl) {
    ArgumentChecks.checkExpectedVersion(expectedVersion);
    Write w = Write.of(backend, ns, key, value, ttl);
    return backend.call(
        "compareAndSet", lazyAt(key), c -> casIn(backend, c, ns, w, expectedVersion));
  }

  @Override
  public boolean delete(byte[] key) {
    ArgumentChecks.checkKey(key);
    byte[] k = key.clone();
    long now = backend.clock().millis();
    return backend.call("delete", lazyAt(key), c -> deleteIn(c, ns, k, now));
  }

  @Override
  public void compareAndDelete(byte[] key, long expectedVersion) {
    ArgumentChecks.checkKey(key);
    ArgumentChecks.checkExpectedVersion(expectedVersion);
    byte[] k = key.clone();
    long now = backend.clock().millis();
    backend.call(
        "compareAndDelete",
        lazyAt(key),
        c -> {
          if (expectedVersion != 0) {
            try (PreparedStatement ps = c.prepareStatement(DELETE_IF_VERSION)) {
              ps.setString(1, ns);
              ps.setBytes(2, k);
              ps.setLong(3, expectedVersion);
              ps.setLong(4, now);
              if (ps.executeUpdate() == 1) {
                return null;
              }
            }
          }
          long actual = versionIn(c, ns, k, now);
          throw new VersionConflictException(at(ns, k), expectedVersion, actual);
        });
  }

  @Override
  public void putAll(Collection<KeyValue> entries) {
    java.util.Objects.requireNonNull(entries, "entries");
    for (KeyValue kv : entries) {
      java.util.Objects.requireNonNull(kv, "entry");
      ArgumentChecks.checkKey(kv.key());
      ArgumentChecks.checkValue(kv.value());
    }
    // one row per key, the later one winning: a batch must not change a row twice
    java.util.Map<java.nio.ByteBuffer, byte[][]> byKey = new java.util.LinkedHashMap<>();
    for (KeyValue kv : entries) {
      byte[] k = kv.key().clone();
      byKey.remove(java.nio.ByteBuffer.wrap(k));
      byKey.put(
          java.nio.ByteBuffer.wrap(k),
          new byte[][] {k, backend.sealer().sealValue(ns, k, kv.value())});
    }
    List<byte[][]> rows = new ArrayList<>(byKey.values());
    if (rows.isEmpty()) {
      return;
    }
    backend.serialisedTransaction(
        "putAll",
        where + " (" + rows.size() + " entries)",
        c -> {
          putAllIn(backend, c, ns, rows);
          return null;
        });
  }

  @Override
  public CloseableIterator<Entry> scan(byte[] fromInclusive, byte[] toExclusive) {
    return backend.openScan(
        where,
        c -> {
          StringBuilder sql =
              new StringBuilder("SELECT key, value, version, expires_at, crc FROM kv WHERE ns = ?");
          if (fromInclusive != null) {
            sql.append(" AND key >= ?");
          }
          if (toExclusive != null) {
            sql.append(" AND key < ?");
          }
          sql.append(" ORDER BY ns, key");
          PreparedStatement ps = c.prepareStatement(sql.toString());
          int i = 1;
          ps.setString(i++, ns);
          if (fromInclusive != null) {
            ps.setBytes(i++, fromInclusive);
          }
          if (toExclusive != null) {
            ps.setBytes(i++, toExclusive);
          }
          return ps;
        },
        (rs, now) -> {
          byte[] key = rs.getBytes(1);
          byte[] stored = rs.getBytes(2);
          long version = rs.getLong(3);
          long expires = rs.getLong(4);
          checked(ns, key, version, expires, stored, rs.getInt(5));
          if (expires != 0 && expires <= now) {
            return null;
          }
          return new Entry(key, backend.sealer().openValue(ns, key, stored), version, expires);
        });
  }

  @Override
  public long purgeExpired() {
    return backend.purgeExpired(ns);
  }

  @Override
  public long approximateCount() {
    return backend.call(
        "count",
        where,
        c -> {
          try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM kv WHERE ns = ?")) {
            ps.setString(1, ns);
            try (ResultSet rs = ps.executeQuery()) {
              rs.next();
              return rs.getLong(1);
            }
          }
        });
  }

  // ---- the single implementation of each operation, used by stores and transactions ----

  static Optional<Entry> getIn(
      PostgresBackend backend, Connection c, String ns, byte[] key, long now) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(GET)) {
      ps.setString(1, ns);
      ps.setBytes(2, key);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return Optional.empty();
        }
        byte[] stored = rs.getBytes(1);
        long version = rs.getLong(2);
        long expires = rs.getLong(3);
        checked(ns, key, version, expires, stored, rs.getInt(4));
        if (expires != 0 && expires <= now) {
          return Optional.empty();
        }
        return Optional.of(
            new Entry(key.clone(), backend.sealer().openValue(ns, key, stored), version, expires));
      }
    }
  }

  /** The live version of {@code key}, 0 if absent or expired (from a row that passed its check). */
  static long versionIn(Connection c, String ns, byte[] key, long now) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(GET)) {
      ps.setString(1, ns);
      ps.setBytes(2, key);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return 0;
        }
        long version = rs.getLong(2);
        long expires = rs.getLong(3);
        checked(ns, key, version, expires, rs.getBytes(1), rs.getInt(4));
        return expires != 0 && expires <= now ? 0 : version;
      }
    }
  }

  /** Binds a row's parameters 1-6 of {@link #INSERT} and {@link #UPSERT}, with its checksum. */
  static void bindUpsert(
      PreparedStatement ps, String ns, byte[] key, byte[] stored, long version, long expires)
      throws SQLException {
    ps.setString(1, ns);
    ps.setBytes(2, key);
    ps.setBytes(3, stored);
    ps.setLong(4, version);
    ps.setLong(5, expires);
    ps.setInt(6, PgChecksums.kv(ns, key, version, expires, stored));
  }

  static long putIn(
      PostgresBackend backend, Connection c, String ns, byte[] key, byte[] stored, long expires)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(UPSERT)) {
      for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
        long version = backend.nextVersion(c, attempt > 0);
        bindUpsert(ps, ns, key, stored, version, expires);
        if (ps.executeUpdate() == 1) {
          return version;
        }
      }
    }
    throw tooManyAttempts(ns, key);
  }

  private static IllegalStateException tooManyAttempts(String ns, byte[] key) {
    return new IllegalStateException(
        "Could not write "
            + at(ns, key)
            + ": after "
            + ATTEMPTS
            + " fresh version blocks the stored version was still higher; the kv_version"
            + " sequence is behind the stored versions (was it reset by hand?). Run 'cairn"
            + " verify'.");
  }

  static void putAllIn(PostgresBackend backend, Connection c, String ns, List<byte[][]> rows)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(UPSERT)) {
      for (byte[][] row : rows) {
        bindUpsert(ps, ns, row[0], row[1], backend.nextVersion(c, false), 0);
        ps.addBatch();
      }
      int[] counts = ps.executeBatch();
      for (int i = 0; i < counts.length; i++) {
        if (counts[i] == 0) {
          // an older version block than the stored row's: write this one again, in order
          putIn(backend, c, ns, rows.get(i)[0], rows.get(i)[1], 0);
        }
      }
    }
  }

  static long casIn(PostgresBackend backend, Connection c, String ns, Write w, long expected)
      throws SQLException {
    byte[] key = w.key();
    byte[] stored = w.stored();
    long expires = w.expires();
    long now = w.now();
    if (expected == 0) {
      try (PreparedStatement ps = c.prepareStatement(INSERT_IF_ABSENT)) {
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
          long version = backend.nextVersion(c, attempt > 0);
          bindUpsert(ps, ns, key, stored, version, expires);
          ps.setLong(7, now);
          if (ps.executeUpdate() == 1) {
            return version;
          }
          long actual = versionIn(c, ns, key, now);
          if (actual != 0) {
            throw new VersionConflictException(at(ns, key), expected, actual);
          }
          // an expired row with a version above this block's: fresh block, again
        }
      }
      throw tooManyAttempts(ns, key);
    }
    long version = backend.nextVersion(c, false);
    if (version <= expected) {
      version = backend.nextVersion(c, true); // a fresh block is above every version handed out
    }
    try (PreparedStatement ps = c.prepareStatement(UPDATE_IF_VERSION)) {
      ps.setBytes(1, stored);
      ps.setLong(2, version);
      ps.setLong(3, expires);
      ps.setInt(4, PgChecksums.kv(ns, key, version, expires, stored));
      ps.setString(5, ns);
      ps.setBytes(6, key);
      ps.setLong(7, expected);
      ps.setLong(8, now);
      if (ps.executeUpdate() == 1) {
        return version;
      }
    }
    throw new VersionConflictException(at(ns, key), expected, versionIn(c, ns, key, now));
  }

  static boolean deleteIn(Connection c, String ns, byte[] key, long now) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(DELETE)) {
      ps.setString(1, ns);
      ps.setBytes(2, key);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return false;
        }
        long expires = rs.getLong(1);
        return expires == 0 || expires > now;
      }
    }
  }

  /** Throws unless the row's checksum matches {@code crc}. */
  static void checked(String ns, byte[] key, long version, long expires, byte[] stored, int crc) {
    int actual = PgChecksums.kv(ns, key, version, expires, stored);
    if (actual != crc) {
      throw new StoreCorruptedException(
          String.format(
              "The row of key %s in kv:%s fails its checksum (stored CRC-32C %08x, computed %08x"
                  + " over namespace, key, version %d, expiry %d and value): the key, its value"
                  + " or its metadata is damaged, and nothing of it is returned. Run 'cairn"
                  + " verify' and restore from a backup.",
              Bytes.toDisplay(key), ns, crc, actual, version, expires));
    }
  }
}
