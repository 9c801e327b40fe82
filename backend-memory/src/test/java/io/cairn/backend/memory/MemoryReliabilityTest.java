package io.cairn.backend.memory;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.tck.reliability.CorruptionMatrix;
import io.cairn.tck.reliability.MatrixReport;
import io.cairn.tck.reliability.Outcome;
import org.junit.jupiter.api.Test;

/**
 * The reliability suite on the memory backend. It has no files, so there is nothing to damage and
 * nothing survives a kill (durability {@code none}); what applies is the live check: the matrix's
 * workload (versions, TTLs that expire, deletes, batches, transactions, a truncated log, retained
 * snapshots) reads back exactly as written. It makes the memory backend the reference the file
 * backends' matrices are held to.
 */
class MemoryReliabilityTest {
  @Test
  void matrixWorkloadReadsBackExactly() {
    try (PersistenceRegistry registry =
        PersistenceRegistry.open(
            ConfigFactory.parseString("cairn.backends.mem { type = memory }"))) {
      MatrixReport report = CorruptionMatrix.live(registry.backend("mem"), 20261205L);
      System.out.println(report.table());
      assertThat(report.rows())
          .singleElement()
          .extracting(MatrixReport.Row::outcome)
          .isEqualTo(Outcome.INTACT);
      report.assertPassed();
    }
  }
}
