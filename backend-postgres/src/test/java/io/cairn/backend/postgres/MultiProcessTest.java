package io.cairn.backend.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.persistence.LogRecord;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.Progress;
import io.cairn.tck.crash.ChildJvm;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Three JVMs on one schema at once (capability MULTI_PROCESS): their appends to one log get
 * gap-free, unique offsets and their compare-and-set increments of one key lose nothing. Records
 * per process: {@code -DmultiProcessRecords} (default 200).
 */
class MultiProcessTest {
  private static final String SCHEMA = "multiproc";

  @Test
  void threeProcessesAppendGapFreeAndLoseNoUpdates() throws Exception {
    TestPostgres pg = TestPostgres.shared();
    pg.dropSchema(SCHEMA);
    int perProcess = Integer.getInteger("multiProcessRecords", 200);
    String hocon =
        "cairn.backends.pg { " + pg.backendConfig(SCHEMA, "normal") + ", pool-size = 3 }";
    try (PersistenceRegistry r = PgTests.open(SCHEMA, "")) { // create the schema first
      r.backend("pg").keyValue("shared");
    }
    List<ChildJvm> children = new ArrayList<>();
    try {
      for (int p = 0; p < 3; p++) {
        children.add(
            ChildJvm.start(ConcurrentAppender.class, hocon, "p" + p, String.valueOf(perProcess)));
      }
      for (ChildJvm c : children) {
        assertThat(
                c.awaitLine(
                    l -> l.equals("OPENED") || l.contains("Exception"), Duration.ofMinutes(5)))
            .as("child %s: %s", c, c.output())
            .isEqualTo("OPENED");
      }
      for (ChildJvm c : children) { // all open: start them together
        c.stdin().write("go\n".getBytes(StandardCharsets.UTF_8));
        c.stdin().flush();
      }
      for (ChildJvm c : children) {
        String line =
            c.awaitLine(l -> l.equals("DONE") || l.contains("Exception"), Duration.ofMinutes(5));
        assertThat(line).as("child %s: %s", c, c.output()).isEqualTo("DONE");
      }
    } finally {
      for (ChildJvm c : children) {
        c.close();
      }
    }
    try (PersistenceRegistry r = PgTests.open(SCHEMA, "")) {
      var log = r.backend("pg").log("shared");
      int total = 3 * perProcess;
      assertThat(log.nextOffset()).isEqualTo(total);
      List<LogRecord> all = new ArrayList<>();
      for (long from = 0; from < total; ) {
        List<LogRecord> page = log.read(from, 500);
        all.addAll(page);
        from += page.size();
      }
      Set<String> payloads = new HashSet<>();
      for (int i = 0; i < all.size(); i++) {
        assertThat(all.get(i).offset()).isEqualTo(i);
        payloads.add(new String(all.get(i).payload(), StandardCharsets.UTF_8));
      }
      assertThat(payloads).as("every append of every process, once").hasSize(total);
      assertThat(
              ByteBuffer.wrap(r.backend("pg").keyValue("shared").get(new byte[] {'n'})).getLong())
          .isEqualTo(total);
      assertThat(r.backend("pg").verify(Progress.NONE).problems()).isEmpty();
    }
  }
}
