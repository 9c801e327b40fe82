package io.cairn.persistence.spi;

import java.util.Optional;

/**
 * Implemented by a backend that has no data directory of its own (a database server, e.g. the
 * PostgreSQL backend) and so keeps the encryption key check record ({@link EncryptionProvider},
 * normally the file {@value EncryptionProvider#KEY_CHECK_FILE}) in its own storage. When the
 * backend {@link io.cairn.persistence.spi.StorageBackendProvider#open opened} by the registry
 * implements this interface, the registry reads, creates and replaces the record through it instead
 * of the data directory, with the same rules and messages: a record the keys cannot open fails the
 * open naming the key it needs; no record and no stores is a new backend and gets one; no record
 * but stores was written without encryption and is refused.
 *
 * <p>Thread-safe; each method is atomic with respect to other processes using the same storage.
 * Failures are thrown as {@link io.cairn.persistence.PersistenceException}s naming the backend.
 */
public interface KeyCheckStore {
  /** The stored record, or empty if there is none. */
  Optional<byte[]> readKeyCheck();

  /**
   * Stores {@code record} unless a record is already stored, and returns the record stored now:
   * {@code record}, or the one another process stored first (which the caller must then verify).
   */
  byte[] createKeyCheck(byte[] record);

  /** Replaces the stored record (after a re-encryption); atomic. */
  void replaceKeyCheck(byte[] record);

  /**
   * Replaces the stored record with {@code record} only if it still holds exactly {@code expected},
   * atomically with respect to every process using the same storage; returns whether it did. The
   * encryption provider keeps durable counters in the record (the messages sealed under each key,
   * reserved in blocks), so several processes sharing one record must never both reserve the same
   * block: each reads, adds, and compares-and-replaces, retrying on {@code false}.
   *
   * <p>The default reads, compares and replaces, which is atomic only when one process at a time
   * uses the storage (a data directory under its lock). A store that several processes use at once
   * (a database server) must override it with one atomic statement.
   */
  default boolean compareAndReplaceKeyCheck(byte[] expected, byte[] record) {
    synchronized (this) {
      Optional<byte[]> now = readKeyCheck();
      if (now.isEmpty() || !java.util.Arrays.equals(now.get(), expected)) {
        return false;
      }
      replaceKeyCheck(record);
      return true;
    }
  }

  /** Where the record is kept, for messages, e.g. {@code "table cairn_keycheck of schema app"}. */
  String keyCheckLocation();

  /**
   * A record kept in this process's memory only, for a backend that keeps nothing across opens or a
   * tool that seals outside any backend; {@code location} is what {@link #keyCheckLocation()} says.
   * Thread-safe; arrays are copied in and out.
   */
  static KeyCheckStore inMemory(String location) {
    return new InMemoryKeyCheck(location);
  }
}
