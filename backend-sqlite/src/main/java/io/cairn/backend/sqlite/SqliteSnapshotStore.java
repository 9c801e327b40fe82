package io.cairn.backend.sqlite;

import io.cairn.persistence.PersistenceException;
import io.cairn.persistence.SnapshotInfo;
import io.cairn.persistence.SnapshotStore;
import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.spi.Checksums;
import io.cairn.persistence.spi.ChunkedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.zip.CRC32C;

/**
 * One snapshot set: rows of {@code snapshot} with {@code store = name} and their {@code
 * snapshot_chunk} rows (layout and commit points in {@link SqliteDatabase}). A save streams its
 * input in chunks, each committed on its own under a fresh save id, then publishes the snapshot row
 * in one transaction; a load streams chunk by chunk and verifies length and CRC-32C at the end.
 * Thread-safe.
 */
final class SqliteSnapshotStore implements SnapshotStore {
  private static final String COLUMNS = "version, size, crc, created_at, save_id, chunks, row_crc";
  static final String INSERT_CHUNK =
      "INSERT INTO snapshot_chunk (save_id, seq, data) VALUES (?, ?, ?)";
  static final String FIND =
      "SELECT save_id, size, crc, chunks, created_at, row_crc FROM snapshot"
          + " WHERE store = ? AND version = ?";
  static final String PUBLISH =
      "INSERT OR REPLACE INTO snapshot"
          + " (store, version, save_id, size, crc, created_at, chunks, row_crc)"
          + " VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
  static final String DELETE_CHUNKS = "DELETE FROM snapshot_chunk WHERE save_id = ?";
  static final String READ_CHUNK = "SELECT data FROM snapshot_chunk WHERE save_id = ? AND seq = ?";

  private final SqliteBackend backend;
  private final String store;
  private final String where;

  SqliteSnapshotStore(SqliteBackend backend, String store) {
    this.backend = backend;
    this.store = store;
    this.where = "snapshot:" + store;
  }

  @Override
  public String name() {
    return store;
  }

  @Override
  public SnapshotInfo save(long version, InputStream data) {
    return save(version, data, OptionalLong.empty());
  }

  /**
   * Saves snapshot {@code version}. Through the store API ({@code imported} empty) the creation
   * time is the clock's at publication and the snapshot row commits in a group commit; for the
   * importer ({@code imported} = the source's creation time) the row is published in a transaction
   * of its own, fsynced unless the backend runs at durability none ({@link
   * SqliteBackend#importWrite}). The chunks are written the same way either way: the fsync of the
   * publication covers them (they precede it in the WAL, or a checkpoint fsynced them into the
   * database file).
   */
  SnapshotInfo save(long version, InputStream data, OptionalLong imported) {
    Objects.requireNonNull(data, "data");
    if (version < 0) {
      throw new IllegalArgumentException("Snapshot version must be non-negative, got " + version);
    }
    String at = where + " version " + version;
    int chunkSize = backend.settings().snapshotChunkBytes();
    long saveId = backend.beginSave();
    try {
      CRC32C crc = new CRC32C();
      long size = 0;
      int seq = 0;
      byte[] buf = new byte[chunkSize];
      while (true) {
        int n;
        try {
          n = data.readNBytes(buf, 0, chunkSize);
        } catch (IOException e) {
          throw new PersistenceException(
              "Reading the data for "
                  + at
                  + " of "
                  + backend.describe()
                  + " failed: "
                  + e
                  + "; nothing was saved.",
              e);
        }
        if (n == 0) {
          break;
        }
        crc.update(buf, 0, n);
        size += n;
        int chunkSeq = seq++;
        byte[] stored = backend.sealer().sealChunk(store, version, chunkSeq, Arrays.copyOf(buf, n));
        backend
            .writer()
            .submit(
                true,
                "save",
                at + " chunk " + chunkSeq,
                s -> {
                  PreparedStatement ps = s.conn().prepare(INSERT_CHUNK);
                  ps.setLong(1, saveId);
                  ps.setInt(2, chunkSeq);
                  ps.setBytes(3, stored);
                  ps.executeUpdate();
                  return null;
                });
        if (n < chunkSize) {
          break;
        }
      }
      long created = imported.orElseGet(() -> backend.clock().millis());
      long total = size;
      int chunks = seq;
      long checksum = crc.getValue();
      Writer.WriteOp<Void> publish =
          s -> {
            Long old = null;
            PreparedStatement find = s.conn().prepare(FIND);
            find.setString(1, store);
            find.setLong(2, version);
            try (ResultSet rs = find.executeQuery()) {
              if (rs.next()) {
                old = rs.getLong(1);
              }
            }
            PreparedStatement pub = s.conn().prepare(PUBLISH);
            pub.setString(1, store);
            pub.setLong(2, version);
            pub.setLong(3, saveId);
            pub.setLong(4, total);
            pub.setLong(5, checksum);
            pub.setLong(6, created);
            pub.setInt(7, chunks);
            pub.setInt(
                8, RowChecksums.snapshot(store, version, saveId, total, checksum, created, chunks));
            pub.executeUpdate();
            if (old != null) {
              deleteChunks(s.conn(), old);
            }
            return null;
          };
      if (imported.isPresent()) {
        backend.importWrite("import", at, publish);
      } else {
        backend.writer().submit(false, "save", at, publish);
      }
      backend.endSave(saveId, true);
      return new SnapshotInfo(version, total, checksum, created);
    } catch (RuntimeException e) {
      backend.endSave(saveId, false);
      throw e;
    }
  }

