package io.cairn.backend.postgres;

import io.cairn.persistence.PersistenceException;
import io.cairn.persistence.Progress;
import io.cairn.persistence.SnapshotInfo;
import io.cairn.persistence.SnapshotStore;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import io.cairn.persistence.VerifyReport;
import io.cairn.persistence.spi.Sealer;
import io.cairn.persistence.spi.SnapshotIndexCheck;
import java.io.IOException;
import java.io.InputStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * {@link PostgresBackend#verify}: checks every row checksum and Cairn's invariants (see {@link
 * PostgresSchema}): kv rows, each log's records exactly first_offset to next_offset - 1, each
 * snapshot's index row against its chunks, and every snapshot's data by loading it. Reads in one
 * REPEATABLE READ transaction, so the checks see one consistent state while the backend stays in
 * use. One instance per run, on one thread.
 */
final class PostgresVerify {
  private final PostgresBackend backend;
  private final Sealer sealer;

  private PostgresVerify(PostgresBackend backend) {
    this.backend = backend;
    this.sealer = backend.sealer();
  }

  static VerifyReport run(PostgresBackend backend, Progress progress) {
    return new PostgresVerify(backend).verify(progress);
  }

  private VerifyReport verify(Progress progress) {
    List<String> problems = new ArrayList<>();
    long checked;
    try {
      checked =
          backend
              .pool()
              .transaction(
                  "verify",
                  null,
                  c -> {
                    c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
                    c.setReadOnly(true);
                    try (Statement st = c.createStatement()) {
                      st.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY");
                    }
                    return verifyRows(c, problems, progress);
                  });
    } catch (PersistenceException e) {
      problems.add(backend + ": " + e.getMessage());
      checked = 0;
    }
    checked += verifySnapshots(problems, progress);
    return new VerifyReport(backend.name(), checked, problems);
  }

  private long verifyRows(Connection c, List<String> problems, Progress progress)
      throws SQLException {
    long rows = 0;
    try (PreparedStatement ps =
        c.prepareStatement("SELECT ns, key, value, version, expires_at, crc FROM kv")) {
      ps.setFetchSize(1000);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          String ns = rs.getString(1);
          byte[] key = rs.getBytes(2);
          byte[] stored = rs.getBytes(3);
          try {
            PostgresKeyValueStore.checked(
                ns, key, rs.getLong(4), rs.getLong(5), stored, rs.getInt(6));
            sealer.openValue(ns, key, stored); // decryptability; the plaintext is dropped
          } catch (io.cairn.persistence.StoreCorruptedException e) {
            problems.add(
                "kv:"
                    + ns
                    + " key "
                    + io.cairn.persistence.spi.Bytes.toDisplay(key, sealer.enabled())
                    + ": "
                    + e.getMessage());
          }
          if (++rows % 10_000 == 0) {
            progress.report("kv checksums", rows, -1);
          }
        }
      }
    }
    Map<String, long[]> heads = new TreeMap<>();
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT log, first_offset, next_offset FROM log_head")) {
      while (rs.next()) {
        heads.put(rs.getString(1), new long[] {rs.getLong(2), rs.getLong(3)});
      }
    }
    Map<String, long[]> seen = new TreeMap<>(); // first, last
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT log, record_offset, payload, crc, appended_at FROM log_record ORDER BY log,"
                + " record_offset")) {
      ps.setFetchSize(1000);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          String logName = rs.getString(1);
          long offset = rs.getLong(2);
          long[] e = seen.computeIfAbsent(logName, n -> new long[] {offset, offset - 1});
          if (offset != e[1] + 1) {
            problems.add(
                "log:"
                    + logName
                    + ": records "
                    + (e[1] + 1)
                    + " to "
                    + (offset - 1)
                    + " are missing (a gap inside the log)");
          }
          e[1] = offset;
          byte[] payload = rs.getBytes(3);
          if (PgChecksums.log(logName, offset, payload, rs.getLong(5)) != rs.getInt(4)) {
            problems.add("log:" + logName + " record " + offset + ": fails its checksum");
          } else {
            try {
              sealer.openPayload(logName, offset, payload); // decryptability, plaintext dropped
            } catch (io.cairn.persistence.StoreCorruptedException failed) {
              problems.add("log:" + logName + ": " + failed.getMessage());
            }
          }
          if (++rows % 10_000 == 0) {
            progress.report("log checksums", rows, -1);
          }
        }
      }
    }
    Set<String> names = new TreeSet<>(heads.keySet());
    names.addAll(seen.keySet());
    for (String logName : names) {
      long[] h = heads.get(logName);
      long[] e = seen.get(logName);
      String at = "log:" + logName + ": ";
      if (h == null) {
        problems.add(at + "has records but no log_head row (the head row was deleted)");
      } else if (e == null) {
        if (h[0] != h[1]) {
          problems.add(at + "records " + h[0] + " to " + (h[1] - 1) + " are missing (all of them)");
        }
      } else {
        if (e[0] < h[0]) {
          problems.add(at + "records below its first offset " + h[0] + " remain from " + e[0]);
        } else if (e[0] > h[0]) {
          problems.add(at + "records " + h[0] + " to " + (e[0] - 1) + " are missing");
        }
        if (e[1] + 1 < h[1]) {
          problems.add(
              at + "records " + (e[1] + 1) + " to " + (h[1] - 1) + " are missing (the tail)");
        } else if (e[1] + 1 > h[1]) {
          problems.add(
              at
                  + "records up to "
                  + e[1]
                  + " exist beyond its next offset "
                  + h[1]
                  + " (the head row is damaged; new appends would collide)");
        }
      }
    }
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(SnapshotIndexCheck.QUERY)) {
      SnapshotIndexCheck.check(rs, PgChecksums::snapshot, problems);
    }
    try (Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT count(*) FROM snapshot_chunk k WHERE NOT EXISTS"
                    + " (SELECT 1 FROM snapshot s WHERE s.save_id = k.save_id)")) {
      rs.next();
      if (rs.getLong(1) > 0) {
        problems.add(
            "snapshot_chunk: "
                + rs.getLong(1)
                + " chunks belong to no snapshot (rows were deleted outside Cairn)");
      }
    }
    return rows;
  }

  private long verifySnapshots(List<String> problems, Progress progress) {
    List<StoreId> sets;
    try {
      sets = backend.stores().stream().filter(s -> s.kind() == StoreKind.SNAPSHOT).toList();
    } catch (PersistenceException e) {
      problems.add("snapshots: " + e.getMessage());
      return 0;
    }
    long done = 0;
    byte[] buf = new byte[64 * 1024];
    for (StoreId set : sets) {
      SnapshotStore store = backend.snapshots(set.name());
      List<SnapshotInfo> infos;
      try {
        infos = store.list();
      } catch (PersistenceException e) {
        problems.add("snapshot:" + set.name() + ": " + e.getMessage());
        continue;
      }
      for (SnapshotInfo info : infos) {
        try (InputStream in = store.load(info.version())) {
          while (in.read(buf) >= 0) {
            // reading to the end checks every chunk, the length and the CRC-32C
          }
        } catch (NoSuchElementException gone) {
          continue; // deleted since listed
        } catch (PersistenceException | IOException e) {
          problems.add(
              "snapshot:" + set.name() + " version " + info.version() + ": " + e.getMessage());
        }
        progress.report("snapshots", ++done, -1);
      }
    }
    return done;
  }
}
