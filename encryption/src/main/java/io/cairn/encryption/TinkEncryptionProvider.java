package io.cairn.encryption;

import com.google.crypto.tink.aead.AesGcmKey;
import io.cairn.persistence.spi.Encryption;
import io.cairn.persistence.spi.EncryptionProvider;
import io.cairn.persistence.spi.KeyCheckStore;
import io.cairn.persistence.spi.Settings;
import java.security.SecureRandom;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Cairn's {@link EncryptionProvider}: a backend's {@code encryption} section (see {@link
 * EncryptionSettings}) becomes a {@link TinkEncryption} over the keyset its key source holds.
 * Registered in {@code META-INF/services}; public only for {@link java.util.ServiceLoader}.
 */
public final class TinkEncryptionProvider implements EncryptionProvider {
  /** For {@link java.util.ServiceLoader}. */
  public TinkEncryptionProvider() {}

  @Override
  public void validate(Settings section) {
    EncryptionSettings.read(section);
  }

  @Override
  public Encryption open(String backend, Settings section) {
    return EncryptionSettings.read(section)
        .<Encryption>map(
            settings -> TinkEncryption.of(settings.source().load(), settings.messageLimit()))
        .orElse(Encryption.NONE);
  }

  /**
   * A record for the encryption as it is: for an attached one, the backend's current record with a
   * new sealed constant; else a version 1 record (the sealed constant alone).
   */
  @Override
  public byte[] newKeyCheck(String backend, Encryption encryption) {
    TinkEncryption t = tink(encryption);
    if (!t.isAttached()) {
      return KeyCheck.create(t, backend);
    }
    byte[] sealed = KeyCheck.create(t, backend);
    return t.attachment().read().withSealed(sealed).encode();
  }

  @Override
  public void verifyKeyCheck(
      String backend, Encryption encryption, byte[] record, String location) {
    KeyCheck.verify(
        tink(encryption),
        backend,
        KeyCheckRecord.isVersion2(record)
            ? KeyCheckRecord.decode(record, location).sealed()
            : record,
        location);
  }

  /**
   * Reads, creates or upgrades the backend's record (version 2: {@link KeyCheckRecord}) and
   * attaches the encryption to it ({@link TinkEncryption}): a new backend gets a random salt; a
   * version 1 record (written before keys were derived per backend) is checked, then upgraded in
   * place with a new salt and every AES-256-GCM key of the keyset listed as used as it is, so the
   * data already under them keeps opening.
   */
  @Override
  public void attach(String backend, Encryption encryption, KeyCheckStore store) {
    TinkEncryption t = tink(encryption);
    String location = store.keyCheckLocation();
    for (int attempt = 0; attempt < 100; attempt++) {
      Optional<byte[]> existing = store.readKeyCheck();
      KeyCheckRecord record;
      if (existing.isEmpty()) {
        TreeMap<Long, KeyCheckRecord.Entry> keys = new TreeMap<>();
        if (t.keyset().getPrimary().getKey() instanceof AesGcmKey) {
          keys.put(t.primaryKeyId(), new KeyCheckRecord.Entry(true, 1)); // the constant's seal
        }
        KeyCheckRecord provisional = new KeyCheckRecord(randomSalt(), keys, new byte[] {0});
        record = provisional.withSealed(KeyCheck.createFor(t, provisional, backend));
        byte[] stored = store.createKeyCheck(record.encode());
        if (!KeyCheckRecord.isVersion2(stored)
            || !java.util.Arrays.equals(stored, record.encode())) {
          continue; // another process made the record first: use theirs
        }
      } else if (!KeyCheckRecord.isVersion2(existing.get())) {
        KeyCheck.verify(t, backend, existing.get(), location); // with the keys as they are
        TreeMap<Long, KeyCheckRecord.Entry> keys = new TreeMap<>();
        for (int i = 0; i < t.keyset().size(); i++) {
          if (t.keyset().getAt(i).getKey() instanceof AesGcmKey) {
            keys.put(
                Integer.toUnsignedLong(t.keyset().getAt(i).getId()),
                new KeyCheckRecord.Entry(false, 0));
          }
        }
        record = new KeyCheckRecord(randomSalt(), keys, existing.get());
        if (!store.compareAndReplaceKeyCheck(existing.get(), record.encode())) {
          continue;
        }
      } else {
        record = KeyCheckRecord.decode(existing.get(), location);
      }
      t.attach(backend, record, store);
      KeyCheck.verify(t, backend, record.sealed(), location);
      return;
    }
    throw new io.cairn.persistence.PersistenceException(
        "Backend '" + backend + "': the key check record (" + location + ") kept changing");
  }

  @Override
  public void resealKeyCheck(String backend, Encryption encryption, KeyCheckStore store) {
    TinkEncryption t = tink(encryption);
    if (!t.isAttached()) {
      EncryptionProvider.super.resealKeyCheck(backend, encryption, store);
      return;
    }
    byte[] sealed = KeyCheck.create(t, backend); // counted like any other message
    t.attachment().update(r -> r.withSealed(sealed));
  }

  private static byte[] randomSalt() {
    byte[] salt = new byte[KeyCheckRecord.SALT_SIZE];
    new SecureRandom().nextBytes(salt);
    return salt;
  }

  private static TinkEncryption tink(Encryption encryption) {
    if (encryption instanceof TinkEncryption t) {
      return t;
    }
    throw new IllegalArgumentException(
        "cairn-encryption checks keys of its own TinkEncryption only, not " + encryption);
  }
}
