package io.cairn.backend.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.cairn.persistence.LogRecord;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.StorageBackend;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The PostgreSQL server is stopped and started again while a backend is open: during the outage
 * every kind of operation fails with {@link PostgresUnavailableException} (retriable, saying
 * nothing was written), health says why, and afterwards the same backend object resumes by itself
 * with every acknowledged write there and the log's offsets continuing without a gap.
 */
class PostgresServerRestartTest {
  private static final String SCHEMA = "restart";

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void operationsFailRetriablyDuringAnOutageAndResumeAfter() throws Exception {
    TestPostgres pg = TestPostgres.shared();
    org.junit.jupiter.api.Assumptions.assumeTrue(
        pg.managed(), "the server at -DpgTestUrl is not stopped and started by the tests");
    pg.dropSchema(SCHEMA);
    try (PersistenceRegistry r =
        PgTests.open(SCHEMA, "full", "connect-timeout = 2s\npool-size = 4", null)) {
      StorageBackend be = r.backend("pg");
      be.keyValue("q").put(b("before"), b("1"));
      be.log("events").append(b("e0"));
      be.log("events").append(b("e1"));
      be.snapshots("s").save(1, b("snap"));

      pg.stop();
      try {
        List<Supplier<Object>> ops =
            List.of(
                () -> be.keyValue("q").put(b("during"), b("x")),
                () -> be.keyValue("q").get(b("before")),
                () -> be.log("events").append(b("lost?")),
                () -> be.log("events").read(0, 10),
                () -> be.inTransaction(tx -> tx.keyValue("q").put(b("tx"), b("x"))),
                () -> be.snapshots("s").latest(),
                () -> be.keyValue("q").scan(null, null));
        for (Supplier<Object> op : ops) {
          Throwable t = catchThrowable(op::get);
          assertThat(t)
              .as("an operation while the server is down")
              .isInstanceOf(PostgresUnavailableException.class)
              .hasMessageContaining("the PostgreSQL server is unavailable")
              .hasMessageContaining("Retriable");
          assertThat(((PostgresUnavailableException) t).retriable()).isTrue();
        }
        assertThat(be.health().isHealthy()).isFalse();
        assertThat(be.health().getMessage()).contains("unavailable");
      } finally {
        pg.start();
      }

      // the same backend resumes once the pool has reconnected (the first use of a connection
      // broken by the restart may still fail, retriably)
      long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
      while (true) {
        try {
          be.keyValue("q").put(b("after"), b("2"));
          break;
        } catch (PostgresUnavailableException e) {
          if (System.nanoTime() > deadline) {
            throw e;
          }
          Thread.sleep(200);
        }
      }
      assertThat(be.keyValue("q").get(b("before"))).isEqualTo(b("1"));
      assertThat(be.keyValue("q").get(b("during"))).isNull();
      assertThat(be.keyValue("q").get(b("tx"))).isNull();
      long next = be.log("events").append(b("e2"));
      assertThat(next).as("offsets continue without gap or reuse").isEqualTo(2);
      List<LogRecord> records = be.log("events").read(0, 10);
      assertThat(records).extracting(LogRecord::offset).containsExactly(0L, 1L, 2L);
      assertThat(be.snapshots("s").latest()).isPresent();
      assertThat(be.health().isHealthy()).as(be.health().getMessage()).isTrue();
    }
  }
}
