package io.cairn.persistence;

/**
 * One key-value entry as stored. Arrays are owned by the caller after return; a store never keeps
 * or reuses them.
 *
 * @param key the key
 * @param value the value
 * @param version the entry's version, at least 1
 * @param expiresAtMillis epoch millis (by the backend's clock) after which the entry is invisible,
 *     or 0 for no expiry
 */
public record Entry(byte[] key, byte[] value, long version, long expiresAtMillis) {}
