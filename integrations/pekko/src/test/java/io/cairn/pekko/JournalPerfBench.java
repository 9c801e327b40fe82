package io.cairn.pekko;

import java.nio.file.Path;
import org.apache.pekko.persistence.CapabilityFlag;
import org.apache.pekko.persistence.japi.journal.JavaJournalPerfSpec;
import org.junit.runner.RunWith;
import org.scalatestplus.junit.JUnitRunner;

/**
 * Pekko's {@code JavaJournalPerfSpec} (which also runs the whole journal TCK) on one backend and
 * durability. Not part of the default build (the class name matches no Surefire include); run it
 * under the benchmark lock, e.g.
 *
 * <pre>
 * flock /tmp/bench.lock ./mvnw -o -pl integrations/pekko verify -Dtest=JournalPerfBench \
 *     -DperfBackend=rocksdb -DperfDurability=full
 * </pre>
 *
 * {@code -DperfEvents} (default 10000) and {@code -DperfIterations} (default 10) change the TCK's
 * event count and measurement iterations; the timeout per measurement is raised to 10 minutes
 * because the figures are what is wanted here, not a pass/fail on speed. Figures are printed to
 * standard output and recorded in benchmarks/RESULTS-pekko.md.
 */
@RunWith(JUnitRunner.class)
public class JournalPerfBench extends JavaJournalPerfSpec {
  private static final String BACKEND = System.getProperty("perfBackend", "sqlite");
  private static final String DURABILITY = System.getProperty("perfDurability", "normal");
  private static final Path DIR = TestConfigs.tempDir(BACKEND + "-perf");

  public JournalPerfBench() {
    super(TestConfigs.plugins(BACKEND, DIR, DURABILITY));
    System.out.println("JournalPerfBench: backend " + BACKEND + ", durability " + DURABILITY);
  }

  @Override
  public CapabilityFlag supportsMetadata() {
    return CapabilityFlag.on();
  }

  @Override
  public long awaitDurationMillis() {
    return 600_000;
  }

  @Override
  public int eventsCount() {
    return Integer.getInteger("perfEvents", 10_000);
  }

  @Override
  public int measurementIterations() {
    return Integer.getInteger("perfIterations", 10);
  }

  @Override
  public void afterAll() {
    super.afterAll();
    TestConfigs.delete(DIR);
  }
}
