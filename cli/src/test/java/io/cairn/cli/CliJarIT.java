package io.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.cairn.cli.plugin.NoReferenceProvider;
import io.cairn.cli.plugin.SyntheticProvider;
import io.cairn.persistence.spi.StorageBackendProvider;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code cairn} command as an operator runs it: the shaded jar in a child JVM with real exit
 * codes, working directory and environment (issues 10.9, 11.1, 11.4, 11.5, 11.7, 11.8, 11.9, 20.6,
 * 20.7). Runs in {@code verify}, after {@code package} has built {@code target/cairn.jar}.
 */
class CliJarIT {
  @TempDir Path dir;

  private JarRunner cairn(String... args) {
    return JarRunner.run(dir, Map.of(), List.of(), args);
  }

  private Path write(String name, String text) throws IOException {
    Path f = dir.resolve(name);
    Files.writeString(f, text);
    return f;
  }

  private static void assertNoTrace(JarRunner r) {
    assertThat(r.all()).doesNotContain("\tat ").doesNotContain("StackOverflowError");
  }

  // --- 20.4 ------------------------------------------------------------------------------------

  @Test
  void plantedLinksInADataDirectoryAreRefusedAndTheirTargetsUntouched() throws IOException {
    Path victim = write("victim.txt", "precious");
    var victimMode = Files.getPosixFilePermissions(victim);
    Path emptyVictim = write("empty-victim", "");
    Path sqlite = Files.createDirectories(dir.resolve("links/sqlite"));
    Path rocks = Files.createDirectories(dir.resolve("links/rocks"));
    // a lock file planted as a link must not truncate its target; a database file planted as a
    // link must not turn its target into the database
    Files.createSymbolicLink(sqlite.resolve("cairn.lock"), victim);
    Files.createSymbolicLink(sqlite.resolve("cairn.db"), emptyVictim);
    Files.createSymbolicLink(rocks.resolve("cairn.lock"), victim);
    for (Path data : List.of(sqlite, rocks)) {
      String type = data.equals(sqlite) ? "sqlite" : "rocksdb";
      Path f =
          write(
              type + "-links.conf",
              "cairn.backends.b { type = " + type + ", data-dir = \"" + data + "\" }\n");
      for (String command : List.of("verify", "inspect")) {
        JarRunner r = cairn(command, "--config", f.toString());
        assertThat(r.exitCode()).as(r.all()).isNotZero();
        assertThat(r.err()).as(r.all()).contains("symbolic link").contains(data.toString());
        assertNoTrace(r);
      }
    }
    assertThat(Files.readString(victim)).isEqualTo("precious");
    assertThat(Files.size(emptyVictim)).isZero();
    assertThat(Files.getPosixFilePermissions(victim)).isEqualTo(victimMode);
  }

  // --- 10.9 ------------------------------------------------------------------------------------

  @Test
  void verifyWithoutArgumentsIsAUsageError() {
    JarRunner r = cairn("verify");
    assertThat(r.exitCode()).isEqualTo(CairnCommand.USAGE);
    assertThat(r.err()).contains("--config");
  }

  @Test
  void deeplyNestedConfigurationIsAConfigurationError() throws IOException {
    Path hocon = write("deep.conf", "a " + "{ a ".repeat(5000) + "}".repeat(5001) + "\n");
    Path json = write("deep.json", "{\"a\":" + "[".repeat(20000) + "]".repeat(20000) + "}\n");
    for (Path f : List.of(hocon, json)) {
      JarRunner r = cairn("verify", "--config", f.toString());
      assertThat(r.exitCode()).as(r.all()).isEqualTo(CairnCommand.USAGE);
      assertThat(r.err()).contains(f.toString(), "too deeply");
      assertNoTrace(r);
    }
  }

  @Test
  void largeConfigurationSaysWhatWasChecked() throws IOException {
    // an application's own settings in one block (a dotted key per line would make Typesafe
    // Config's parser merge objects once per line, quadratic in the line count)
    StringBuilder app = new StringBuilder("app {\n");
    for (int i = 0; app.length() < 10 << 20; i++) {
      app.append("  setting-").append(i).append(" = \"").append("x".repeat(80)).append("\"\n");
    }
    app.append("}\n");
    Path withoutCairn = write("big.conf", app.toString());
    JarRunner none = cairn("verify", "--config", withoutCairn.toString());
    assertThat(none.exitCode()).as(none.all()).isEqualTo(CairnCommand.USAGE);
    assertThat(none.err()).contains("Nothing to verify", "configures no backends");

    Path withCairn =
        write(
            "big-cairn.conf",
            app + "cairn.backends.scratch { type = memory, durability = none }\n");
    JarRunner one = cairn("verify", "--config", withCairn.toString());
    assertThat(one.exitCode()).as(one.all()).isZero();
    assertThat(one.out()).contains("valid; 1 backend [scratch]", "OK       scratch (memory)");
  }

