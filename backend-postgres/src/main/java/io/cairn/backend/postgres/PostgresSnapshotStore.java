package io.cairn.backend.postgres;

import io.cairn.persistence.SnapshotInfo;
import io.cairn.persistence.SnapshotStore;
import io.cairn.persistence.StorageEngineException;
import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.spi.ArgumentChecks;
import io.cairn.persistence.spi.Checksums;
import io.cairn.persistence.spi.ChunkedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.function.LongSupplier;
import java.util.zip.CRC32C;

/**
 * One snapshot set: rows of {@code snapshot} with {@code store = name}, their data in {@code
 * snapshot_chunk} rows of {@code snapshot-chunk-size} bytes (layout in {@link PostgresSchema}).
 *
 * <p>A save is one transaction: it reads the input a chunk at a time and inserts each chunk as it
 * goes (the heap holds one chunk), then, under a transaction-scoped advisory lock on the set,
 * replaces the index row of that version and deletes the replaced save's chunks. Until the commit
 * nothing of it is visible; a crash or error rolls all of it back. A load reads one chunk per round
 * trip, lazily, checks each chunk's row checksum and, at the end, the CRC-32C and length of the
 * whole snapshot. Thread-safe.
 */
final class PostgresSnapshotStore implements SnapshotStore {
  private final PostgresBackend backend;
  private final String name;
  private final String where;

  PostgresSnapshotStore(PostgresBackend backend, String name) {
    this.backend = backend;
    this.name = name;
    this.where = "snapshot:" + name;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public SnapshotInfo save(long version, InputStream data) {
    ArgumentChecks.checkSnapshotVersion(version);
    java.util.Objects.requireNonNull(data, "data");
    return backend.transaction(
        "snapshot save",
        where + " version " + version,
        c -> saveIn(c, version, data, () -> backend.clock().millis()));
  }

  /**
   * Writes snapshot {@code version} from {@code data} inside the caller's transaction on {@code c}:
   * chunk rows, then (under the set's advisory lock) the index row replacing an older save of that
   * version, with creation time {@code created} (read after the data: the save's own time, or the
   * time an import carries). Shared by {@link #save} and {@link PostgresImporter}.
   */
  SnapshotInfo saveIn(Connection c, long version, InputStream data, LongSupplier created)
      throws SQLException {
    int chunkSize = backend.settings().snapshotChunkBytes();
    long saveId;
    try (PreparedStatement ps = c.prepareStatement("SELECT nextval('snapshot_save')");
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      saveId = rs.getLong(1);
    }
    CRC32C crc = new CRC32C();
    long size = 0;
    int chunks = 0;
    byte[] buf = new byte[chunkSize];
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO snapshot_chunk (save_id, seq, data, crc) VALUES (?, ?, ?, ?)")) {
      while (true) {
        int n = readFully(data, buf);
        if (n <= 0) {
          break;
        }
        crc.update(buf, 0, n);
        size += n;
        byte[] stored =
            backend.sealer().sealChunk(name, version, chunks, java.util.Arrays.copyOf(buf, n));
        ps.setLong(1, saveId);
        ps.setInt(2, chunks);
        ps.setBytes(3, stored);
        ps.setInt(4, PgChecksums.chunk(saveId, chunks, stored));
        ps.executeUpdate();
        chunks++;
        if (n < buf.length) {
          break;
        }
      }
    }
    try (PreparedStatement lock = c.prepareStatement("SELECT pg_advisory_xact_lock(?, ?)")) {
      lock.setInt(1, PostgresSchema.LOCK_CLASS_SNAPSHOT);
      lock.setInt(2, name.hashCode());
      lock.execute();
    }
    deleteIn(c, name, version);
    long createdAt = created.getAsLong();
    long dataCrc = crc.getValue();
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO snapshot (store, version, save_id, size, crc, created_at, chunks,"
                + " row_crc) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) {
      ps.setString(1, name);
      ps.setLong(2, version);
      ps.setLong(3, saveId);
      ps.setLong(4, size);
      ps.setLong(5, dataCrc);
      ps.setLong(6, createdAt);
      ps.setInt(7, chunks);
      ps.setInt(8, PgChecksums.snapshot(name, version, saveId, size, dataCrc, createdAt, chunks));
      ps.executeUpdate();
    }
    return new SnapshotInfo(version, size, dataCrc, createdAt);
  }

  private int readFully(InputStream in, byte[] buf) {
    int off = 0;
    try {
      while (off < buf.length) {
        int n = in.read(buf, off, buf.length - off);
        if (n < 0) {
          break;
        }
        off += n;
      }
    } catch (IOException e) {
      throw new StorageEngineException(
          "Saving "
              + where
              + " failed: reading the caller's input stream threw "
              + e
              + "; nothing was saved.",
          e);
    }
    return off;
  }

  /** One index row, checked. */
  private record Row(long version, long saveId, long size, long crc, long created, int chunks) {
    SnapshotInfo info() {
      return new SnapshotInfo(version, size, crc, created);
    }
  }

  private static final String ROWS =
      "SELECT version, save_id, size, crc, created_at, chunks, row_crc FROM snapshot"
          + " WHERE store = ?";

