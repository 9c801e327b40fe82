package io.cairn.pekko;

import java.nio.file.Path;
import org.apache.pekko.persistence.CapabilityFlag;
import org.apache.pekko.persistence.japi.journal.JavaJournalSpec;
import org.junit.runner.RunWith;
import org.scalatestplus.junit.JUnitRunner;

/**
 * Pekko's own journal TCK, unmodified, against {@link CairnJournal} on the rocksdb backend. Every
 * capability flag is on: rejecting non-serializable events, serialization and metadata.
 */
@RunWith(JUnitRunner.class)
public class RocksdbJournalTckTest extends JavaJournalSpec {
  private static final Path DIR = TestConfigs.tempDir("rocksdb-journal");

  public RocksdbJournalTckTest() {
    super(TestConfigs.plugins("rocksdb", DIR, "normal"));
  }

  @Override
  public CapabilityFlag supportsMetadata() {
    return CapabilityFlag.on();
  }

  @Override
  public void afterAll() {
    super.afterAll();
    TestConfigs.delete(DIR);
  }
}
