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
 * messages per key (NIST SP 800-38D, section 8.3). Cairn enforces that limit: in a backend, each
 * AES-256-GCM key of the keyset is used as a key derived for that backend alone (HKDF with the
 * backend's random salt), and every message sealed under it is counted durably in the backend's key
 * check record; from half the limit the health check warns, at the limit writes are refused ({@link
 * TinkEncryption}, {@link MessageBudget}). XChaCha20-Poly1305 and XAES-256-GCM use 192-bit random
 * nonces: a repeat after 2<sup>80</sup> messages has probability about 2<sup>-32</sup>, so neither
 * has a practical limit, and neither is counted.
 *
 * <p><b>Default: AES-256-GCM</b> ({@link #DEFAULT}), since 2026-12-06 (XChaCha20-Poly1305 before,
 * XAES-256-GCM before that): on JDK 17 the JDK's AES-GCM (AES-NI, CLMUL) seals and opens a 100-byte
 * value for about a third of XChaCha20-Poly1305's CPU, which Tink 1.19 runs in pure Java here
 * (benchmarks/RESULTS-encryption.md); the limit that kept it from being the default is now counted
 * and enforced.
 */
public enum Algorithm {
  /** XAES-256-GCM with 192-bit nonces: no practical message limit. The default until 2026-12-05. */
  XAES_256_GCM("xaes-256-gcm", PredefinedAeadParameters.XAES_256_GCM_192_BIT_NONCE),
  /**
   * AES-256-GCM with 96-bit random nonces: per-backend derived keys, 2^32 messages per key and
   * backend, counted and enforced. The default.
   */
  AES_256_GCM("aes-256-gcm", PredefinedAeadParameters.AES256_GCM),
  /**
   * XChaCha20-Poly1305 with 192-bit nonces: no practical message limit. The default on 2026-12-05.
   */
  XCHACHA20_POLY1305("xchacha20-poly1305", PredefinedAeadParameters.XCHACHA20_POLY1305);

  /** What new keys use when nothing is configured: {@link #AES_256_GCM}. */
  public static final Algorithm DEFAULT = AES_256_GCM;

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
