package io.cairn.pekko;

import java.nio.file.Path;
import org.apache.pekko.persistence.CapabilityFlag;
import org.apache.pekko.persistence.japi.snapshot.JavaSnapshotStoreSpec;
import org.junit.runner.RunWith;
import org.scalatestplus.junit.JUnitRunner;

/**
 * Pekko's own snapshot store TCK, unmodified, against {@link CairnSnapshotStore} on the rocksdb
 * backend, with serialization and metadata on.
 */
@RunWith(JUnitRunner.class)
public class RocksdbSnapshotStoreTckTest extends JavaSnapshotStoreSpec {
  private static final Path DIR = TestConfigs.tempDir("rocksdb-snapshots");

  public RocksdbSnapshotStoreTckTest() {
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