  // --- 11.1 and 11.9 ---------------------------------------------------------------------------

  @Test
  void durationWithoutUnitIsRefusedWithFileLineAndFix() throws IOException {
    Path hocon =
        write(
            "q.conf",
            "cairn {\n  backends.main { type = memory, durability = none }\n"
                + "  queues.orders { visibility-timeout = 30 }\n  caches.users { ttl = 600 }\n}\n");
    JarRunner r = cairn("verify", "--config", hocon.toString());
    assertThat(r.exitCode()).as(r.all()).isEqualTo(CairnCommand.USAGE);
    assertThat(r.err())
        .contains("cairn.queues.orders.visibility-timeout (" + hocon + ":3)", "e.g. 30s")
        .contains("cairn.caches.users.ttl (" + hocon + ":4)", "e.g. 600s");
    Path toml =
        write(
            "q.toml",
            "[cairn.backends.main]\ntype = \"memory\"\ndurability = \"none\"\n"
                + "[cairn.queues.orders]\nvisibility-timeout = 30\n");
    JarRunner t = cairn("verify", "--config", toml.toString());
    assertThat(t.exitCode()).isEqualTo(CairnCommand.USAGE);
    assertThat(t.err()).contains(toml + ":5", "e.g. 30s");
  }

  @Test
  void durationsInMessagesAreWrittenAsInConfiguration() throws IOException {
    Path f =
        write(
            "b.conf",
            "cairn.backends.main { type = memory, durability = none }\n"
                + "cairn.queues.orders { backoff-initial = 1s, backoff-max = 10ms }\n");
    JarRunner r = cairn("verify", "--config", f.toString());
    assertThat(r.exitCode()).isEqualTo(CairnCommand.USAGE);
    assertThat(r.err())
        .contains("at least backoff-initial (1s)", "found 10ms")
        .doesNotContain("PT");
  }

  @Test
  void missingBackendIsReportedInTheUsersFile() throws IOException {
    Path f =
        write(
            "m.conf",
            "cairn.backends.a { type = memory, durability = none }\n"
                + "cairn.backends.b { type = memory, durability = none }\n"
                + "cairn.queues.orders { max-attempts = 3 }\n");
    JarRunner r = cairn("verify", "--config", f.toString());
    assertThat(r.exitCode()).isEqualTo(CairnCommand.USAGE);
    assertThat(r.err()).contains("cairn.queues.orders.backend (" + f + ":3");
  }

  @Test
  void helpNeverBreaksInsideAPathOrExtension() {
    for (String command : List.of("demo", "verify", "inspect")) {
      JarRunner r = cairn(command, "--help");
      assertThat(r.exitCode()).isZero();
      for (String line : r.out().split("\n")) {
        assertThat(line).as(command + " help").doesNotEndWith(" .").doesNotMatch("^\\s*/.*");
        assertThat(line.length()).as(line).isLessThanOrEqualTo(80);
      }
    }
  }

  // --- 11.4 ------------------------------------------------------------------------------------

  @Test
  void fileWithoutTheCairnWrapperIsRefused() throws IOException {
    Path f = write("w.conf", "backends {\n  main { type = sqlite, data-dir = data }\n}\n");
    JarRunner r = cairn("verify", "--config", f.toString());
    assertThat(r.exitCode()).as(r.all()).isEqualTo(CairnCommand.USAGE);
    assertThat(r.err()).contains(f + ":1", "cairn.backends");
  }

  @Test
  void moduleClassesThatDoNotExistOrAreNotModulesAreRefused() throws IOException {
    Path f =
        write(
            "mod.conf",
            "cairn.backends.main { type = memory, durability = none }\n"
                + "cairn.modules = [queue, com.acme.DoesNotExist, java.lang.String]\n");
    JarRunner r = cairn("verify", "--config", f.toString());
    assertThat(r.exitCode()).as(r.all()).isEqualTo(CairnCommand.USAGE);
    assertThat(r.err())
        .contains("cairn.modules[1] (" + f + ":2)", "no class \"com.acme.DoesNotExist\"")
        .contains("cairn.modules[2]", "java.lang.String, which is not a Guice module");
  }

