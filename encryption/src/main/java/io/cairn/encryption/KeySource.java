package io.cairn.encryption;

import com.google.crypto.tink.KeysetHandle;

/**
 * Where a backend's keyset comes from: a file, an environment variable, a file encrypted under a
 * password-derived key, or one encrypted under a KMS key. Implementations must be thread-safe and
 * must never put key material in messages or {@code toString()}.
 */
public interface KeySource {
  /**
   * Reads the keyset.
   *
   * @throws io.cairn.persistence.PersistenceException naming the source (file, variable) and what
   *     is wrong with it (missing, unreadable, wrong password) — never its content
   */
  KeysetHandle load();

  /**
   * Replaces the stored keyset (after a rotation or revocation), atomically: a crash leaves the old
   * or the new keyset, never a mix.
   *
   * @throws UnsupportedOperationException when the source cannot be written (an environment
   *     variable); the message says how to change it instead
   */
  void store(KeysetHandle keyset);

  /** Says where the keyset comes from, for messages (a path, a variable name, a KMS URI). */
  String describe();
}
