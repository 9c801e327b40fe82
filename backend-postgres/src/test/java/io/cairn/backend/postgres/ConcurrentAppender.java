package io.cairn.backend.postgres;

import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.PersistenceRegistry;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * Child-JVM body of {@link MultiProcessTest}: opens the backend described by the HOCON in args[0],
 * appends args[2] records tagged args[1] to log "shared", and increments counter "n" in namespace
 * "shared" args[2] times by compare-and-set, starting when a line arrives on stdin; prints {@code
 * OPENED} when open and {@code DONE} on success.
 */
public final class ConcurrentAppender {
  private ConcurrentAppender() {}

  public static void main(String[] args) throws Exception {
    String tag = args[1];
    int count = Integer.parseInt(args[2]);
    try (PersistenceRegistry r =
        PersistenceRegistry.builder().open(ConfigFactory.parseString(args[0]))) {
      LogStore log = r.backend("pg").log("shared");
      KeyValueStore kv = r.backend("pg").keyValue("shared");
      System.out.println("OPENED");
      System.out.flush();
      new java.io.BufferedReader(new java.io.InputStreamReader(System.in, StandardCharsets.UTF_8))
          .readLine(); // start together: the parent writes a line once every child is open
      for (int i = 0; i < count; i++) {
        log.append((tag + ":" + i).getBytes(StandardCharsets.UTF_8));
        while (true) {
          Optional<io.cairn.persistence.Entry> e = kv.getEntry(new byte[] {'n'});
          long n = e.map(x -> ByteBuffer.wrap(x.value()).getLong()).orElse(0L);
          try {
            kv.compareAndSet(
                new byte[] {'n'},
                e.map(io.cairn.persistence.Entry::version).orElse(0L),
                ByteBuffer.allocate(8).putLong(n + 1).array(),
                null);
            break;
          } catch (io.cairn.persistence.VersionConflictException conflict) {
            // another process won; read again
          }
        }
      }
    }
    System.out.println("DONE");
  }
}
