package io.cairn.encryption;

import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.StorageBackend;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Child JVM of {@link FileModesTest}, started under {@code umask 000}: creates a keyset file, a
 * password-protected keyset (with its {@code .kdf}), an encrypted SQLite and an encrypted RocksDB
 * backend holding data in every store kind, and a control file made with plain {@link
 * Files#createFile} (so the parent can see the umask was in effect). Argument: the base directory.
 */
public final class FileModesChild {
  private FileModesChild() {}

  public static void main(String[] args) throws Exception {
    Path base = Path.of(args[0]);
    Files.createFile(base.resolve("control"));
    KeySources.keysetFile(base.resolve("keyset.json"))
        .store(Keysets.generate(Algorithm.XAES_256_GCM));
    KeySources.writeParameters(base.resolve("pw-keyset.json"), 1024, 1); // fast derivation
    KeySources.password(base.resolve("pw-keyset.json"), () -> "child-password".toCharArray())
        .store(Keysets.generate(Algorithm.XAES_256_GCM));
    String conf =
        "cairn.backends {\n"
            + " s { type = sqlite, data-dir = \""
            + base.resolve("data/s")
            + "\", encryption { key-source = keyset-file, keyset-file = \""
            + base.resolve("keyset.json")
            + "\" } }\n"
            + " r { type = rocksdb, data-dir = \""
            + base.resolve("data/r")
            + "\", encryption { key-source = password, keyset-file = \""
            + base.resolve("pw-keyset.json")
            + "\", password-env = CAIRN_FILE_MODES_PASSWORD } }\n}\n";
    try (PersistenceRegistry r = PersistenceRegistry.open(ConfigFactory.parseString(conf))) {
      for (String name : new String[] {"s", "r"}) {
        StorageBackend b = r.backend(name);
        for (int i = 0; i < 100; i++) {
          b.keyValue("kv").put(("k" + i).getBytes(StandardCharsets.UTF_8), new byte[100]);
          b.log("log").append(new byte[100]);
        }
        b.snapshots("snap").save(1, new byte[10_000]);
        b.compact(io.cairn.persistence.Progress.NONE);
      }
    }
    System.out.println("DONE");
  }
}
