package io.cairn.pekko;

import java.nio.file.Path;
import org.apache.pekko.persistence.CapabilityFlag;
import org.apache.pekko.persistence.japi.journal.JavaJournalSpec;
import org.junit.runner.RunWith;
import org.scalatestplus.junit.JUnitRunner;

/**
 * Pekko's own journal TCK, unmodified, against {@link CairnJournal} on the sqlite backend. Every
 * capability flag is on: rejecting non-serializable events, serialization and metadata.
 */
@RunWith(JUnitRunner.class)
public class SqliteJournalTckTest extends JavaJournalSpec {
  private static final Path DIR = TestConfigs.tempDir("sqlite-journal");

  public SqliteJournalTckTest() {
    super(TestConfigs.plugins("sqlite", DIR, "normal"));
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
