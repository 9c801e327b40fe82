package io.cairn.backend.sqlite;

import io.cairn.persistence.Transaction;

/**
 * The view of one read transaction ({@link SqliteBackend#readTransaction}): every read runs on the
 * reader connection the transaction holds (see {@link ReaderPool#snapshot}), so all of them see one
 * WAL snapshot; expiry is judged at {@code now}, read from the backend clock once the snapshot was
 * taken.
 */
final class SqliteReadView implements Transaction.ReadView {
  private final SqliteBackend backend;
  private final Reads reads;
  private final long now;

  SqliteReadView(SqliteBackend backend, Reads reads, long now) {
    this.backend = backend;
    this.reads = reads;
    this.now = now;
  }

  @Override
  public Transaction.KeyValueReader keyValue(String namespace) {
    return ((SqliteKeyValueStore) backend.keyValue(namespace)).snapshotReader(reads, now);
  }

  @Override
  public Transaction.LogReader log(String name) {
    return ((SqliteLogStore) backend.log(name)).snapshotReader(reads);
  }
}
