package io.cairn.config;

import static io.cairn.config.TestFiles.failure;
import static io.cairn.config.TestFiles.problemAt;
import static io.cairn.config.TestFiles.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.sun.net.httpserver.HttpServer;
import com.typesafe.config.Config;
import io.cairn.persistence.ConfigProblem;
import io.cairn.persistence.ConfigurationException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 11.1 (units), 11.4 (wrapper, shared data-dir), 10.9 (deep nesting) and 20.6 (secrets, URL
 * includes) through the public loading API, in every format.
 */
class UnitsSecretsAndTrustTest {
  @TempDir Path dir;

  private HttpServer server;
  private final AtomicInteger requests = new AtomicInteger();

  @BeforeEach
  void serve() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/",
        exchange -> {
          requests.incrementAndGet();
          byte[] body = "cairn.data-root = \"from-url\"\n".getBytes(StandardCharsets.UTF_8);
          exchange.sendResponseHeaders(200, body.length);
          exchange.getResponseBody().write(body);
          exchange.close();
        });
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
    System.clearProperty(CairnConfig.ALLOW_URL_INCLUDES);
  }

  // --- 11.1: a duration or size without a unit -------------------------------------------------

  @Test
  void bareDurationIsRefusedWithTheFixInHocon() {
    Path f =
        write(dir, "d.conf", "cairn.backends.main {\n  type = fixture\n  flush-interval = 30\n}\n");
    ConfigProblem p = problemAt(failure(f), "cairn.backends.main.flush-interval");
    assertThat(p.origin()).isEqualTo(f + ":3");
    assertThat(p.expected()).contains("30s", "milliseconds");
    assertThat(p.found()).contains("30", "without a unit");
  }

  @Test
  void bareDurationIsRefusedInJsonTomlAndProperties() {
    Path json =
        write(
            dir,
            "d.json",
            "{\"cairn\": {\"backends\": {\"main\": {\n\"type\": \"fixture\",\n"
                + "\"flush-interval\": 600}}}}\n");
    assertThat(problemAt(failure(json), "cairn.backends.main.flush-interval").origin())
        .isEqualTo(json + ":3");
    Path toml =
        write(dir, "d.toml", "[cairn.backends.main]\ntype = \"fixture\"\nflush-interval = 600\n");
    ConfigProblem t = problemAt(failure(toml), "cairn.backends.main.flush-interval");
    assertThat(t.origin()).isEqualTo(toml + ":3");
    assertThat(t.expected()).contains("600s");
    Path props =
        write(
            dir,
            "d.properties",
            "cairn.backends.main.type = fixture\ncairn.backends.main.flush-interval = 600\n");
    ConfigProblem pr = problemAt(failure(props), "cairn.backends.main.flush-interval");
    assertThat(pr.origin()).isEqualTo(props + ":2");
    assertThat(pr.expected()).contains("600s");
  }

  @Test
  void durationWithAUnitAndZeroAreAccepted() {
    Path f =
        write(
            dir,
            "ok.conf",
            "cairn.backends.main { type = fixture, flush-interval = 10ms }\n"
                + "cairn.backends.other { type = fixture, data-dir = other, cache-size = 0 }\n");
    // cache-size 0 is below the fixture's minimum, but not refused for its (missing) unit
    ConfigProblem p = problemAt(failure(f), "cairn.backends.other.cache-size");
    assertThat(p.found()).doesNotContain("without a unit");
    Config c =
        CairnConfig.loadAndValidate(
            write(
                dir, "ok2.conf", "cairn.backends.main { type = fixture, flush-interval = 10ms }"));
    assertThat(c.getDuration("cairn.backends.main.flush-interval"))
        .isEqualTo(Duration.ofMillis(10));
  }

  @Test
  void bareSizeIsRefusedWithTheFix() {
    Path f = write(dir, "s.conf", "cairn.backends.main { type = fixture, cache-size = 64 }\n");
    ConfigProblem p = problemAt(failure(f), "cairn.backends.main.cache-size");
    assertThat(p.expected()).contains("64MiB", "64B");
    assertThat(p.found()).contains("without a unit");
  }

  @Test
  void minimumDurationIsPrintedAsWrittenNotIso() {
    Path f =
        write(dir, "m.conf", "cairn.backends.main { type = fixture, flush-interval = 0.5ms }\n");
    ConfigProblem p = problemAt(failure(f), "cairn.backends.main.flush-interval");
    assertThat(p.expected()).contains("at least 1ms").doesNotContain("PT");
  }

  // --- 20.6: secrets are never echoed ----------------------------------------------------------

  @Test
  void valueOfASecretKeyIsNeverEchoed() {
    Path f =
        write(
            dir,
            "t.conf",
            "cairn.backends.main { type = fixture, token = [\"s3cr3t-in-file\"] }\n");
    ConfigurationException e = failure(f);
    ConfigProblem p = problemAt(e, "cairn.backends.main.token");
    assertThat(p.found()).contains("value not shown");
    assertThat(e.getMessage()).doesNotContain("s3cr3t");
  }

  @Test
  void valueFromAnEnvironmentVariableIsNeverEchoed() {
    Path f =
        write(
            dir,
            "e.conf",
            "cairn.backends.main { type = fixture, cache-size = ${CAIRN_TEST_SECRET} }\n");
    ConfigurationException e = failure(f);
    assertThat(problemAt(e, "cairn.backends.main.cache-size").found())
        .contains("environment variable");
    assertThat(e.getMessage()).doesNotContain("s3cr3t");
  }

  @Test
  void valueFromAnIncludedFileUnderASecretKeyIsNeverEchoed() {
    write(dir, "secrets.conf", "cairn.backends.main.token = { nested = \"s3cr3t-included\" }\n");
    Path f = write(dir, "i.conf", "include \"secrets.conf\"\ncairn.backends.main.type = fixture\n");
    ConfigurationException e = failure(f);
    assertThat(e.getMessage()).contains("cairn.backends.main.token").doesNotContain("s3cr3t");
  }

  // --- 20.6: URL includes ----------------------------------------------------------------------

  @Test
  void urlIncludeIsRefusedWithoutFetching() {
    String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/remote.conf";
    for (String include :
        new String[] {"include url(\"" + url + "\")", "include \"" + url + "\""}) {
      Path f = write(dir, "u.conf", include + "\ncairn.backends.main.type = fixture\n");
      ConfigurationException e =
          catchThrowableOfType(ConfigurationException.class, () -> CairnConfig.load(f));
      assertThat(e).as(include).isNotNull();
      assertThat(e.getMessage()).contains("refused", CairnConfig.ALLOW_URL_INCLUDES);
    }
    assertThat(requests).as("no request reached the server").hasValue(0);
  }

  @Test
  void urlIncludeIsFetchedWhenEnabled() {
    System.setProperty(CairnConfig.ALLOW_URL_INCLUDES, "true");
    String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/remote.conf";
    Path f = write(dir, "u.conf", "include url(\"" + url + "\")\n");
    assertThat(CairnConfig.load(f).getString("cairn.data-root")).isEqualTo("from-url");
    assertThat(requests).hasValue(1);
  }

  // --- 10.9: deep nesting ----------------------------------------------------------------------

  @Test
  void deeplyNestedHoconAndJsonAreConfigurationErrors() {
    Path hocon = write(dir, "deep.conf", "a " + "{ a ".repeat(5000) + "}".repeat(5001) + "\n");
    Path json = write(dir, "deep.json", "{\"a\":" + "[".repeat(20000) + "]".repeat(20000) + "}\n");
    for (Path f : new Path[] {hocon, json}) {
      ConfigurationException e =
          catchThrowableOfType(ConfigurationException.class, () -> CairnConfig.loadAndValidate(f));
      assertThat(e).as(f.toString()).isNotNull();
      assertThat(e.getMessage()).contains(f.toString(), "too deeply");
    }
  }

  // --- 11.4: validation misses -----------------------------------------------------------------

  @Test
  void settingsWithoutTheCairnWrapperAreReported() {
    Path f =
        write(dir, "w.conf", "default-backend = main\nbackends {\n  main { type = fixture }\n}\n");
    ConfigurationException e = failure(f);
    ConfigProblem p = problemAt(e, "backends");
    assertThat(p.origin()).isEqualTo(f + ":2");
    assertThat(p.expected()).contains("cairn.backends", "cairn { }");
    assertThat(problemAt(e, "default-backend").expected()).contains("cairn.default-backend");
  }

  @Test
  void applicationKeysBesideACairnSectionAreLeftAlone() {
    Path f =
        write(
            dir,
            "app.conf",
            "backends = [\"the app's own\"]\ncairn.backends.main { type = fixture }\n");
    CairnConfig.loadAndValidate(f);
  }

  @Test
  void twoBackendsSharingADataDirAreReported() {
    Path f =
        write(
            dir,
            "shared.conf",
            "cairn.backends {\n"
                + "  a { type = fixture, data-dir = /tmp/cairn-shared }\n"
                + "  b { type = fixture, data-dir = /tmp/cairn-shared }\n"
                + "  c { type = fixture, data-dir = /tmp/cairn-shared/inner }\n"
                + "}\n");
    ConfigurationException e = failure(f);
    ConfigProblem b = problemAt(e, "cairn.backends.b.data-dir");
    assertThat(b.origin()).isEqualTo(f + ":3");
    assertThat(b.expected()).contains("'a' and 'b'", "same data directory");
    assertThat(problemAt(e, "cairn.backends.c.data-dir").expected()).contains("overlapping");
  }

  @Test
  void tomlSyntaxErrorHasOnePeriod() {
    Path f = write(dir, "x.toml", "[cairn\nkey = 1\n");
    ConfigurationException e =
        catchThrowableOfType(ConfigurationException.class, () -> CairnConfig.load(f));
    assertThat(e.getMessage()).doesNotContain("..").doesNotContain(". .");
  }
}
