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
 * case damages the database through plain JDBC, in a way that leaves SQLite's structures sound
 * (rows of the {@code rec} table deleted or changed, see {@link EngineSchema}), and expects verify
 * to name the damage. The rules are the shared base's (gap-free logs, snapshot chunk index, record
 * checksums, the store catalog); this test shows they hold over SQLite's table.
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
      for (String s : statements) {
        assertThat(st.executeUpdate(s)).as(s).isPositive();
      }
    }
    try (PersistenceRegistry r = TestBackends.open(dir, "")) {
      List<String> problems = r.backend("main").verify(Progress.NONE).problems();
      assertThat(problems).as("verify after: %s", List.of(statements)).isNotEmpty();
      return problems;
    }
  }

  /** The rows of log {@code log}'s records (8-byte big-endian offsets) matching {@code cond}. */
  private static String logRecords(String log, String cond) {
    return "DELETE FROM rec WHERE kind = 1 AND store = '"
        + log
        + "' AND length(key) = 8"
        + (cond.isEmpty() ? "" : " AND " + cond);
  }

  private static String offset(long o) {
    return String.format("x'%016x'", o);
  }

  @Test
  void aRecordDeletedInsideALogIsAGap() throws Exception {
    assertThat(damageAndVerify(logRecords("events", "key = " + offset(4))))
        .anyMatch(p -> p.contains("events") && p.contains("4 to 4"));
  }

  @Test
  void theFirstRecordsOfALogDeletedAreMissingFromItsStart() throws Exception {
    assertThat(damageAndVerify(logRecords("audit", "key < " + offset(5))))
        .anyMatch(p -> p.contains("audit") && p.contains("3 to 4"));
  }

  @Test
  void theTailOfALogDeletedIsReportedAgainstItsPosition() throws Exception {
    assertThat(damageAndVerify(logRecords("events", "key > " + offset(6))))
        .anyMatch(p -> p.contains("events") && p.contains("7 to 9"));
  }

  @Test
  void aWholeLogLostIsReported() throws Exception {
    assertThat(damageAndVerify("DELETE FROM rec WHERE kind = 1 AND store = 'events'"))
        .anyMatch(p -> p.contains("events") && p.contains("lost"));
  }

  @Test
  void aSnapshotChunkDeletedIsReportedAgainstItsIndex() throws Exception {
    assertThat(
            damageAndVerify(
                "DELETE FROM rec WHERE kind = 2 AND store = 'state' AND length(key) = 21"
                    + " AND substr(key, 1, 9) = x'430000000000000001'"
                    + " AND substr(key, 18, 4) = x'00000001'"))
        .anyMatch(
            p -> p.contains("chunk 1 of snapshot 1 of snapshot set 'state' is missing (of 3)"));
  }

  @Test
  void aSnapshotSetLostIsReportedAgainstTheCatalog() throws Exception {
    assertThat(damageAndVerify("DELETE FROM rec WHERE kind = 2 AND store = 'other'"))
        .anyMatch(p -> p.contains("other") && p.contains("lost"));
  }

  /**
   * A manifest whose bytes changed fails its checksum: verify names it as a problem of the report
   * (not a thrown exception, which would hide every later finding) and still checks the set's other
   * snapshot, which reads whole.
   */
  @Test
  void aSnapshotManifestChangedFailsItsChecksum() throws Exception {
    populate();
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("cairn.db"));
        Statement st = c.createStatement()) {
      assertThat(
              st.executeUpdate(
                  "UPDATE rec SET value = substr(value, 1, 5)"
                      + " || CASE WHEN substr(value, 6, 1) = x'00' THEN x'01' ELSE x'00' END"
                      + " || substr(value, 7)"
                      + " WHERE kind = 2 AND store = 'state' AND key = x'4d0000000000000001'"))
          .isEqualTo(1);
    }
    try (PersistenceRegistry r = TestBackends.open(dir, "")) {
      List<String> problems = r.backend("main").verify(Progress.NONE).problems();
      assertThat(problems)
          .singleElement()
          .asString()
          .contains("the manifest of snapshot 1 of snapshot set 'state' fails its");
      try (var in = r.backend("main").snapshots("state").load(2)) {
        assertThat(in.readAllBytes()).as("the set's other snapshot").hasSize(100);
      }
    }
  }

  @Test
  void catalogEntriesDeletedAreReported() throws Exception {
    assertThat(
            damageAndVerify(
                "DELETE FROM rec WHERE kind = 0 AND store = '_cairn'"
                    + " AND key IN (CAST('log:audit' AS BLOB), CAST('snapshot:state' AS BLOB))"))
        .anyMatch(p -> p.contains("audit"))
        .anyMatch(p -> p.contains("state"));
  }
}
