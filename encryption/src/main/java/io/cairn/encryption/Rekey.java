package io.cairn.encryption;

import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.Progress;
import io.cairn.persistence.ResealReport;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Re-encryption ("rekey"): after a rotation ({@link Keysets#rotate}) made a new primary key, {@link
 * #run} re-encrypts everything a backend holds under that primary so the old key can be revoked
 * ({@link Keysets#revoke}). The runbook is in {@code docs/security.md}:
 *
 * <ol>
 *   <li>rotate: store {@code Keysets.rotate(keyset, algorithm)} in the key source and reopen (new
 *       writes use the new key at once; the old one still opens older data);
 *   <li>rekey: {@code Rekey.run(registry, backend, progress)} for every backend using the keyset;
 *   <li>revoke: store {@code Keysets.revoke(keyset, oldKeyId)} and reopen. Data still needing the
 *       revoked key fails to open, naming the key id and this class.
 * </ol>
 *
 * <p>What is kept exactly: keys, versions, expiry instants, log offsets, snapshot versions and
 * metadata (see {@link io.cairn.persistence.StorageBackend#reseal}). The backend stays in use
 * during the run; it works in small atomic batches and skips what is already under the primary, so
 * a run stopped at any point, also by {@code kill -9}, is resumed by running it again. The key
 * check record is re-sealed last, so until a run has finished the old key stays required at open.
 */
public final class Rekey {
  private static final Logger LOG = LoggerFactory.getLogger(Rekey.class);

  private Rekey() {}

  /**
   * Re-encrypts backend {@code backend} of {@code registry} under its primary key.
   *
   * @param progress called per store with records examined so far ({@code total} -1)
   * @return counts per store; {@link ResealReport#resealed()} is 0 when nothing needed it
   * @throws io.cairn.persistence.ConfigurationException if no backend has that name
   * @throws UnsupportedOperationException if the backend does not encrypt
   * @throws io.cairn.persistence.StoreCorruptedException naming the store and key, offset or chunk
   *     of a record that cannot be opened (damaged, or under a key the keyset lacks); what was
   *     re-encrypted before it stays so, and running again after the repair continues
   */
  public static ResealReport run(PersistenceRegistry registry, String backend, Progress progress) {
    Objects.requireNonNull(registry, "registry");
    Objects.requireNonNull(backend, "backend");
    Objects.requireNonNull(progress, "progress");
    LOG.info("Re-encrypting backend '{}' under its primary key", backend);
    ResealReport report = registry.reseal(backend, progress);
    LOG.info("Re-encryption finished: {}", report);
    return report;
  }
}
