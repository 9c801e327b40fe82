package io.cairn.backend.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.persistence.LogRecord;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.Progress;
import io.cairn.tck.ManualClock;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A schema written before the append-time step (no {@code log_record.appended_at}, checksums over
 * log, offset and payload) is migrated: its records read with "not recorded" and keep their
 * checksums; new records carry the clock's time.
 */
class PostgresLogAppendTimeTest {
  private static final String SCHEMA = "pgappendtime";

  @BeforeEach
  void freshSchema() {
    TestPostgres.shared().dropSchema(SCHEMA);
  }

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void recordsFromBeforeTheStepReadAsNotRecordedAndNewOnesCarryTheirTime() throws Exception {
    ManualClock clock = new ManualClock();
    try (PersistenceRegistry r = PgTests.open(SCHEMA, "normal", "", clock)) {
      r.backend("pg").log("events").appendAll(List.of(b("e0"), b("e1")));
      assertThat(r.backend("pg").log("events").read(0, 10))
          .extracting(LogRecord::appendedAtMillis)
          .containsExactly(clock.millis(), clock.millis());
    }
    // rewrite as schema version 2 stored it: no column, checksums without the time
    try (Connection c = TestPostgres.shared().connect();
        Statement st = c.createStatement()) {
      st.execute("SET search_path TO " + SCHEMA);
      List<Object[]> rows = new ArrayList<>();
      try (ResultSet rs = st.executeQuery("SELECT log, record_offset, payload FROM log_record")) {
        while (rs.next()) {
          rows.add(new Object[] {rs.getString(1), rs.getLong(2), rs.getBytes(3)});
        }
      }
      st.execute("ALTER TABLE log_record DROP COLUMN appended_at");
      try (PreparedStatement ps =
          c.prepareStatement("UPDATE log_record SET crc = ? WHERE log = ? AND record_offset = ?")) {
        for (Object[] row : rows) {
          ps.setInt(1, PgChecksums.log((String) row[0], (Long) row[1], (byte[]) row[2]));
          ps.setString(2, (String) row[0]);
          ps.setLong(3, (Long) row[1]);
          ps.executeUpdate();
        }
      }
      // The append-time step is version 3: back to version 2 (the queue table stays), without the
      // later key check table of version 4.
      st.execute("DROP TABLE IF EXISTS cairn_keycheck");
      st.execute("UPDATE cairn_schema SET version = 2");
    }
    clock.advanceMillis(60_000);
    try (PersistenceRegistry r = PgTests.open(SCHEMA, "normal", "", clock)) {
      var log = r.backend("pg").log("events");
      assertThat(log.read(0, 10))
          .extracting(LogRecord::appendedAtMillis)
          .containsExactly(LogRecord.NOT_RECORDED, LogRecord.NOT_RECORDED);
      assertThat(log.append(b("e2"))).isEqualTo(2);
      r.backend("pg").inTransaction(tx -> tx.log("events").append(b("e3")));
      assertThat(log.read(2, 10))
          .extracting(LogRecord::appendedAtMillis)
          .containsExactly(clock.millis(), clock.millis());
      assertThat(r.backend("pg").verify(Progress.NONE).problems()).isEmpty();
    }
  }
}
