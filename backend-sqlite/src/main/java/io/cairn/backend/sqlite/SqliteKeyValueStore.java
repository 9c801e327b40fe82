package io.cairn.backend.sqlite;

import io.cairn.persistence.CloseableIterator;
import io.cairn.persistence.Entry;
import io.cairn.persistence.KeyValue;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.VersionConflictException;
import io.cairn.persistence.spi.ArgumentChecks;
import io.cairn.persistence.spi.Bytes;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Optional;

/**
 * One key-value namespace: rows of table {@code kv} with {@code ns = name} (layout in {@link
 * SqliteDatabase}). Reads run on reader connections and filter out expired rows with the backend
 * clock; writes go through the {@link Writer}'s group commit. The static {@code *In} methods are
 * the single implementation of each write, shared with {@link SqliteTransaction}. Thread-safe.
 */
final class SqliteKeyValueStore implements KeyValueStore {
  /** A blind write: the version comes from the writer's sequence, nothing is read first. */
  static final String PUT =
      "INSERT OR REPLACE INTO kv (ns, key, value, version, expires_at, crc)"
          + " VALUES (?, ?, ?, ?, ?, ?)";

  /** Indexes an expiry for the sweeper; stale rows are harmless (see SqliteDatabase). */
  static final String ADD_TTL =
      "INSERT OR IGNORE INTO kv_ttl (expires_at, ns, key) VALUES (?, ?, ?)";

  /**
   * The row whatever its expiry: the checksum is checked first and the expiry applied after, so a
   * damaged expiry cannot hide a live entry unnoticed.
   */
  static final String GET =
      "SELECT value, version, expires_at, crc FROM kv WHERE ns = ? AND key = ?";

  static final String DELETE = "DELETE FROM kv WHERE ns = ? AND key = ? RETURNING expires_at";
  static final String COUNT = "SELECT count(*) FROM kv WHERE ns = ?";
  // Purging takes one batch of due kv_ttl rows (?1 = now, ?2 = batch size, ?3 = namespace or
  // NULL for all), deletes the kv rows they name that are still expired, then the kv_ttl rows.
  // Both statements select the same batch: same data, same order, and the first changes no
  // kv_ttl row.
  private static final String DUE_TTL =
      "SELECT expires_at, ns, key FROM kv_ttl WHERE expires_at <= ?1"
          + " AND (?3 IS NULL OR ns = ?3) ORDER BY expires_at, ns, key LIMIT ?2";
  static final String PURGE_KV =
      "DELETE FROM kv WHERE (ns, key) IN (SELECT ns, key FROM ("
          + DUE_TTL
          + ")) AND expires_at > 0 AND expires_at <= ?1";
  static final String PURGE_TTL =
      "DELETE FROM kv_ttl WHERE (expires_at, ns, key) IN (" + DUE_TTL + ")";
  private static final int SCAN_PAGE = 256;

  private final SqliteBackend backend;
  private final String ns;
  private final String where;

  SqliteKeyValueStore(SqliteBackend backend, String ns) {
    this.backend = backend;
    this.ns = ns;
    this.where = "kv:" + ns;
  }

  @Override
  public String name() {
    return ns;
  }

  /** Names store and key in messages; rendered only when something fails. */
  private Object at(byte[] key) {
    return new Object() {
      @Override
      public String toString() {
        return where
            + " key "
            + (backend.sealer().enabled() ? Bytes.toDisplay(key, true) : RowChecksums.key(key));
      }
    };
  }

  @Override
  public Optional<Entry> getEntry(byte[] key) {
    ArgumentChecks.checkKey(key);
    long now = backend.clock().millis();
    return backend.readers().read("get", at(key), c -> getIn(backend, c, ns, key, now));
  }

  @Override
  public byte[] get(byte[] key) {
    ArgumentChecks.checkKey(key);
    long now = backend.clock().millis();
    return backend.readers().read("get", at(key), c -> valueIn(backend, c, ns, key, now));
  }

