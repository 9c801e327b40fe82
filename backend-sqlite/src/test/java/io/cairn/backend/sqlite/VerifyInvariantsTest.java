package io.cairn.backend.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.Progress;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * verify() checks Cairn's own invariants, not only SQLite's integrity_check (issue 10 item 5): each
 * case damages the database through plain JDBC, in a way that leaves SQLite's structures sound, and
 * expects verify to name the damage.
 */
class VerifyInvariantsTest {
  @TempDir Path dir;

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private void populate() {
    try (PersistenceRegistry r = TestBackends.open(dir, "snapshot-chunk-size = 4KiB")) {
      var be = r.backend("main");
      be.keyValue("users").put(b("u"), b("v"));
      for (int i = 0; i < 10; i++) {
        be.log("events").append(b("e" + i));
        be.log("audit").append(b("a" + i));
      }
      be.log("audit").truncateBefore(3);
      be.snapshots("state").save(1, new ByteArrayInputStream(new byte[10_000])); // 3 chunks
      be.snapshots("state").save(2, new ByteArrayInputStream(new byte[100]));
      be.snapshots("other").save(7, new ByteArrayInputStream(new byte[100]));
      assertThat(be.verify(Progress.NONE).problems()).as("before damage").isEmpty();
    }
  }

  private List<String> damageAndVerify(String... statements) throws Exception {
    populate();
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("cairn.db"));
        Statement st = c.createStatement()) {
      // Damage happens below SQL, where no trigger keeps the catalog in step: drop the triggers
      // around the damage and put them back.
      List<String> triggers = new java.util.ArrayList<>();
      try (var rs = st.executeQuery("SELECT name, sql FROM sqlite_schema WHERE type = 'trigger'")) {
        while (rs.next()) {
          triggers.add(rs.getString(1));
          triggers.add(rs.getString(2));
        }
      }
      assertThat(triggers).isNotEmpty();
      for (int i = 0; i < triggers.size(); i += 2) {
        st.execute("DROP TRIGGER " + triggers.get(i));
      }
      for (String s : statements) {
        assertThat(st.executeUpdate(s)).as(s).isPositive();
      }
      for (int i = 1; i < triggers.size(); i += 2) {
        st.execute(triggers.get(i));
      }
    }
    try (PersistenceRegistry r = TestBackends.open(dir, "")) {
      List<String> problems = r.backend("main").verify(Progress.NONE).problems();
      assertThat(problems).as("verify after: %s", List.of(statements)).isNotEmpty();
      return problems;
    }
  }

  @Test
  void aRecordDeletedInsideALogIsAGap() throws Exception {
    assertThat(damageAndVerify("DELETE FROM log_record WHERE log = 'events' AND record_offset = 4"))
        .anyMatch(p -> p.contains("log:events") && p.contains("records 4 to 4 are missing"));
  }

  @Test
  void theFirstRecordsOfALogDeletedAreMissingFromItsStart() throws Exception {
    assertThat(damageAndVerify("DELETE FROM log_record WHERE log = 'audit' AND record_offset < 5"))
        .anyMatch(p -> p.contains("log:audit") && p.contains("records 3 to 4 are missing"));
  }

  @Test
  void theTailOfALogDeletedIsReportedAgainstTheCatalog() throws Exception {
    assertThat(damageAndVerify("DELETE FROM log_record WHERE log = 'events' AND record_offset > 6"))
        .anyMatch(p -> p.contains("log:events") && p.contains("7 to 9, are missing"));
  }

  @Test
  void aWholeLogLostIsReported() throws Exception {
    assertThat(damageAndVerify("DELETE FROM log_record WHERE log = 'events'"))
        .anyMatch(p -> p.contains("log:events") && p.contains("the log was lost"));
  }

  @Test
  void aSnapshotChunkDeletedIsReportedAgainstItsIndex() throws Exception {
    assertThat(
            damageAndVerify(
                "DELETE FROM snapshot_chunk WHERE seq = 1 AND save_id ="
                    + " (SELECT save_id FROM snapshot WHERE store = 'state' AND version = 1)"))
        .anyMatch(
            p ->
                p.contains("snapshot:state version 1")
                    && p.contains("lists 3 chunks")
                    && p.contains("2 are stored"));
  }

  @Test
  void aSnapshotSetLostIsReportedAgainstTheCatalog() throws Exception {
    assertThat(damageAndVerify("DELETE FROM snapshot WHERE store = 'other'"))
        .anyMatch(p -> p.contains("snapshot:other") && p.contains("the snapshot set was lost"));
  }

  @Test
  void aSnapshotIndexRowChangedFailsItsChecksum() throws Exception {
    assertThat(
            damageAndVerify("UPDATE snapshot SET chunks = 2 WHERE store = 'state' AND version = 1"))
        .anyMatch(p -> p.contains("snapshot:state version 1") && p.contains("checksum"));
  }

  @Test
  void catalogRowsDeletedAreReported() throws Exception {
    assertThat(
            damageAndVerify(
                "DELETE FROM catalog WHERE kind = 'kv'",
                "DELETE FROM catalog WHERE kind = 'log' AND name = 'audit'",
                "DELETE FROM catalog WHERE kind = 'snapshot' AND name = 'state'"))
        .anyMatch(p -> p.contains("kv:users") && p.contains("no catalog entry"))
        .anyMatch(p -> p.contains("log:audit") && p.contains("no catalog entry"))
        .anyMatch(p -> p.contains("snapshot:state") && p.contains("no catalog entry"));
  }

  @Test
  void aDamagedVersionReservationIsReported() throws Exception {
    assertThat(damageAndVerify("UPDATE meta SET value = 1 WHERE name = 'kv-version-reserved'"))
        .anyMatch(p -> p.contains("version reservation"));
  }
}
