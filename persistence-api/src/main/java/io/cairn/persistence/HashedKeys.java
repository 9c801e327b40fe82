package io.cairn.persistence;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * The opt-in keyed hash of keys ({@code encryption.hashed-key-namespaces}), written once for every
 * backend with encryption: the registry's store wrapper replaces each key of a listed key-value
 * namespace by a keyed PRF of it (supplied by the encryption hook, {@link
 * io.cairn.persistence.spi.Encryption#keyedHash}) before the key reaches the backend, so the stored
 * key reveals nothing of the caller's key beyond equality.
 *
 * <p>What works: get, put (with TTL), compare-and-set, delete, compare-and-delete, putAll, purge,
 * count, and the same reads and writes through {@code inTransaction} and {@code readTransaction}
 * views. Entries returned carry the caller's key, not the hashed one. A value's associated data
 * binds the hashed key (the backend only sees that one), which keeps it bound to its place. What is
 * refused: range and prefix scans, which would need key order; they throw {@link
 * UnsupportedOperationException} naming the option. Thread-safe if the PRF is.
 */
final class HashedKeys {
  static final String OPTION = "hashed-key-namespaces";

  private final String backend;
  private final Set<String> namespaces;
  private final UnaryOperator<byte[]> prf;

  HashedKeys(String backend, Set<String> namespaces, UnaryOperator<byte[]> prf) {
    this.backend = backend;
    this.namespaces = Set.copyOf(namespaces);
    this.prf = prf;
  }

  boolean applies(String namespace) {
    return namespaces.contains(namespace);
  }

  private byte[] hash(byte[] key) {
    return key == null ? null : prf.apply(key); // null: let the checks below name the argument
  }

  private static Optional<Entry> unhash(Optional<Entry> e, byte[] key) {
    return e.map(x -> new Entry(key.clone(), x.value(), x.version(), x.expiresAtMillis()));
  }

  private UnsupportedOperationException noScan(String namespace) {
    return new UnsupportedOperationException(
        "Key-value namespace '"
            + namespace
            + "' of backend '"
            + backend
            + "' is listed in encryption."
            + OPTION
            + ": its keys are stored as a keyed hash, so they have no order and cannot be listed;"
            + " range and prefix scans are refused. Remove the namespace from "
            + OPTION
            + " (in a new backend) to scan it.");
  }

  KeyValueStore wrap(KeyValueStore d) {
    String ns = d.name();
    return new KeyValueStore() {
      @Override
      public String name() {
        return d.name();
      }

      @Override
      public Optional<Entry> getEntry(byte[] key) {
        return unhash(d.getEntry(hash(key)), key);
      }

      @Override
      public byte[] get(byte[] key) {
        return d.get(hash(key));
      }

      @Override
      public long put(byte[] key, byte[] value) {
        return d.put(hash(key), value);
      }

      @Override
      public long put(byte[] key, byte[] value, Duration ttl) {
        return d.put(hash(key), value, ttl);
      }

      @Override
      public long compareAndSet(byte[] key, long expectedVersion, byte[] value, Duration ttl) {
        return d.compareAndSet(hash(key), expectedVersion, value, ttl);
      }

      @Override
      public boolean delete(byte[] key) {
        return d.delete(hash(key));
      }

      @Override
      public void compareAndDelete(byte[] key, long expectedVersion) {
        d.compareAndDelete(hash(key), expectedVersion);
      }

      @Override
      public void putAll(Collection<KeyValue> entries) {
        if (entries == null) {
          d.putAll(null);
          return;
        }
        List<KeyValue> hashed = new ArrayList<>(entries.size());
        for (KeyValue kv : entries) {
          hashed.add(kv == null ? null : new KeyValue(hash(kv.key()), kv.value()));
        }
        d.putAll(hashed);
      }

      @Override
      public CloseableIterator<Entry> scan(byte[] fromInclusive, byte[] toExclusive) {
        throw noScan(ns);
      }

      @Override
      public CloseableIterator<Entry> scanPrefix(byte[] prefix) {
        throw noScan(ns);
      }

      @Override
      public long purgeExpired() {
        return d.purgeExpired();
      }

      @Override
      public long approximateCount() {
        return d.approximateCount();
      }

      @Override
      public String toString() {
        return d.toString();
      }
    };
  }

  /**
   * The backend's {@link Importer} with {@code putEntries} into a listed namespace refused ({@link
   * UnsupportedOperationException} naming the option, nothing written): it would store the given
   * keys as they are, unhashed, where no read through this wrapper could find them. Everything else
   * passes through.
   */
  Importer guard(Importer importer) {
    return () -> {
      Importer.Session s = importer.begin();
      return new Importer.Session() {
        @Override
        public void putEntries(String namespace, List<Entry> entries) {
          if (applies(namespace)) {
            throw new UnsupportedOperationException(
                "Cannot import into key-value namespace '"
                    + namespace
                    + "' of backend '"
                    + backend
                    + "': it is listed in encryption."
                    + OPTION
                    + ", so its stored keys are keyed hashes and an exact import would store the"
                    + " keys unhashed; nothing was written. Import it without the option, or put"
                    + " the entries through the store API.");
          }
          s.putEntries(namespace, entries);
        }

        @Override
        public void appendRecords(String log, List<LogRecord> records) {
          s.appendRecords(log, records);
        }

        @Override
        public void startLog(String log, long offset) {
          s.startLog(log, offset);
        }

        @Override
        public SnapshotInfo saveSnapshot(
            String set, long version, long createdAtMillis, java.io.InputStream data) {
          return s.saveSnapshot(set, version, createdAtMillis, data);
        }

        @Override
        public void finish() {
          s.finish();
        }

        @Override
        public void close() {
          s.close();
        }
      };
    };
  }

  Transaction.KeyValueWriter wrap(Transaction.KeyValueWriter w, String ns) {
    return new Transaction.KeyValueWriter() {
      @Override
      public Optional<Entry> getEntry(byte[] key) {
        return unhash(w.getEntry(hash(key)), key);
      }

      @Override
      public long put(byte[] key, byte[] value) {
        return w.put(hash(key), value);
      }

      @Override
      public long put(byte[] key, byte[] value, Duration ttl) {
        return w.put(hash(key), value, ttl);
      }

      @Override
      public long compareAndSet(byte[] key, long expectedVersion, byte[] value, Duration ttl) {
        return w.compareAndSet(hash(key), expectedVersion, value, ttl);
      }

      @Override
      public boolean delete(byte[] key) {
        return w.delete(hash(key));
      }
    };
  }

  Transaction.KeyValueReader wrap(Transaction.KeyValueReader r, String ns) {
    return new Transaction.KeyValueReader() {
      @Override
      public Optional<Entry> getEntry(byte[] key) {
        return unhash(r.getEntry(hash(key)), key);
      }

      @Override
      public CloseableIterator<Entry> scan(byte[] fromInclusive, byte[] toExclusive) {
        throw noScan(ns);
      }

      @Override
      public CloseableIterator<Entry> scanPrefix(byte[] prefix) {
        throw noScan(ns);
      }
    };
  }
}