  /**
   * The live value of {@code key}, or null; {@link #getIn} without the entry: a plain get builds no
   * Entry, Optional or key copy it would drop at once.
   */
  private static byte[] valueIn(SqliteBackend backend, Conn c, String ns, byte[] key, long now)
      throws SQLException {
    byte[][] value = new byte[1][];
    long[] meta = new long[3];
    if (!readRow(c, ns, key, now, value, meta, backend.sealer().enabled())) {
      return null;
    }
    return backend.sealer().openValue(ns, key, value[0]);
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
    ArgumentChecks.checkKey(key);
    ArgumentChecks.checkValue(value);
    byte[] k = key.clone();
    byte[] stored = backend.sealer().sealValue(ns, key, value);
    long expires = ArgumentChecks.expiryMillis(backend.clock().millis(), ttl);
    return backend
        .writer()
        .submit(expires == 0, "put", at(key), s -> putIn(s, ns, k, stored, expires));
  }

  @Override
  public long compareAndSet(byte[] key, long expectedVersion, byte[] value, Duration ttl) {
    ArgumentChecks.checkKey(key);
    ArgumentChecks.checkValue(value);
    ArgumentChecks.checkTtl(ttl, true);
    checkExpected(expectedVersion);
    byte[] k = key.clone();
    byte[] stored = backend.sealer().sealValue(ns, key, value);
    long expires = ArgumentChecks.expiryMillis(backend.clock().millis(), ttl);
    String at = at(key).toString();
    return backend
        .writer()
        .submit(
            false,
            "compareAndSet",
            at,
            s -> casIn(s, ns, at, k, expectedVersion, stored, expires, backend.sealer().enabled()));
  }

  @Override
  public boolean delete(byte[] key) {
    ArgumentChecks.checkKey(key);
    byte[] k = key.clone();
    return backend.writer().submit(true, "delete", at(key), s -> deleteIn(s, ns, k));
  }

  @Override
  public void compareAndDelete(byte[] key, long expectedVersion) {
    ArgumentChecks.checkKey(key);
    checkExpected(expectedVersion);
    byte[] k = key.clone();
    String at = at(key).toString();
    backend
        .writer()
        .submit(
            false,
            "compareAndDelete",
            at,
            s -> {
              long actual = versionIn(s.conn(), ns, k, s.now(), backend.sealer().enabled());
              if (actual == 0 || actual != expectedVersion) {
                throw new VersionConflictException(at, expectedVersion, actual);
              }
              deleteIn(s, ns, k);
              return null;
            });
  }

  @Override
  public void putAll(Collection<KeyValue> entries) {
    java.util.Objects.requireNonNull(entries, "entries");
    List<byte[][]> rows = new ArrayList<>(entries.size());
    for (KeyValue kv : entries) {
      java.util.Objects.requireNonNull(kv, "entry");
      ArgumentChecks.checkKey(kv.key());
      ArgumentChecks.checkValue(kv.value());
    }
    for (KeyValue kv : entries) {
      rows.add(
          new byte[][] {kv.key().clone(), backend.sealer().sealValue(ns, kv.key(), kv.value())});
    }
    if (rows.isEmpty()) {
      return;
    }
    backend
        .writer()
        .submit(
            false,
            "putAll",
            where + " (" + rows.size() + " entries)",
            s -> {
              for (byte[][] row : rows) {
                putIn(s, ns, row[0], row[1], 0);
              }
              return null;
            });
  }

  @Override
  public CloseableIterator<Entry> scan(byte[] fromInclusive, byte[] toExclusive) {
    return new Scan(
        backend.readers(),
        -1,
        fromInclusive == null ? null : fromInclusive.clone(),
        toExclusive == null ? null : toExclusive.clone());
  }

  /**
   * Reads of this namespace inside a read transaction: every query runs on {@code reads} (its one
   * snapshot) and expiry is judged at {@code now}, the snapshot's instant.
   */
  io.cairn.persistence.Transaction.KeyValueReader snapshotReader(Reads reads, long now) {
    return new io.cairn.persistence.Transaction.KeyValueReader() {
      @Override
      public Optional<Entry> getEntry(byte[] key) {
        ArgumentChecks.checkKey(key);
        return reads.read("get", at(key), c -> getIn(backend, c, ns, key, now));
      }

      @Override
      public CloseableIterator<Entry> scan(byte[] fromInclusive, byte[] toExclusive) {
        return new Scan(
            reads,
            now,
            fromInclusive == null ? null : fromInclusive.clone(),
            toExclusive == null ? null : toExclusive.clone());
      }
    };
  }

  @Override
  public long purgeExpired() {
    return backend.purgeExpired(ns);
  }

