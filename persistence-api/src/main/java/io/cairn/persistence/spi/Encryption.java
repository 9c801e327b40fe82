package io.cairn.persistence.spi;

/**
 * Hook through which a backend encrypts what it writes. Given to providers in the {@link
 * BackendContext}. A backend that supports encryption passes every value, log payload and snapshot
 * chunk through {@link #seal} before writing and {@link #open} after reading. Implementations must
 * be thread-safe.
 */
public interface Encryption {
  /** No encryption: bytes are stored as given. */
  Encryption NONE =
      new Encryption() {
        @Override
        public byte[] seal(byte[] plaintext) {
          return plaintext;
        }

        @Override
        public byte[] open(byte[] sealed) {
          return sealed;
        }

        @Override
        public boolean enabled() {
          return false;
        }
      };

  byte[] seal(byte[] plaintext);

  /**
   * Reverses {@link #seal}.
   *
   * @throws io.cairn.persistence.PersistenceException naming the key id when the data was sealed
   *     with a different key or was altered; never returns wrong plaintext
   */
  byte[] open(byte[] sealed);

  default boolean enabled() {
    return true;
  }
}
