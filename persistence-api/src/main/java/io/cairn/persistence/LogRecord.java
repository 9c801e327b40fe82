package io.cairn.persistence;

/**
 * One record read from a {@link LogStore}.
 *
 * @param offset the record's offset, assigned at append
 * @param payload the bytes appended
 */
public record LogRecord(long offset, byte[] payload) {}