  @Override
  public long approximateCount() {
    return backend
        .readers()
        .read(
            "count",
            where,
            c -> {
              PreparedStatement ps = c.prepare(COUNT);
              ps.setString(1, ns);
              try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0L;
              }
            });
  }

  private static void checkExpected(long expectedVersion) {
    if (expectedVersion < 0) {
      throw new IllegalArgumentException(
          "expectedVersion must be 0 (absent) or a version returned by a write, got "
              + expectedVersion);
    }
  }

  // ---- the single implementation of each operation, used by stores and transactions ----

  static Optional<Entry> getIn(SqliteBackend backend, Conn c, String ns, byte[] key, long now)
      throws SQLException {
    byte[][] value = new byte[1][];
    long[] meta = new long[3];
    if (!readRow(c, ns, key, now, value, meta, backend.sealer().enabled())) {
      return Optional.empty();
    }
    return Optional.of(
        new Entry(key.clone(), backend.sealer().openValue(ns, key, value[0]), meta[0], meta[1]));
  }

  /**
   * Reads the row of {@code key}, checks its row checksum and applies its expiry. Fills {@code
   * value[0]} (the stored bytes) and {@code meta} (version, expires_at, crc: three slots) and
   * returns true if the key is live; returns false if it is absent or expired.
   *
   * @throws StoreCorruptedException if the row fails its checksum
   */
  private static boolean readRow(
      Conn c, String ns, byte[] key, long now, byte[][] value, long[] meta, boolean redact)
      throws SQLException {
    if (!c.queryRow(GET, new Object[] {ns, key}, value, meta)) {
      return false;
    }
    checked(ns, key, meta[0], meta[1], value[0], meta[2], redact);
    long expires = meta[1];
    if (expires != 0 && expires <= now) {
      value[0] = null;
      return false;
    }
    return true;
  }

  /**
   * Writes one entry: a single statement without expiry, two with one (the kv_ttl row first, so a
   * failure between them leaves at most a harmless stale kv_ttl row).
   */
  static long putIn(Writer.Session s, String ns, byte[] key, byte[] stored, long expires)
      throws SQLException {
    indexExpiry(s.conn(), ns, key, expires);
    long version = s.nextVersion();
    putRow(s.conn(), ns, key, stored, version, expires);
    return version;
  }

  /**
   * Writes one entry with a version chosen by the caller (the importer's: the source's version),
   * exactly as {@link #putIn} writes it otherwise. The caller keeps the version sequence above it
   * ({@link Writer.Session#raiseVersionsAbove}).
   */
  static void putVersionedIn(
      Writer.Session s, String ns, byte[] key, byte[] stored, long version, long expires)
      throws SQLException {
    indexExpiry(s.conn(), ns, key, expires);
    putRow(s.conn(), ns, key, stored, version, expires);
  }

  private static void indexExpiry(Conn c, String ns, byte[] key, long expires) throws SQLException {
    if (expires != 0) {
      PreparedStatement ttl = c.prepare(ADD_TTL);
      ttl.setLong(1, expires);
      ttl.setString(2, ns);
      ttl.setBytes(3, key);
      ttl.executeUpdate();
    }
  }

  private static void putRow(
      Conn c, String ns, byte[] key, byte[] stored, long version, long expires)
      throws SQLException {
    PreparedStatement ps = c.prepare(PUT);
    ps.setString(1, ns);
    ps.setBytes(2, key);
    ps.setBytes(3, stored);
    ps.setLong(4, version);
    ps.setLong(5, expires);
    ps.setInt(6, RowChecksums.kv(ns, key, version, expires, stored));
    ps.executeUpdate();
  }

  /** The live version of {@code key} (0 if absent or expired), from a row that passed its check. */
  static long versionIn(Conn c, String ns, byte[] key, long now, boolean redact)
      throws SQLException {
    byte[][] value = new byte[1][];
    long[] meta = new long[3];
    return readRow(c, ns, key, now, value, meta, redact) ? meta[0] : 0;
  }

  static long casIn(
      Writer.Session s,
      String ns,
      String at,
      byte[] key,
      long expected,
      byte[] stored,
      long expires,
      boolean redact)
      throws SQLException {
    long actual = versionIn(s.conn(), ns, key, s.now(), redact);
    if (actual != expected) {
      throw new VersionConflictException(at, expected, actual);
    }
    return putIn(s, ns, key, stored, expires);
  }

  static boolean deleteIn(Writer.Session s, String ns, byte[] key) throws SQLException {
    PreparedStatement ps = s.conn().prepare(DELETE);
    ps.setString(1, ns);
    ps.setBytes(2, key);
    long expires = Conn.returningLong(ps, -1);
    if (expires < 0) {
      return false; // no row
    }
    return expires == 0 || expires > s.now();
  }

  /**
   * Throws unless the row's checksum (over namespace, key, version, expiry and stored value, see
   * {@link RowChecksums#kv}) matches {@code crc}.
   */
  static void checked(
      String ns, byte[] key, long version, long expires, byte[] stored, long crc, boolean redact) {
    int actual = RowChecksums.kv(ns, key, version, expires, stored);
    if (actual != crc) {
      throw new StoreCorruptedException(
          String.format(
              "The row of key %s in kv:%s fails its checksum (stored CRC-32C %08x, computed %08x"
                  + " over namespace, key, version %d, expiry %d and value): the key, its value"
                  + " or its metadata is damaged, and nothing of it is returned. Run 'cairn"
                  + " verify' and restore from a backup.",
              redact ? Bytes.toDisplay(key, true) : RowChecksums.key(key),
              ns,
              (int) crc,
              actual,
              version,
              expires));
    }
  }

  /**
   * Streams a range page by page; holds no connection between pages. On the pool each page is its
   * own point in time; on a read transaction's connection every page reads the same snapshot.
   */
  private final class Scan implements CloseableIterator<Entry> {
    private final Reads reads;
    private final long fixedNow; // the snapshot's instant, or -1: the clock at each page
    private final byte[] to;
    private byte[] from;
    private boolean fromInclusive = true;
    private final ArrayDeque<Entry> page = new ArrayDeque<>();
    private boolean exhausted;
    private boolean closed;

    Scan(Reads reads, long fixedNow, byte[] from, byte[] to) {
      this.reads = reads;
      this.fixedNow = fixedNow;
      this.from = from;
      this.to = to;
    }

    @Override
    public boolean hasNext() {
      if (closed) {
        return false;
      }
      while (page.isEmpty() && !exhausted) {
        fetch(); // a page of expired rows only yields nothing: fetch on
      }
      return !page.isEmpty();
    }

    @Override
    public Entry next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      return page.poll();
    }

    private void fetch() {
      StringBuilder sql =
          new StringBuilder("SELECT key, value, version, expires_at, crc FROM kv WHERE ns = ?");
      if (from != null) {
        sql.append(fromInclusive ? " AND key >= ?" : " AND key > ?");
      }
      if (to != null) {
        sql.append(" AND key < ?");
      }
      // expired rows are read too and skipped after their checksum passed (see GET)
      sql.append(" ORDER BY key LIMIT ").append(SCAN_PAGE);
      long now = fixedNow >= 0 ? fixedNow : backend.clock().millis();
      byte[][] last = new byte[1][];
      List<Entry> rows =
          reads.read(
              "scan",
              where,
              c -> {
                PreparedStatement ps = c.prepare(sql.toString());
                int i = 1;
                ps.setString(i++, ns);
                if (from != null) {
                  ps.setBytes(i++, from);
                }
                if (to != null) {
                  ps.setBytes(i++, to);
                }
                List<Entry> out = new ArrayList<>();
                int n = 0;
                try (ResultSet rs = ps.executeQuery()) {
                  while (rs.next()) {
                    n++;
                    byte[] key = rs.getBytes(1);
                    byte[] stored = rs.getBytes(2);
                    long version = rs.getLong(3);
                    long expires = rs.getLong(4);
                    checked(
                        ns,
                        key,
                        version,
                        expires,
                        stored,
                        rs.getLong(5),
                        backend.sealer().enabled());
                    last[0] = key;
                    if (expires == 0 || expires > now) {
                      out.add(
                          new Entry(
                              key, backend.sealer().openValue(ns, key, stored), version, expires));
                    }
                  }
                }
                if (n < SCAN_PAGE) {
                  exhausted = true;
                }
                return out;
              });
      page.addAll(rows);
      if (!exhausted) {
        from = last[0].clone();
        fromInclusive = false;
      }
    }

    @Override
    public void close() {
      closed = true;
      page.clear();
    }
  }
}
