package io.cairn.persistence.spi;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The verify check of a SQL backend's snapshot index against its chunk rows, written once for the
 * backends that keep snapshots in the tables {@code snapshot} (one index row per store and version,
 * with its own row checksum) and {@code snapshot_chunk} (rows {@code save_id, seq}, seq from 0).
 *
 * <p>A snapshot is damaged when its index row fails its checksum, or when its chunk rows are not
 * exactly {@code 0 .. chunks-1}. Each damaged snapshot adds one problem naming the store, the
 * version and what is wrong; the check reads only and changes nothing. Stateless and thread-safe.
 */
public final class SnapshotIndexCheck {
  /**
   * One row per snapshot: store, version, save_id, size, crc, created_at, chunks, row_crc, and the
   * count, minimum and maximum seq of its chunk rows.
   */
  public static final String QUERY =
      "SELECT s.store, s.version, s.save_id, s.size, s.crc, s.created_at, s.chunks,"
          + " s.row_crc, count(k.seq), min(k.seq), max(k.seq)"
          + " FROM snapshot s LEFT JOIN snapshot_chunk k ON k.save_id = s.save_id"
          + " GROUP BY s.store, s.version";

  /** The backend's checksum of an index row, compared with the stored {@code row_crc}. */
  @FunctionalInterface
  public interface RowChecksum {
    long of(
        String store, long version, long saveId, long size, long crc, long createdAt, int chunks);
  }

  private SnapshotIndexCheck() {}

  /**
   * Checks every row of {@link #QUERY}'s result, adding a problem to {@code problems} per damaged
   * snapshot.
   *
   * @return the snapshots found per store, for a comparison with the backend's catalog
   * @throws SQLException from reading {@code rows}
   */
  public static Map<String, Long> check(ResultSet rows, RowChecksum checksum, List<String> problems)
      throws SQLException {
    Map<String, Long> counts = new TreeMap<>();
    while (rows.next()) {
      String store = rows.getString(1);
      long version = rows.getLong(2);
      int chunks = rows.getInt(7);
      counts.merge(store, 1L, Long::sum);
      String at = "snapshot:" + store + " version " + version + ": ";
      long expected =
          checksum.of(
              store,
              version,
              rows.getLong(3),
              rows.getLong(4),
              rows.getLong(5),
              rows.getLong(6),
              chunks);
      if (expected != rows.getLong(8)) {
        problems.add(at + "its index row fails its checksum");
        continue;
      }
      long found = rows.getLong(9);
      if (found != chunks
          || (chunks > 0 && (rows.getLong(10) != 0 || rows.getLong(11) != chunks - 1))) {
        problems.add(
            at
                + "its index lists "
                + chunks
                + " chunks (0 to "
                + (chunks - 1)
                + ") but "
                + found
                + " are stored"
                + (found > 0 ? " (" + rows.getLong(10) + " to " + rows.getLong(11) + ")" : ""));
      }
    }
    return counts;
  }
}
