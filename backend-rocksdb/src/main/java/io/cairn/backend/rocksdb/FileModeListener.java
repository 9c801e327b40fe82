package io.cairn.backend.rocksdb;

import io.cairn.persistence.spi.DataDirectory;
import java.io.IOException;
import org.rocksdb.AbstractEventListener;
import org.rocksdb.BackgroundErrorReason;
import org.rocksdb.CompactionJobInfo;
import org.rocksdb.FlushJobInfo;
import org.rocksdb.MemTableInfo;
import org.rocksdb.RocksDB;
import org.rocksdb.Status;
import org.rocksdb.TableFileCreationInfo;

/**
 * RocksDB creates its .sst, .log, MANIFEST and OPTIONS files with the process umask (0644 by
 * default) and has no file-mode option. This listener sets them to 0600 as soon as RocksDB reports
 * them: when a table file is created, and by a sweep of the directory after every flush, compaction
 * and memtable switch (a switch starts a new WAL). The window in which a new file has the umask's
 * mode lasts until the next such event (for a WAL, until its memtable is sealed or the backend
 * closes); the 0700 directory keeps other users out meanwhile. It also puts the data directory into
 * its failed state when RocksDB reports a background I/O error other than a full disk (for example
 * a failed fsync during a flush).
 */
final class FileModeListener extends AbstractEventListener {
  private final DataDirectory dataDirectory;

  FileModeListener(DataDirectory dataDirectory) {
    super(
        EnabledEventCallback.ON_TABLE_FILE_CREATED,
        EnabledEventCallback.ON_FLUSH_COMPLETED,
        EnabledEventCallback.ON_COMPACTION_COMPLETED,
        EnabledEventCallback.ON_MEMTABLE_SEALED,
        EnabledEventCallback.ON_BACKGROUND_ERROR);
    this.dataDirectory = dataDirectory;
  }

  @Override
  public void onTableFileCreated(TableFileCreationInfo info) {
    dataDirectory.tightenPermissions();
  }

  @Override
  public void onFlushCompleted(RocksDB db, FlushJobInfo info) {
    dataDirectory.tightenPermissions();
  }

  @Override
  public void onCompactionCompleted(RocksDB db, CompactionJobInfo info) {
    dataDirectory.tightenPermissions();
  }

  @Override
  public void onMemTableSealed(MemTableInfo info) {
    dataDirectory.tightenPermissions();
  }

  @Override
  public void onBackgroundError(BackgroundErrorReason reason, Status status) {
    if (status != null
        && status.getCode() == Status.Code.IOError
        && status.getSubCode() != Status.SubCode.NoSpace) {
      dataDirectory.fail(
          "RocksDB background " + reason + " failed: " + status.getCodeString(),
          new IOException(status.getState()));
    }
  }
}