  @Test
  void twoBackendsOnOneDataDirAreRefusedBeforeOpening() throws IOException {
    Path data = dir.resolve("shared");
    Path f =
        write(
            "s.conf",
            "cairn.backends.a { type = sqlite, data-dir = \""
                + data
                + "\" }\ncairn.backends.b { type = rocksdb, data-dir = \""
                + data
                + "\" }\n");
    JarRunner r = cairn("verify", "--config", f.toString());
    assertThat(r.exitCode()).as(r.all()).isEqualTo(CairnCommand.USAGE);
    assertThat(r.err()).contains("cairn.backends.b.data-dir (" + f + ":2)", "same data directory");
    assertThat(data).doesNotExist();
  }

  // --- 11.5 ------------------------------------------------------------------------------------

  @Test
  void demoWithAConfigurationCreatesWhatItNeeds() throws IOException {
    Path f = write("app.conf", "cairn.backends.main { type = sqlite, data-dir = demo-data }\n");
    JarRunner r = cairn("demo", "--config", f.toString());
    assertThat(r.exitCode()).as(r.all()).isZero();
    assertThat(r.out())
        .contains("queue demo-jobs, cache demo-cache, route table demo-routes")
        .contains("enqueued 10", "loader calls 100", "empty table on first run");
  }

  @Test
  void demoWritesNothingWhenTheConfigurationIsWrong() throws IOException {
    Path data = dir.resolve("demo-data");
    Path f =
        write(
            "bad.conf",
            "cairn.backends.main { type = sqlite, data-dir = \""
                + data
                + "\" }\ncairn.queues.demo-jobs { visibility-timeout = 30 }\n");
    JarRunner r = cairn("demo", "--config", f.toString());
    assertThat(r.exitCode()).as(r.all()).isEqualTo(CairnCommand.USAGE);
    assertThat(r.err()).contains("cairn.queues.demo-jobs.visibility-timeout");
    assertThat(data).doesNotExist();
  }

  @Test
  void demoWithSeveralBackendsAndNoDefaultSaysWhatToAdd() throws IOException {
    Path f =
        write(
            "two.conf",
            "cairn.backends.a { type = sqlite, data-dir = a }\n"
                + "cairn.backends.b { type = sqlite, data-dir = b }\n"
                + "cairn.queues.demo-jobs { backend = a }\ncairn.caches.demo-cache { backend = a }\n"
                + "cairn.route-tables.demo-routes { backend = a }\n");
    JarRunner r = cairn("demo", "--config", f.toString());
    assertThat(r.exitCode()).as(r.all()).isEqualTo(CairnCommand.USAGE);
    assertThat(r.err()).contains("cairn.default-backend");
    assertThat(dir.resolve("a")).doesNotExist();
  }

  // --- 11.10 -----------------------------------------------------------------------------------

  @Test
  void oldSectionNamesLoadWithADeprecationWarning() throws IOException {
    Path f =
        write(
            "old.conf",
            "cairn.backends.main { type = memory, durability = none }\n"
                + "cairn.cache.users { ttl = 5m }\ncairn.routing.edge { snapshot-every = 10 }\n");
    JarRunner r = cairn("verify", "--config", f.toString());
    assertThat(r.exitCode()).as(r.all()).isZero();
    assertThat(r.err())
        .contains("cairn.cache (" + f + ":2) is deprecated: rename it to cairn.caches")
        .contains("cairn.routing (" + f + ":3) is deprecated: rename it to cairn.route-tables");
    assertThat(r.out()).contains("1 cache", "1 route table");
  }

  // --- 20.6 ------------------------------------------------------------------------------------

