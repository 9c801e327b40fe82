package io.cairn.persistence.spi;

import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * Hook through which a backend encrypts what it writes: an AEAD (authenticated encryption with
 * associated data). Given to providers in the {@link BackendContext}.
 *
 * <h2>Contract</h2>
 *
 * <ul>
 *   <li><b>What is sealed.</b> Every value, log payload and snapshot chunk passes through {@link
 *       #seal} before it is written and {@link #open} after it is read. Keys, versions, expiry
 *       instants, offsets and snapshot sizes stay in clear (keys are needed for ordering and range
 *       scans). Backends do not call this interface directly: {@link Sealer} is the one place that
 *       does, and the shared base stores ({@link EngineBackend}) call it for every backend.
 *   <li><b>What is bound.</b> {@code associatedData} names where the bytes belong, built by {@link
 *       AssociatedData} from the backend name, the store kind, the store name and the key (or log
 *       offset, or snapshot version and chunk index). It is authenticated, not stored: a ciphertext
 *       copied or moved to any other key, store, offset or chunk must fail {@link #open}.
 *   <li><b>Failures.</b> {@link #open} never returns wrong plaintext: bytes altered, sealed under a
 *       different key or bound to other associated data make it throw (any {@link
 *       RuntimeException}; {@link Sealer} turns it into a {@link
 *       io.cairn.persistence.StoreCorruptedException} naming the backend, store and key or offset).
 *       Messages must not contain plaintext or key material.
 *   <li><b>Thread safety.</b> Implementations must be thread-safe; both methods are called
 *       concurrently from any thread.
 *   <li><b>Arrays.</b> Implementations must not keep or modify the arrays passed in, and must
 *       return a new array.
 * </ul>
 */
public interface Encryption {
  /** No encryption: bytes are stored as given; associated data is ignored. */
  Encryption NONE =
      new Encryption() {
        @Override
        public byte[] seal(byte[] plaintext, byte[] associatedData) {
          return plaintext.clone();
        }

        @Override
        public byte[] open(byte[] sealed, byte[] associatedData) {
          return sealed.clone();
        }

        @Override
        public boolean enabled() {
          return false;
        }

        @Override
        public String toString() {
          return "Encryption.NONE";
        }
      };

  /**
   * Encrypts and authenticates {@code plaintext}, binding it to {@code associatedData} (see {@link
   * AssociatedData}). Returns a new array.
   */
  byte[] seal(byte[] plaintext, byte[] associatedData);

  /**
   * Reverses {@link #seal} for bytes sealed with the same {@code associatedData}.
   *
   * @throws RuntimeException (preferably {@link io.cairn.persistence.PersistenceException} naming
   *     the key id) when the data was sealed with a different key, bound to other associated data
   *     or altered; never returns wrong plaintext
   */
  byte[] open(byte[] sealed, byte[] associatedData);

  /** Whether this hook encrypts; {@code false} only for {@link #NONE}-like pass-throughs. */
  default boolean enabled() {
    return true;
  }

  /**
   * Whether {@code sealed} (bytes {@link #seal} returned, now or earlier) was sealed with the key
   * that seals new data now. {@link io.cairn.persistence.StorageBackend#reseal} rewrites exactly
   * the bytes for which this is {@code false}, so a hook with rotating keys must answer from the
   * bytes alone (a key id prefix, for example), cheaply and without opening them. The default, for
   * a hook with one fixed key, is {@code true}: there is never anything to re-encrypt.
   */
  default boolean sealedWithPrimary(byte[] sealed) {
    return true;
  }

  /**
   * The keyed hash (a pseudo-random function) that replaces the keys of the key-value namespaces
   * listed in {@code encryption.hashed-key-namespaces}, keyed with {@code prfKey} (32 random bytes
   * the registry keeps sealed under this hook beside the key check record, so the function does not
   * change when the AEAD primary key rotates). The function must be deterministic, thread-safe,
   * return a new array, and never show its key or input in messages. Empty (the default) when the
   * hook offers none: the registry then refuses {@code hashed-key-namespaces}.
   */
  default Optional<UnaryOperator<byte[]>> keyedHash(byte[] prfKey) {
    return Optional.empty();
  }

  /**
   * What an operator must act on soon, e.g. a key that has used most of its message budget (never
   * key material); empty when all is well. Cheap: the registry's health check of the backend calls
   * it and reports the backend unhealthy with this text.
   */
  default Optional<String> warning() {
    return Optional.empty();
  }

  /**
   * Messages counted under the key that seals new data now (durably reserved, so never fewer than
   * were sealed), or -1 when this hook does not count (a key type without a per-key message limit).
   * Published as the metric {@code <backend>.encryption.primary-key-messages}.
   */
  default long primaryKeyMessages() {
    return -1;
  }
}