  private List<Row> rows(Connection c, String filter, long arg) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(ROWS + filter)) {
      ps.setString(1, name);
      if (filter.contains("?")) {
        ps.setLong(2, arg);
      }
      List<Row> out = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          Row r =
              new Row(
                  rs.getLong(1),
                  rs.getLong(2),
                  rs.getLong(3),
                  rs.getLong(4),
                  rs.getLong(5),
                  rs.getInt(6));
          if (PgChecksums.snapshot(name, r.version, r.saveId, r.size, r.crc, r.created, r.chunks)
              != rs.getInt(7)) {
            throw new StoreCorruptedException(
                "The index row of "
                    + where
                    + " version "
                    + r.version
                    + " fails its checksum; the snapshot cannot be trusted. Load an older"
                    + " version, run 'cairn verify' and restore from a backup.");
          }
          out.add(r);
        }
      }
      return out;
    }
  }

  @Override
  public Optional<SnapshotInfo> latest() {
    return backend.call(
        "snapshot latest",
        where,
        c -> rows(c, " ORDER BY version DESC LIMIT 1", 0).stream().findFirst().map(Row::info));
  }

  @Override
  public List<SnapshotInfo> list() {
    return backend.call(
        "snapshot list",
        where,
        c -> rows(c, " ORDER BY version", 0).stream().map(Row::info).toList());
  }

  @Override
  public InputStream load(long version) {
    ArgumentChecks.checkSnapshotVersion(version);
    String at = where + " version " + version;
    Row row =
        backend.call("snapshot load", at, c -> rows(c, " AND version = ?", version)).stream()
            .findFirst()
            .orElseThrow(() -> new NoSuchElementException("No snapshot " + at));
    ChunkedInputStream chunks =
        new ChunkedInputStream(row.chunks) {
          @Override
          protected byte[] fetch(int index) {
            return backend.call("snapshot load", at, c -> chunk(c, row, index, at));
          }
        };
    return Checksums.verifying(chunks, row.crc, row.size, at);
  }

  private byte[] chunk(Connection c, Row row, int index, String at) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement("SELECT data, crc FROM snapshot_chunk WHERE save_id = ? AND seq = ?")) {
      ps.setLong(1, row.saveId);
      ps.setInt(2, index);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          boolean stillThere;
          try (PreparedStatement q =
              c.prepareStatement("SELECT 1 FROM snapshot WHERE save_id = ?")) {
            q.setLong(1, row.saveId);
            try (ResultSet r = q.executeQuery()) {
              stillThere = r.next();
            }
          }
          if (!stillThere) {
            throw new StorageEngineException(
                "Reading "
                    + at
                    + " failed at chunk "
                    + index
                    + ": the snapshot was replaced or deleted while it was being read. Load it"
                    + " again.",
                null);
          }
          throw new StoreCorruptedException(
              "Chunk "
                  + index
                  + " of "
                  + row.chunks
                  + " of "
                  + at
                  + " is missing; the snapshot is damaged. Load an older version, run 'cairn"
                  + " verify' and restore from a backup.");
        }
        byte[] stored = rs.getBytes(1);
        if (PgChecksums.chunk(row.saveId, index, stored) != rs.getInt(2)) {
          throw new StoreCorruptedException(
              "Chunk "
                  + index
                  + " of "
                  + at
                  + " fails its checksum; the snapshot is damaged. Load an older version, run"
                  + " 'cairn verify' and restore from a backup.");
        }
        return backend.sealer().openChunk(name, row.version, index, stored);
      }
    }
  }

  @Override
  public boolean delete(long version) {
    ArgumentChecks.checkSnapshotVersion(version);
    return backend.transaction(
        "snapshot delete", where + " version " + version, c -> deleteIn(c, name, version));
  }

  @Override
  public int retainLatest(int n) {
    if (n < 1) {
      throw new IllegalArgumentException("retainLatest needs n >= 1, got " + n);
    }
    return backend.transaction(
        "snapshot retainLatest",
        where,
        c -> {
          List<Long> gone = new ArrayList<>();
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT version FROM snapshot WHERE store = ? ORDER BY version DESC"
                      + " OFFSET ?")) {
            ps.setString(1, name);
            ps.setInt(2, n);
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                gone.add(rs.getLong(1));
              }
            }
          }
          int removed = 0;
          for (long v : gone) {
            if (deleteIn(c, name, v)) {
              removed++;
            }
          }
          return removed;
        });
  }

  static boolean deleteIn(Connection c, String store, long version) throws SQLException {
    long saveId;
    try (PreparedStatement ps =
        c.prepareStatement(
            "DELETE FROM snapshot WHERE store = ? AND version = ? RETURNING save_id")) {
      ps.setString(1, store);
      ps.setLong(2, version);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return false;
        }
        saveId = rs.getLong(1);
      }
    }
    try (PreparedStatement ps =
        c.prepareStatement("DELETE FROM snapshot_chunk WHERE save_id = ?")) {
      ps.setLong(1, saveId);
      ps.executeUpdate();
    }
    return true;
  }
}
