package io.cairn.persistence;

/**
 * Metadata of one stored snapshot.
 *
 * @param version the caller-chosen version (e.g. the log offset the snapshot covers)
 * @param sizeBytes length of the snapshot data
 * @param crc32c CRC-32C of the data, checked on every load
 * @param createdAtMillis when the save completed, epoch millis by the backend's clock
 */
public record SnapshotInfo(long version, long sizeBytes, long crc32c, long createdAtMillis) {}
