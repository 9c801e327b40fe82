package io.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.crypto.tink.KeysetHandle;
import com.typesafe.config.ConfigFactory;
import io.cairn.encryption.Algorithm;
import io.cairn.encryption.KeySource;
import io.cairn.encryption.KeySources;
import io.cairn.encryption.Keysets;
import io.cairn.encryption.TinkEncryption;
import io.cairn.persistence.PersistenceRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code cairn rekey}: rotate, rekey through the command, revoke; everything still opens. */
class RekeyCommandTest {
  @TempDir Path dir;

  @Test
  void rekeyLetsTheOldKeyBeRevoked() throws IOException {
    Path keyset = dir.resolve("keyset.json");
    KeySource source = KeySources.keysetFile(keyset);
    KeysetHandle first = Keysets.generate(Algorithm.XAES_256_GCM);
    source.store(first);
    long oldKey = TinkEncryption.of(first).primaryKeyId();
    String conf =
        "cairn.backends.main { type = sqlite, data-dir = \""
            + dir.resolve("data")
            + "\", encryption { key-source = keyset-file, keyset-file = \""
            + keyset
            + "\" } }\n";
    Path file = dir.resolve("app.conf");
    Files.writeString(file, conf);
    try (PersistenceRegistry r = PersistenceRegistry.open(ConfigFactory.parseString(conf))) {
      for (int i = 0; i < 50; i++) {
        r.backend("main").keyValue("users").put(bytes("k" + i), bytes("secret-" + i));
        r.backend("main").log("events").append(bytes("event-" + i));
      }
    }
    KeysetHandle rotated = Keysets.rotate(first, Algorithm.XAES_256_GCM);
    source.store(rotated);

    CliRunner unknown = CliRunner.run("rekey", "--config", file.toString(), "--backend", "nope");
    assertThat(unknown.exitCode()).isEqualTo(CairnCommand.USAGE);
    assertThat(unknown.err()).contains("No backend 'nope'").doesNotContain("\tat ");

    CliRunner r =
        CliRunner.run("rekey", "--config", file.toString(), "--backend", "main", "--json");
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(r.out())
        .contains("\"backend\" : \"main\"", "\"name\" : \"users\"", "\"name\" : \"events\"")
        .contains("\"reencrypted\" : 100")
        .doesNotContain("secret-");
    assertThat(r.err()).contains("rekey:");

    source.store(Keysets.revoke(rotated, oldKey));
    try (PersistenceRegistry reopened = PersistenceRegistry.open(ConfigFactory.parseString(conf))) {
      assertThat(reopened.backend("main").keyValue("users").get(bytes("k7")))
          .isEqualTo(bytes("secret-7"));
      assertThat(reopened.backend("main").log("events").read(0, 50)).hasSize(50);
    }
    CliRunner again = CliRunner.run("rekey", "--config", file.toString(), "--backend", "main");
    assertThat(again.exitCode()).as(again.err()).isZero();
    assertThat(again.out()).contains("0 re-encrypted");
  }

  /**
   * {@code --lock-timeout}: with the backend held, rekey waits that long and exits 3 naming the
   * wait; when the holder lets go within the timeout, rekey waits for it and runs.
   */
  @Test
  void rekeyWaitsForTheLockUpToLockTimeout() throws Exception {
    Path keyset = dir.resolve("keyset.json");
    KeySource source = KeySources.keysetFile(keyset);
    source.store(Keysets.generate(Algorithm.XAES_256_GCM));
    String conf =
        "cairn.backends.main { type = sqlite, data-dir = \""
            + dir.resolve("data")
            + "\", encryption { key-source = keyset-file, keyset-file = \""
            + keyset
            + "\" } }\n";
    Path file = dir.resolve("app.conf");
    Files.writeString(file, conf);
    String[] args = {"rekey", "--config", file.toString(), "--backend", "main"};
    PersistenceRegistry holder = PersistenceRegistry.open(ConfigFactory.parseString(conf));
    try {
      holder.backend("main").log("events").append(bytes("event"));
      CliRunner locked = CliRunner.run(concat(args, "--lock-timeout", "300ms"));
      assertThat(locked.exitCode()).as(locked.err()).isEqualTo(CairnCommand.UNAVAILABLE);
      assertThat(locked.err()).contains("locked").contains("waited lock-timeout = PT0.3S");

      CliRunner bad = CliRunner.run(concat(args, "--lock-timeout", "30"));
      assertThat(bad.exitCode()).isEqualTo(CairnCommand.USAGE);
      assertThat(bad.err()).contains("--lock-timeout takes a duration with its unit");
    } catch (RuntimeException | AssertionError e) {
      holder.close();
      throw e;
    }
    Thread release =
        new Thread(
            () -> {
              try {
                Thread.sleep(500);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              holder.close();
            });
    release.start();
    CliRunner waited = CliRunner.run(concat(args, "--lock-timeout", "2m"));
    release.join();
    assertThat(waited.exitCode()).as(waited.err()).isZero();
    assertThat(waited.out()).contains("1 records checked");
  }

  private static String[] concat(String[] a, String... b) {
    String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, r, a.length, b.length);
    return r;
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
