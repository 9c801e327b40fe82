package io.cairn.persistence;

/**
 * Size of one store.
 *
 * @param store which store
 * @param entries live entries (KV), records retained (log), or snapshots (snapshot); -1 if the
 *     backend cannot count cheaply
 * @param bytes approximate bytes of payload held, or -1 if unknown
 */
public record StoreStats(StoreId store, long entries, long bytes) {}
