package io.cairn.encryption;

import com.google.crypto.tink.Parameters;
import com.google.crypto.tink.aead.PredefinedAeadParameters;

/**
 * The AEAD a new key uses. Every key of a keyset keeps the algorithm it was made with, so a keyset
 * may mix them; only new keys follow this setting.
 *
 * <p><b>Message limits per key.</b> A random nonce must never repeat under one key. With 96-bit
 * nonces (AES-256-GCM) the chance of a repeat stays below 2<sup>-32</sup> only for 2<sup>32</sup>
 * messages per key (NIST SP 800-38D, section 8.3): a backend writing 10,000 values a second reaches
 * that in five days, so AES-256-GCM needs a rotation schedule. The default, XAES-256-GCM, derives a
 * fresh AES key per message from a 192-bit nonce and has no practical limit (2<sup>80</sup>
 * messages); XChaCha20-Poly1305 (192-bit nonces) likewise. Both cost one more AES or ChaCha block
 * per message.
 */
public enum Algorithm {
  /** XAES-256-GCM with 192-bit nonces: AES speed, no practical message limit. The default. */
  XAES_256_GCM("xaes-256-gcm", PredefinedAeadParameters.XAES_256_GCM_192_BIT_NONCE),
  /** AES-256-GCM with 96-bit random nonces: rotate before 2^32 messages per key. */
  AES_256_GCM("aes-256-gcm", PredefinedAeadParameters.AES256_GCM),
  /** XChaCha20-Poly1305 with 192-bit nonces: for machines without AES instructions. */
  XCHACHA20_POLY1305("xchacha20-poly1305", PredefinedAeadParameters.XCHACHA20_POLY1305);

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
