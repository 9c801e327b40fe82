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

  /** Where the record is kept, for messages, e.g. {@code "table cairn_keycheck of schema app"}. */
  String keyCheckLocation();
}
