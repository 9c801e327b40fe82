package io.cairn.backend.sqlite;

import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The writer's memory of recently written keys: their current version and expiry (or that they are
 * absent). With it a put of a known key is a blind {@code INSERT OR REPLACE} with the next version,
 * instead of a read-modify-write upsert that costs SQLite about twice as much; an unknown key takes
 * the upsert path and is remembered.
 *
 * <p>Coherent because the writer connection is the only writer of the file (the directory lock
 * excludes other processes) and every write updates the entry as it executes. Any rollback (of a
 * transaction, a batch or a savepoint) clears the whole cache, so it never holds uncommitted state.
 * Least-recently-used entries are evicted beyond {@code maxBytes} (key bytes plus a fixed overhead
 * per entry). Used only under the writer lock; not thread-safe.
 */
final class VersionCache {
  /** Approximate heap bytes per entry beside the key itself. */
  static final int ENTRY_OVERHEAD = 96;

  /** Marker version for a key known to be absent. */
  static final long ABSENT = 0;

  private record Key(String ns, byte[] key) {
    @Override
    public boolean equals(Object o) {
      return o instanceof Key k && ns.equals(k.ns) && Arrays.equals(key, k.key);
    }

    @Override
    public int hashCode() {
      return 31 * ns.hashCode() + Arrays.hashCode(key);
    }
  }

  private final long maxBytes;
  private final LinkedHashMap<Key, long[]> entries = new LinkedHashMap<>(1024, 0.75f, true);
  private long bytes;

  VersionCache(long maxBytes) {
    this.maxBytes = maxBytes;
  }

  /**
   * {@code {version, expiresAt}} of {@code key} as last written ({@code version == ABSENT} for a
   * deleted key), or null if not remembered.
   */
  long[] get(String ns, byte[] key) {
    return maxBytes == 0 ? null : entries.get(new Key(ns, key));
  }

  /** Remembers the state just written. {@code key} must not be modified afterwards. */
  void put(String ns, byte[] key, long version, long expiresAt) {
    if (maxBytes == 0) {
      return;
    }
    long[] previous = entries.put(new Key(ns, key), new long[] {version, expiresAt});
    if (previous == null) {
      bytes += key.length + ns.length() + ENTRY_OVERHEAD;
      Iterator<Map.Entry<Key, long[]>> eldest = entries.entrySet().iterator();
      while (bytes > maxBytes && eldest.hasNext()) {
        Key k = eldest.next().getKey();
        eldest.remove();
        bytes -= k.key().length + k.ns().length() + ENTRY_OVERHEAD;
      }
    }
  }

  /** Forgets everything; called on every rollback and on bulk deletes (purge). */
  void clear() {
    entries.clear();
    bytes = 0;
  }
}