  @Test
  void urlIncludeIsRefusedAndNothingIsFetched() throws IOException {
    AtomicInteger requests = new AtomicInteger();
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/",
        exchange -> {
          requests.incrementAndGet();
          byte[] body =
              "cairn.backends.evil { type = sqlite, data-dir = /tmp/evil }\n"
                  .getBytes(StandardCharsets.UTF_8);
          exchange.sendResponseHeaders(200, body.length);
          exchange.getResponseBody().write(body);
          exchange.close();
        });
    server.start();
    try {
      String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/x.conf";
      Path f = write("u.conf", "include url(\"" + url + "\")\n");
      JarRunner r = cairn("verify", "--config", f.toString());
      assertThat(r.exitCode()).as(r.all()).isEqualTo(CairnCommand.USAGE);
      assertThat(r.err()).contains("refused", "cairn.config.allow-url-includes");
      assertThat(requests).hasValue(0);
    } finally {
      server.stop(0);
    }
  }

  @Test
  void verifyCreatesNoDataDirectory() throws IOException {
    Path sqlite = dir.resolve("nowhere/sqlite");
    Path rocks = dir.resolve("nowhere/rocks");
    Path f =
        write(
            "v.conf",
            "cairn.backends.s { type = sqlite, data-dir = \""
                + sqlite
                + "\" }\ncairn.backends.r { type = rocksdb, data-dir = \""
                + rocks
                + "\" }\n");
    JarRunner r = cairn("verify", "--config", f.toString());
    assertThat(r.exitCode()).as(r.all()).isZero();
    assertThat(r.out()).contains("NO DATA  r:", "NO DATA  s:", "nothing stored yet");
    assertThat(dir.resolve("nowhere")).doesNotExist();
  }

  @Test
  void secretsFromTheEnvironmentOrIncludedFilesAreNeverEchoed() throws IOException {
    write("secrets.conf", "cairn.backends.main.durability = ${DB_SECRET}\n");
    Path f =
        write(
            "e.conf",
            "include \"secrets.conf\"\n"
                + "cairn.backends.main { type = sqlite, data-dir = d, cache-size = ${DB_SECRET} }\n"
                + "cairn.backends.main.password = \"s3cr3t-in-file\"\n");
    JarRunner r =
        JarRunner.run(
            dir,
            Map.of("DB_SECRET", "s3cr3t-from-env"),
            List.of(),
            "verify",
            "--config",
            f.toString());
    assertThat(r.exitCode()).as(r.all()).isEqualTo(CairnCommand.USAGE);
    assertThat(r.err())
        .contains("cairn.backends.main.durability", "cairn.backends.main.cache-size")
        .contains("value not shown")
        .doesNotContain("s3cr3t");
  }

  // --- 11.7, 11.8 and 20.7: third-party backends ----------------------------------------------

  /** A plugin jar holding the test providers, their service file and the synthetic defaults. */
  private Path pluginJar(Path where) throws IOException {
    Files.createDirectories(where.getParent());
    try (JarOutputStream jar = new JarOutputStream(Files.newOutputStream(where))) {
      for (Class<?> c : List.of(SyntheticProvider.class, NoReferenceProvider.class)) {
        String name = c.getName().replace('.', '/') + ".class";
        Path classFile = Path.of("target/test-classes").resolve(name);
        jar.putNextEntry(new JarEntry(name));
        jar.write(Files.readAllBytes(classFile));
        jar.closeEntry();
      }
      // lambdas compile to methods of the enclosing class; no nested class files to copy
      jar.putNextEntry(new JarEntry("META-INF/services/" + StorageBackendProvider.class.getName()));
      jar.write(
          (SyntheticProvider.class.getName() + "\n" + NoReferenceProvider.class.getName() + "\n")
              .getBytes(StandardCharsets.UTF_8));
      jar.closeEntry();
      jar.putNextEntry(new JarEntry("reference.conf"));
      jar.write(
          ("# only the synthetic type declares its defaults; noref forgot its reference.conf\n"
                  + "cairn.backend-defaults.synthetic { durability = none, stores = 0 }\n")
              .getBytes(StandardCharsets.UTF_8));
      jar.closeEntry();
    }
    return where;
  }

  @Test
  void thirdPartyBackendFromThePluginsDirectory() throws IOException {
    Path install = dir.resolve("install");
    Files.createDirectories(install);
    Path jar = install.resolve("cairn.jar");
    try {
      Files.createLink(jar, JarRunner.jar());
    } catch (IOException | UnsupportedOperationException e) {
      Files.copy(JarRunner.jar(), jar);
    }
    pluginJar(install.resolve("plugins/acme-backend.jar"));
    Path f = write("p.conf", "cairn.backends.x { type = synthetic, stores = 3 }\n");
    JarRunner r = JarRunner.run(jar, dir, Map.of(), List.of(), "verify", "--config", f.toString());
    assertThat(r.exitCode()).as(r.all()).isZero();
    assertThat(r.out()).contains("OK       x (synthetic)");
    JarRunner version = JarRunner.run(jar, dir, Map.of(), List.of(), "--version");
    assertThat(version.out()).contains("plugins/acme-backend.jar", "synthetic");
    // the same jar without the plugins directory does not know the type
    JarRunner without = cairn("verify", "--config", f.toString());
    assertThat(without.exitCode()).isEqualTo(CairnCommand.USAGE);
    assertThat(without.err()).contains("\"synthetic\"");
  }

  @Test
  void thirdPartyBackendFromCairnClasspath() throws IOException {
    Path plugin = pluginJar(dir.resolve("lib/acme-backend.jar"));
    Path f = write("p.conf", "cairn.backends.x { type = synthetic, stores = 2 }\n");
    JarRunner r =
        JarRunner.run(
            dir, Map.of(Plugins.ENV, plugin.toString()), List.of(), "inspect", "-c", f.toString());
    assertThat(r.exitCode()).as(r.all()).isZero();
    assertThat(r.out()).contains("tenant-0000001");
    JarRunner missing =
        JarRunner.run(
            dir,
            Map.of(Plugins.ENV, dir.resolve("lib/nope.jar").toString()),
            List.of(),
            "verify",
            "-c",
            f.toString());
    assertThat(missing.exitCode()).isEqualTo(CairnCommand.USAGE);
    assertThat(missing.err()).contains(Plugins.ENV, "nope.jar", "does not exist");
  }

  @Test
  void providerWithoutReferenceConfIsNamedNotTheUsersFile() throws IOException {
    Path plugin = pluginJar(dir.resolve("lib/acme-backend.jar"));
    Path f = write("n.conf", "cairn.backends.x { type = noref, data-dir = x }\n");
    JarRunner r =
        JarRunner.run(
            dir, Map.of(Plugins.ENV, plugin.toString()), List.of(), "verify", "-c", f.toString());
    assertThat(r.exitCode()).as(r.all()).isEqualTo(CairnCommand.USAGE);
    assertThat(r.err())
        .contains(NoReferenceProvider.class.getName(), "reference.conf")
        .contains("cairn.backend-defaults.noref", "not in your configuration", "endpoint")
        .doesNotContain("the setting is missing or null");
  }

  @Test
  void inspectJsonOf200kStoresStreamsInASmallHeap() throws IOException {
    Path plugin = pluginJar(dir.resolve("lib/acme-backend.jar"));
    int stores = Integer.getInteger("inspectStores", 200_000);
    Path f = write("big.conf", "cairn.backends.x { type = synthetic, stores = " + stores + " }\n");
    JarRunner r =
        JarRunner.run(
            dir,
            Map.of(Plugins.ENV, plugin.toString()),
            List.of("-Xmx96m"),
            "inspect",
            "--json",
            "-c",
            f.toString());
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(r.err()).doesNotContain("OutOfMemoryError");
    long count;
    String last;
    try (InputStream in = Files.newInputStream(r.outFile())) {
      String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      count = text.lines().filter(l -> l.contains("\"kind\" : \"kv\"")).count();
      last = String.format("tenant-%07d", stores - 1);
      assertThat(text).contains(last).endsWith("}\n");
      assertThat(text.strip()).startsWith("{").endsWith("}");
    }
    assertThat(count).isEqualTo(stores);
  }

  // --- 12: the CLI bundles no DI container -------------------------------------------------------

  @Test
  void theJarBundlesNoGuiceAndStillChecksModuleLists() throws IOException {
    List<String> container = new java.util.ArrayList<>();
    int entries = 0;
    try (java.util.jar.JarFile jar = new java.util.jar.JarFile(JarRunner.jar().toFile())) {
      for (var e : java.util.Collections.list(jar.entries())) {
        entries++;
        String n = e.getName();
        if (n.startsWith("com/google/inject/")
            || n.startsWith("jakarta/inject/")
            || n.startsWith("javax/inject/")
            || n.startsWith("io/cairn/guice/")) {
          container.add(n);
        }
      }
      assertThat(jar.getEntry("io/cairn/runtime/ModulesConfigValidator.class"))
          .as("cairn.modules is still validated, by the runtime")
          .isNotNull();
    }
    assertThat(entries).as("a real shaded jar").isGreaterThan(1000);
    assertThat(container).as("DI container classes in " + JarRunner.jar()).isEmpty();
    Path f =
        write(
            "mods.conf",
            "cairn.backends.main { type = memory, durability = none }\n"
                + "cairn.modules = [cache, queue, routing, raft]\n");
    JarRunner r = cairn("verify", "--config", f.toString());
    assertThat(r.exitCode()).as(r.all()).isZero();
  }
}
