package io.cairn.persistence.spi;

import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.StoreKind;
import java.util.Objects;

/**
 * The one point where a backend's values, log payloads and snapshot chunks are sealed and opened
 * through its {@link Encryption}, with the associated data {@link AssociatedData} builds. The
 * shared base stores ({@link EngineBackend}) use it for every backend built on them; a backend
 * written without the base (SQLite and RocksDB today) calls it at its own seal and open points.
 *
 * <p>Contract: every {@code seal*} returns a new array the caller owns (a copy when encryption is
 * off), so the result may be handed to an asynchronous writer. Every {@code open*} returns the
 * plaintext, which is {@code stored} itself when encryption is off. An {@code open*} that fails
 * (altered bytes, a ciphertext moved from another key, store, offset or chunk, a wrong key) throws
 * {@link StoreCorruptedException} naming the backend, the store and the key, offset or chunk, with
 * the hook's exception as cause; plaintext is never returned from a failed check. Keys appear in
 * messages as {@link Bytes#REDACTED} when encryption is on. Thread-safe if the hook is.
 */
public final class Sealer {
  private final String backend;
  private final Encryption encryption;
  private final boolean enabled;
  // the associated data's fixed part (AssociatedData.header) of the store last sealed for, per
  // kind: a store's sealer (one per store in the RocksDB key-value store) builds it once
  private volatile Header valueHeader;
  private volatile Header logHeader;
  private volatile Header chunkHeader;

  private record Header(String store, byte[] bytes) {}

  private Sealer(String backend, Encryption encryption) {
    this.backend = Objects.requireNonNull(backend, "backend");
    this.encryption = Objects.requireNonNull(encryption, "encryption");
    this.enabled = encryption.enabled();
  }

  /** A sealer for backend instance {@code backend} using {@code encryption}. */
  public static Sealer of(String backend, Encryption encryption) {
    return new Sealer(backend, encryption);
  }

  /** A sealer for the backend {@code context} describes, with its encryption hook. */
  public static Sealer of(BackendContext context) {
    return new Sealer(context.name(), context.encryption());
  }

  /** Whether the hook encrypts. */
  public boolean enabled() {
    return enabled;
  }

  /** Seals the value of {@code key} in key-value namespace {@code namespace}. */
  public byte[] sealValue(String namespace, byte[] key, byte[] value) {
    if (!enabled) {
      return value.clone();
    }
    return encryption.seal(value, valueAd(namespace, key));
  }

  /** Opens the stored value of {@code key} in {@code namespace}. */
  public byte[] openValue(String namespace, byte[] key, byte[] stored) {
    if (!enabled) {
      return stored;
    }
    try {
      return encryption.open(stored, valueAd(namespace, key));
    } catch (RuntimeException e) {
      throw failed(
          "the value of key "
              + Bytes.toDisplay(key, true)
              + " in key-value namespace '"
              + namespace
              + "'",
          e);
    }
  }

  /** Seals the payload of the record at {@code offset} of log {@code log}. */
  public byte[] sealPayload(String log, long offset, byte[] payload) {
    if (!enabled) {
      return payload.clone();
    }
    return encryption.seal(payload, logAd(log, offset));
  }

  /** Opens the stored payload of the record at {@code offset} of {@code log}. */
  public byte[] openPayload(String log, long offset, byte[] stored) {
    if (!enabled) {
      return stored;
    }
    try {
      return encryption.open(stored, logAd(log, offset));
    } catch (RuntimeException e) {
      throw failed("the record at offset " + offset + " of log '" + log + "'", e);
    }
  }

  /** Seals chunk {@code chunk} of snapshot {@code version} of set {@code set}. */
  public byte[] sealChunk(String set, long version, int chunk, byte[] data) {
    if (!enabled) {
      return data.clone();
    }
    return encryption.seal(data, chunkAd(set, version, chunk));
  }

  /** Opens stored chunk {@code chunk} of snapshot {@code version} of set {@code set}. */
  public byte[] openChunk(String set, long version, int chunk, byte[] stored) {
    if (!enabled) {
      return stored;
    }
    try {
      return encryption.open(stored, chunkAd(set, version, chunk));
    } catch (RuntimeException e) {
      throw failed(
          "chunk " + chunk + " of snapshot " + version + " of snapshot set '" + set + "'", e);
    }
  }

  // ---- re-encryption (StorageBackend#reseal): open with any key, seal with the primary ----

  /**
   * Whether stored bytes must be re-sealed: encryption is on and they were not sealed with the
   * current primary key ({@link Encryption#sealedWithPrimary}).
   */
  public boolean needsReseal(byte[] stored) {
    return enabled && !encryption.sealedWithPrimary(stored);
  }

  /** The stored value of {@code key} in {@code namespace} opened and sealed with the primary. */
  public byte[] resealValue(String namespace, byte[] key, byte[] stored) {
    return sealValue(namespace, key, openValue(namespace, key, stored));
  }

  /** The stored payload at {@code offset} of {@code log} opened and sealed with the primary. */
  public byte[] resealPayload(String log, long offset, byte[] stored) {
    return sealPayload(log, offset, openPayload(log, offset, stored));
  }

  /** A stored snapshot chunk opened and sealed with the primary. */
  public byte[] resealChunk(String set, long version, int chunk, byte[] stored) {
    return sealChunk(set, version, chunk, openChunk(set, version, chunk, stored));
  }

  private byte[] valueAd(String namespace, byte[] key) {
    Header h = valueHeader;
    if (h == null || !h.store().equals(namespace)) {
      valueHeader = h = header(StoreKind.KEY_VALUE, namespace);
    }
    return AssociatedData.forValue(h.bytes(), key);
  }

  private byte[] logAd(String log, long offset) {
    Header h = logHeader;
    if (h == null || !h.store().equals(log)) {
      logHeader = h = header(StoreKind.LOG, log);
    }
    return AssociatedData.forLogRecord(h.bytes(), offset);
  }

  private byte[] chunkAd(String set, long version, int chunk) {
    Header h = chunkHeader;
    if (h == null || !h.store().equals(set)) {
      chunkHeader = h = header(StoreKind.SNAPSHOT, set);
    }
    return AssociatedData.forSnapshotChunk(h.bytes(), version, chunk);
  }

  private Header header(StoreKind kind, String store) {
    return new Header(store, AssociatedData.header(backend, kind, store));
  }

  private StoreCorruptedException failed(String what, RuntimeException cause) {
    // the cause's message is the hook's; the contract forbids plaintext and key material in it
    return new StoreCorruptedException(
        "Backend '"
            + backend
            + "': "
            + what
            + " failed to decrypt or authenticate ("
            + cause.getClass().getSimpleName()
            + "): it was altered, moved from another key, store or offset, or sealed under a"
            + " different key. Nothing of it was returned. Check the configured key, run 'cairn"
            + " verify' and restore from a backup.",
        cause);
  }

  @Override
  public String toString() {
    return "Sealer[backend=" + backend + ", enabled=" + enabled + "]";
  }
}
