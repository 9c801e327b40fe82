package io.cairn.tck.fault;

import com.codahale.metrics.health.HealthCheck;
import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.PersistenceException;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.StorageBackend;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Child-JVM main for {@link FsyncFailureContract}, run under {@link FsyncFaultShim}: opens backend
 * {@code main} of type {@code args[0]} in {@code args[1]} at {@code durability = full}, and prints
 * one line per step (values are never printed; messages are one line):
 *
 * <pre>
 * ACKED &lt;i&gt;                          10 writes with fsync working
 * DURING ACKED | DURING REFUSED &lt;exception class&gt; &lt;message&gt;   a write while fsync fails (trigger file args[2] exists)
 * HEALTH-DURING &lt;healthy&gt; &lt;message&gt;
 * AFTER ACKED | AFTER REFUSED &lt;class&gt; &lt;message&gt;            a write once fsync works again
 * HEALTH-AFTER &lt;healthy&gt; &lt;message&gt;
 * CLOSE ok | CLOSE FAILED &lt;class&gt; &lt;message&gt;
 * REOPENED acked-present=&lt;n&gt;/10 during=&lt;present|absent&gt; after=&lt;present|absent&gt;
 * WRITE-AFTER-REOPEN ok | WRITE-AFTER-REOPEN FAILED &lt;class&gt; &lt;message&gt;
 * DONE
 * </pre>
 */
public final class FsyncFailureChild {
  private FsyncFailureChild() {}

  /** {@code args}: backend type, data directory, trigger file. */
  public static void main(String[] args) throws Exception {
    String type = args[0];
    Path data = Path.of(args[1]);
    Path trigger = Path.of(args[2]);
    String conf =
        "cairn.backends.main { type = "
            + type
            + ", durability = full, data-dir = \""
            + data.toString().replace("\\", "\\\\")
            + "\" }";
    PersistenceRegistry registry = PersistenceRegistry.open(ConfigFactory.parseString(conf));
    StorageBackend backend = registry.backend("main");
    KeyValueStore kv = backend.keyValue("k");
    for (int i = 0; i < 10; i++) {
      kv.put(b("acked-" + i), b("v" + i));
      say("ACKED " + i);
    }
    Files.createFile(trigger); // from here every fsync of this process fails with EIO
    say("DURING " + attempt(() -> kv.put(b("during"), b("x"))));
    say("HEALTH-DURING " + health(backend.health()));
    Files.delete(trigger); // fsync works again: a naive backend would now acknowledge writes
    say("AFTER " + attempt(() -> kv.put(b("after"), b("x"))));
    say("HEALTH-AFTER " + health(backend.health()));
    try {
      registry.close();
      say("CLOSE ok");
    } catch (RuntimeException e) {
      say("CLOSE FAILED " + describe(e));
    }
    try (PersistenceRegistry again = PersistenceRegistry.open(ConfigFactory.parseString(conf))) {
      KeyValueStore kv2 = again.backend("main").keyValue("k");
      int present = 0;
      for (int i = 0; i < 10; i++) {
        byte[] v = kv2.get(b("acked-" + i));
        if (v != null && new String(v, StandardCharsets.UTF_8).equals("v" + i)) {
          present++;
        }
      }
      say(
          "REOPENED acked-present="
              + present
              + "/10 during="
              + (kv2.get(b("during")) != null ? "present" : "absent")
              + " after="
              + (kv2.get(b("after")) != null ? "present" : "absent"));
      say(
          "WRITE-AFTER-REOPEN "
              + attempt(() -> kv2.put(b("reopened"), b("x"))).replace("ACKED", "ok"));
    }
    say("DONE");
  }

  private static String attempt(Runnable write) {
    try {
      write.run();
      return "ACKED";
    } catch (PersistenceException e) {
      return "REFUSED " + describe(e);
    } catch (RuntimeException e) {
      return "FAILED-UNTYPED " + describe(e);
    }
  }

  private static String health(HealthCheck.Result r) {
    return r.isHealthy() + " " + oneLine(r.getMessage());
  }

  private static String describe(Throwable e) {
    return e.getClass().getName() + " " + oneLine(e.getMessage());
  }

  private static String oneLine(String s) {
    return String.valueOf(s).replace('\n', ' ');
  }

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static void say(String line) {
    System.out.println(line);
    System.out.flush();
  }
}
