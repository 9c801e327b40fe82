package io.cairn.backend.sqlite;

/**
 * Where a store's reads run: the {@link ReaderPool} itself (the latest committed state, one
 * borrowed connection per query) or a read transaction's pinned connection (one snapshot for every
 * query, see {@link ReaderPool#snapshot}).
 */
interface Reads {
  /** Runs {@code op} on a reader connection, translating engine errors. */
  <T> T read(String what, Object where, ReaderPool.ReadOp<T> op);
}
