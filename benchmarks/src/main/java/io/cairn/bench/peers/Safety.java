package io.cairn.bench.peers;

/**
 * What a configuration promises after a crash; the report groups by it so that nobody compares a
 * durable store with one that is not without seeing it.
 */
public enum Safety {
  /**
   * Every acknowledged write was forced to the device (fsync, fdatasync, msync or an O_DSYNC write)
   * before the call returned: survives power loss.
   */
  FSYNC_PER_COMMIT("fsync per commit (survives power loss)"),
  /**
   * Writes reach the OS page cache (or a shared mapping) but are not forced: a process crash keeps
   * them (unless the peer's note says otherwise), power loss may lose the last seconds.
   */
  NO_FSYNC("no fsync (survives a process crash at best, not power loss)");

  final String title;

  Safety(String title) {
    this.title = title;
  }
}
