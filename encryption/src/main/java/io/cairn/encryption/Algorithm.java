package io.cairn.encryption;

import com.google.crypto.tink.Parameters;
import com.google.crypto.tink.aead.PredefinedAeadParameters;

/**
 * The AEAD a new key uses. Every key of a keyset keeps the algorithm it was made with, so a keyset
 * may mix them; only new keys follow this setting, and changing the default changes nothing of
 * existing keys (data sealed under them opens as before; a rotation then {@link Rekey} moves it).
 *
 * <p><b>Message limits per key.</b> A random nonce must never repeat under one key. With 96-bit
 * nonces (AES-256-GCM) the chance of a repeat stays below 2<sup>-32</sup> only for 2<sup>32</sup>
 * messages per key (NIST SP 800-38D, section 8.3): a backend writing 10,000 values a second reaches
 * that in five days, so AES-256-GCM needs a rotation schedule, and Cairn does not count messages
 * per key. XChaCha20-Poly1305 and XAES-256-GCM use 192-bit random nonces: a repeat after 2<sup>
 * 80</sup> messages has probability about 2<sup>-32</sup>, so neither has a practical limit.
 *
 * <p><b>Default: XChaCha20-Poly1305</b> ({@link #DEFAULT}), since 2026-12-05; XAES-256-GCM before.
 * Same nonce safety, and on JDK 17 with Tink 1.19 it seals and opens a 100-byte value for about a
 * quarter less CPU than XAES-256-GCM, whose per-message key derivation and AES key schedule go
 * through the JDK's cipher set-up twice (benchmarks/RESULTS-encryption.md).
 */
public enum Algorithm {
  /** XAES-256-GCM with 192-bit nonces: no practical message limit. The default until 2026-12. */
  XAES_256_GCM("xaes-256-gcm", PredefinedAeadParameters.XAES_256_GCM_192_BIT_NONCE),
  /** AES-256-GCM with 96-bit random nonces: rotate before 2^32 messages per key. */
  AES_256_GCM("aes-256-gcm", PredefinedAeadParameters.AES256_GCM),
  /** XChaCha20-Poly1305 with 192-bit nonces: no practical message limit. The default. */
  XCHACHA20_POLY1305("xchacha20-poly1305", PredefinedAeadParameters.XCHACHA20_POLY1305);

  /** What new keys use when nothing is configured: {@link #XCHACHA20_POLY1305}. */
  public static final Algorithm DEFAULT = XCHACHA20_POLY1305;

  private final String configName;
  private final Parameters parameters;

  Algorithm(String configName, Parameters parameters) {
    this.configName = configName;
    this.parameters = parameters;
  }

  /** The spelling used in configuration, e.g. {@code xaes-256-gcm}. */
  public String configName() {
    return configName;
  }

  Parameters parameters() {
    return parameters;
  }
}
