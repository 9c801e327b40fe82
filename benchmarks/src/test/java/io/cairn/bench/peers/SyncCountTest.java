package io.cairn.bench.peers;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The strace parsing that decides whether a configuration syncs per commit. */
class SyncCountTest {
  private static String mark(String what, String impl) {
    return "100 openat(AT_FDCWD, \"/tmp/syncmarks1/"
        + SyncCount.MARK
        + what
        + "-"
        + impl
        + "-42\", O_RDWR|O_CREAT|O_EXCL, 0666) = 7";
  }

  @Test
  void countsSyncCallsOfAllThreadsBetweenTheMarkersOnly() {
    List<String> strace =
        List.of(
            mark("open", "LMDB_SYNC"),
            "100 openat(AT_FDCWD, \"/tmp/x/data.mdb\", O_RDWR|O_CREAT|O_DSYNC, 0644) = 8",
            "100 fdatasync(8) = 0", // preload: outside the window
            mark("begin", "LMDB_SYNC"),
            "100 fdatasync(8 <unfinished ...>",
            "101 fsync(9) = 0",
            "100 <... fdatasync resumed>) = 0",
            "100 msync(0x7f, 4096, MS_SYNC) = 0",
            "100 sync_file_range(8, 0, 0, SYNC_FILE_RANGE_WRITE) = 0",
            mark("end", "LMDB_SYNC"),
            "100 fsync(8) = 0", // close: outside the window
            mark("open", "MAPDB_HASH"),
            mark("begin", "MAPDB_HASH"),
            mark("end", "MAPDB_HASH"),
            mark("open", "TAPE"));

    assertThat(SyncCount.parse(strace, 2).split("\n"))
        .containsExactly(
            "impl\tsyncs_per_op\to_dsync",
            "LMDB_SYNC\t2.000\tyes",
            "MAPDB_HASH\t0.000\tno",
            "TAPE\tfailed\tno");
  }
}
