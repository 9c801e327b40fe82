package io.cairn.persistence.spi;

/**
 * Turns a backend's {@code encryption { ... }} configuration section into its {@link Encryption}.
 * Registered through {@code META-INF/services/io.cairn.persistence.spi.EncryptionProvider} ({@code
 * cairn-encryption} registers Cairn's, over Google Tink); the registry uses the first one found. A
 * backend with a non-empty {@code encryption} section and no provider on the class path is a
 * configuration error, never a backend that silently writes plaintext.
 *
 * <p><b>Key check record.</b> So that a wrong or missing key is named when the backend opens, not
 * at the first read, the registry keeps one record per encrypted backend, made by {@link
 * #newKeyCheck} and checked by {@link #verifyKeyCheck}, in the file {@value #KEY_CHECK_FILE} of the
 * backend's data directory. A backend that holds data but has no record was written without
 * encryption and is refused: Cairn does not encrypt data in place.
 *
 * <p>Implementations must be thread-safe and must never put key material, passwords or the values
 * of secret settings in problems, messages or {@code toString()}.
 */
public interface EncryptionProvider {
  /** Name of the key check record in an encrypted backend's data directory. */
  String KEY_CHECK_FILE = "cairn.keycheck";

  /**
   * Name of the sealed key of the keyed hash of keys ({@code encryption.hashed-key-namespaces},
   * {@link Encryption#keyedHash}), kept by the registry beside the key check record.
   */
  String KEY_HASH_FILE = "cairn.keyhash";

  /** Checks the section, adding one problem per bad setting to {@code section}; never throws. */
  void validate(Settings section);

  /**
   * Loads the keys the validated section names.
   *
   * @throws io.cairn.persistence.PersistenceException naming the key source and what is wrong
   *     (missing file, wrong password), never its content
   */
  Encryption open(String backend, Settings section);

  /** A new key check record for {@code backend}, sealed with the current primary key. */
  byte[] newKeyCheck(String backend, Encryption encryption);

  /**
   * @param location where the record was read from, for the message
   * @throws io.cairn.persistence.PersistenceException naming the backend, the location and the key
   *     the record needs, when {@code encryption} cannot open it
   */
  void verifyKeyCheck(String backend, Encryption encryption, byte[] record, String location);

  /**
   * Checks the key check record of an opened backend through {@code store}, or creates it when
   * there is none (the registry has already refused a backend that holds data but no record), and
   * binds {@code encryption} to that backend: a provider may keep {@code store} to update the
   * record later (Cairn's keeps a per-backend key salt and durable message counts there). Called
   * once per open, before the backend is handed out, with the backend's lock held.
   *
   * <p>The default reads the record, creates it with {@link #newKeyCheck} when absent and checks it
   * with {@link #verifyKeyCheck}.
   *
   * @throws io.cairn.persistence.PersistenceException as {@link #verifyKeyCheck}
   */
  default void attach(String backend, Encryption encryption, KeyCheckStore store) {
    java.util.Optional<byte[]> record = store.readKeyCheck();
    byte[] stored =
        record.isPresent()
            ? record.get()
            : store.createKeyCheck(newKeyCheck(backend, encryption)); // another's, if it was first
    verifyKeyCheck(backend, encryption, stored, store.keyCheckLocation());
  }

  /**
   * Replaces the record with one sealed by the current primary key, after a re-encryption ({@link
   * io.cairn.persistence.StorageBackend#reseal}) so the old key is needed for nothing. The default
   * stores {@link #newKeyCheck}.
   */
  default void resealKeyCheck(String backend, Encryption encryption, KeyCheckStore store) {
    store.replaceKeyCheck(newKeyCheck(backend, encryption));
  }
}
