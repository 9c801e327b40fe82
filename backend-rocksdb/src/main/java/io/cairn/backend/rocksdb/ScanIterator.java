package io.cairn.backend.rocksdb;

import io.cairn.persistence.BackendClosedException;
import io.cairn.persistence.CloseableIterator;
import io.cairn.persistence.Entry;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.NoSuchElementException;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;

/**
 * A streaming scan of one key-value namespace over one native {@link RocksIterator}, fetched in
 * small batches inside the backend's guard. The iterator sees one consistent view (RocksDB pins the
 * sequence number at creation). Its native handle is released as soon as the range is exhausted, on
 * {@link #close()}, or by {@link RocksDbBackend#close()} if the caller abandoned it; use after the
 * backend closed throws {@link BackendClosedException}. Not thread-safe, like every {@link
 * CloseableIterator}; closing from another thread (the backend's close) is safe.
 */
final class ScanIterator implements CloseableIterator<Entry> {
  private final RocksKvStore store;
  private final RocksDbBackend b;
  private final byte[] upper;
  private final int batch;
  private final long batchBytes;
  private final ReadOptions readOptions; // a read transaction's snapshot, or null: the latest
  private final long fixedNow; // the read transaction's instant for expiry, or -1: the clock
  private final ArrayDeque<Entry> buffer = new ArrayDeque<>();
  private RocksIterator it; // guarded by this
  private boolean exhausted;
  private boolean closedByBackend; // guarded by this

  ScanIterator(
      RocksKvStore store,
      byte[] lower,
      byte[] upper,
      int batch,
      long batchBytes,
      ReadOptions readOptions,
      long fixedNow) {
    this.store = store;
    this.readOptions = readOptions;
    this.fixedNow = fixedNow;
    this.b = store.b;
    this.upper = upper;
    this.batch = batch;
    this.batchBytes = batchBytes;
    if (Arrays.compareUnsigned(lower, upper) >= 0) {
      exhausted = true;
      return;
    }
    b.enter();
    try {
      synchronized (this) {
        it = store.newIterator(lower, readOptions);
      }
      b.registerIterator(this);
    } finally {
      b.exit();
    }
  }

  @Override
  public boolean hasNext() {
    if (buffer.isEmpty() && !exhausted) {
      fill();
    }
    return !buffer.isEmpty();
  }

  @Override
  public Entry next() {
    if (!hasNext()) {
      throw new NoSuchElementException("scan of kv:" + store.name + " has no more entries");
    }
    return buffer.poll();
  }

  private void fill() {
    b.enter();
    try {
      synchronized (this) {
        if (it == null) {
          exhausted = true;
          if (closedByBackend) {
            throw new BackendClosedException(b.name());
          }
          return;
        }
        long now = fixedNow >= 0 ? fixedNow : b.clock.millis();
        int n = 0;
        long bytes = 0;
        while (n < batch && bytes < batchBytes) {
          if (!it.isValid()) {
            it.status();
            exhausted = true;
            break;
          }
          byte[] key = it.key();
          if (Arrays.compareUnsigned(key, upper) >= 0) {
            exhausted = true;
            break;
          }
          byte[] value = it.value();
          store.decode(Layout.userKey(key), value, now).ifPresent(buffer::add);
          n++;
          bytes += value.length;
          it.next();
        }
        if (exhausted) {
          releaseNative();
        }
      }
    } catch (RocksDBException e) {
      exhausted = true;
      synchronized (this) {
        releaseNative();
      }
      throw b.failure(e, "scan", "kv:" + store.name);
    } finally {
      b.exit();
    }
  }

  /** Called with the monitor held. */
  private void releaseNative() {
    if (it != null) {
      it.close();
      it = null;
      b.unregisterIterator(this);
    }
  }

  /** Closes the native iterator; called by the backend's close for abandoned iterators. */
  synchronized void closeNative() {
    if (it != null) {
      closedByBackend = true;
    }
    releaseNative();
  }

  @Override
  public void close() {
    exhausted = true;
    buffer.clear();
    synchronized (this) {
      releaseNative();
    }
  }
}