  @Override
  public Optional<SnapshotInfo> latest() {
    List<SnapshotInfo> l =
        query("SELECT " + COLUMNS + " FROM snapshot WHERE store = ? ORDER BY version DESC LIMIT 1");
    return l.isEmpty() ? Optional.empty() : Optional.of(l.get(0));
  }

  @Override
  public List<SnapshotInfo> list() {
    return query("SELECT " + COLUMNS + " FROM snapshot WHERE store = ? ORDER BY version");
  }

  private List<SnapshotInfo> query(String sql) {
    return backend
        .readers()
        .read(
            "list",
            where,
            c -> {
              PreparedStatement ps = c.prepare(sql);
              ps.setString(1, store);
              List<SnapshotInfo> out = new ArrayList<>();
              try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                  long version = rs.getLong(1);
                  checkRow(
                      version,
                      rs.getLong(5),
                      rs.getLong(2),
                      rs.getLong(3),
                      rs.getLong(4),
                      rs.getInt(6),
                      rs.getLong(7));
                  out.add(new SnapshotInfo(version, rs.getLong(2), rs.getLong(3), rs.getLong(4)));
                }
              }
              return out;
            });
  }

  @Override
  public InputStream load(long version) {
    String at = where + " version " + version;
    long[] row =
        backend
            .readers()
            .read(
                "load",
                at,
                c -> {
                  PreparedStatement ps = c.prepare(FIND);
                  ps.setString(1, store);
                  ps.setLong(2, version);
                  try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                      return null;
                    }
                    checkRow(
                        version,
                        rs.getLong(1),
                        rs.getLong(2),
                        rs.getLong(3),
                        rs.getLong(5),
                        rs.getInt(4),
                        rs.getLong(6));
                    return new long[] {rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4)};
                  }
                });
    if (row == null) {
      throw new NoSuchElementException(
          "No snapshot version " + version + " in " + where + " of " + backend.describe());
    }
    InputStream chunks = new ChunkStream(version, row[0], (int) row[3], at);
    return Checksums.verifying(chunks, row[2], row[1], at + " of " + backend.describe());
  }

  @Override
  public boolean delete(long version) {
    return backend
        .writer()
        .submit(
            false,
            "delete",
            where + " version " + version,
            s -> {
              PreparedStatement ps =
                  s.conn()
                      .prepare(
                          "DELETE FROM snapshot WHERE store = ? AND version = ? RETURNING save_id");
              ps.setString(1, store);
              ps.setLong(2, version);
              long saveId = Conn.returningLong(ps, -1); // save ids start at 1
              if (saveId < 0) {
                return false;
              }
              deleteChunks(s.conn(), saveId);
              return true;
            });
  }

  @Override
  public int retainLatest(int n) {
    if (n < 1) {
      throw new IllegalArgumentException("retainLatest needs n >= 1, got " + n);
    }
    return backend
        .writer()
        .submit(
            false,
            "retainLatest",
            where,
            s -> {
              List<Long> saveIds = new ArrayList<>();
              PreparedStatement old =
                  s.conn()
                      .prepare(
                          "DELETE FROM snapshot WHERE store = ? AND version IN (SELECT version FROM"
                              + " snapshot WHERE store = ? ORDER BY version DESC LIMIT -1 OFFSET ?)"
                              + " RETURNING save_id");
              old.setString(1, store);
              old.setString(2, store);
              old.setInt(3, n);
              try (ResultSet rs = old.executeQuery()) {
                while (rs.next()) {
                  saveIds.add(rs.getLong(1));
                }
              }
              for (long id : saveIds) {
                deleteChunks(s.conn(), id);
              }
              return saveIds.size();
            });
  }

  /** Throws unless a snapshot row matches its row checksum ({@link RowChecksums#snapshot}). */
  private void checkRow(
      long version, long saveId, long size, long crc, long created, int chunks, long rowCrc) {
    int actual = RowChecksums.snapshot(store, version, saveId, size, crc, created, chunks);
    if (actual != rowCrc) {
      throw new StoreCorruptedException(
          String.format(
              "The index row of %s version %d in %s fails its checksum (stored %08x, computed"
                  + " %08x): its version, size, checksum or chunk list is damaged and it is not"
                  + " used. Load an older snapshot or restore from a backup, and run 'cairn"
                  + " verify'.",
              where, version, backend.describe(), (int) rowCrc, actual));
    }
  }

  static void deleteChunks(Conn c, long saveId) throws SQLException {
    PreparedStatement ps = c.prepare(DELETE_CHUNKS);
    ps.setLong(1, saveId);
    ps.executeUpdate();
  }

  /** Reads chunk after chunk, one reader query each; holds no connection between chunks. */
  private final class ChunkStream extends ChunkedInputStream {
    private final long version;
    private final long saveId;
    private final int chunks;
    private final String at;

    ChunkStream(long version, long saveId, int chunks, String at) {
      super(chunks);
      this.version = version;
      this.saveId = saveId;
      this.chunks = chunks;
      this.at = at;
    }

    @Override
    protected byte[] fetch(int seq) {
      byte[] stored =
          backend
              .readers()
              .read(
                  "load",
                  at + " chunk " + seq,
                  c -> {
                    PreparedStatement ps = c.prepare(READ_CHUNK);
                    ps.setLong(1, saveId);
                    ps.setInt(2, seq);
                    try (ResultSet rs = ps.executeQuery()) {
                      if (rs.next()) {
                        return rs.getBytes(1);
                      }
                    }
                    PreparedStatement still = c.prepare(FIND);
                    still.setString(1, store);
                    still.setLong(2, version);
                    try (ResultSet rs = still.executeQuery()) {
                      if (!rs.next() || rs.getLong(1) != saveId) {
                        throw new PersistenceException(
                            at
                                + " of "
                                + backend.describe()
                                + " was deleted or replaced while it was being read; load it"
                                + " again.");
                      }
                    }
                    return null;
                  });
      if (stored == null) {
        throw new StoreCorruptedException(
            "Chunk "
                + seq
                + " of "
                + chunks
                + " of "
                + at
                + " of "
                + backend.describe()
                + " is missing; the snapshot is corrupt. Load an older snapshot or restore from a"
                + " backup, and run 'cairn verify'.");
      }
      return backend.sealer().openChunk(store, version, seq, stored);
    }
  }
}
