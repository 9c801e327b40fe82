package io.cairn.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.codahale.metrics.health.HealthCheck;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.ConfigurationException;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.PersistenceRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AdminServerTest {
  private static final String TOKEN = "t0ken-for-the-admin-test";
  @TempDir Path dir;
  private PersistenceRegistry registry;
  private final HttpClient http = HttpClient.newHttpClient();
  private final List<AdminServer> servers = new ArrayList<>();

  @BeforeEach
  void open() {
    registry =
        PersistenceRegistry.builder()
            .baseDirectory(dir)
            .open(
                ConfigFactory.parseString(
                    "cairn.backends.main { type = sqlite, data-dir = data }"));
    KeyValueStore kv = registry.backend("main").keyValue("tenant-7");
    for (int i = 0; i < 10; i++) {
      kv.put(("k" + i).getBytes(StandardCharsets.UTF_8), "secret-value".getBytes());
    }
  }

  @AfterEach
  void close() {
    servers.forEach(AdminServer::close);
    registry.close();
  }

  private AdminServer start(AdminSettings settings) {
    AdminServer server = AdminServer.start(registry, settings);
    servers.add(server);
    return server;
  }

  private HttpResponse<String> get(AdminServer server, String path, String token) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(server.uri().resolve(path)).GET();
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> post(AdminServer server, String path, String token)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(server.uri().resolve(path))
            .POST(HttpRequest.BodyPublishers.noBody());
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void healthIs200ThenIs503AfterAForcedFailure() throws Exception {
    AdminServer server = start(AdminSettings.loopback(0));
    HttpResponse<String> ok = get(server, "/health", null);
    assertThat(ok.statusCode()).isEqualTo(200);
    assertThat(ok.body()).startsWith("{\"healthy\":true").contains("\"checks\":{");
    assertThat(ok.headers().firstValue("Content-Type"))
        .hasValueSatisfying(v -> assertThat(v).startsWith("application/json"));

    AtomicBoolean broken = new AtomicBoolean();
    registry
        .healthChecks()
        .register(
            "forced",
            new HealthCheck() {
              @Override
              protected Result check() {
                return broken.get() ? Result.unhealthy("disk unplugged") : Result.healthy();
              }
            });
    assertThat(get(server, "/health", null).statusCode()).isEqualTo(200);
    broken.set(true);
    HttpResponse<String> failing = get(server, "/health", null);
    assertThat(failing.statusCode()).isEqualTo(503);
    assertThat(failing.body())
        .startsWith("{\"healthy\":false")
        .contains("\"forced\":{\"healthy\":false,\"message\":\"disk unplugged\"}");
  }

  /** Every sample line must be {@code name{labels} value}, as the text format 0.0.4 says. */
  private static final Pattern SAMPLE =
      Pattern.compile(
          "^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{[a-zA-Z_][a-zA-Z0-9_]*=\"[^\"]*\"(,[a-zA-Z_][a-zA-Z0-9_]*=\"[^\"]*\")*\\})?"
              + " (-?[0-9.eE+-]+|NaN|\\+Inf|-Inf)$");

  @Test
  void metricsAreValidPrometheusText() throws Exception {
    AdminServer server = start(AdminSettings.loopback(0));
    HttpResponse<String> r = get(server, "/metrics", null);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type"))
        .hasValueSatisfying(v -> assertThat(v).startsWith("text/plain").contains("0.0.4"));
    Map<String, Double> samples = new java.util.HashMap<>();
    for (String line : r.body().split("\n")) {
      if (line.isBlank() || line.startsWith("# HELP ") || line.startsWith("# TYPE ")) {
        continue;
      }
      Matcher m = SAMPLE.matcher(line);
      assertThat(m.matches()).as("a Prometheus sample line: %s", line).isTrue();
      samples.put(m.group(1) + (m.group(2) == null ? "" : m.group(2)), Double.valueOf(m.group(4)));
    }
    assertThat(samples).isNotEmpty();
    // The ten puts of open() were counted and are exported under a cairn_ name.
    assertThat(samples.entrySet())
        .anySatisfy(
            e -> {
              assertThat(e.getKey()).startsWith("cairn_").contains("put");
              assertThat(e.getValue()).isGreaterThanOrEqualTo(10.0);
            });
    assertThat(r.body()).doesNotContain("secret-value");
  }

  @Test
  void storesListsBackendsAndStoresWithoutValues() throws Exception {
    AdminServer server = start(AdminSettings.loopback(0));
    HttpResponse<String> r = get(server, "/stores", null);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body())
        .startsWith("{\"backends\":[{\"name\":\"main\",\"type\":\"sqlite\"")
        .contains("{\"kind\":\"kv\",\"name\":\"tenant-7\",\"entries\":10,")
        .doesNotContain("secret-value")
        .doesNotContain("\"k1\"");
  }

  @Test
  void storesIsTheDocumentCairnInspectWritesAndReadsAreGetOnly() throws Exception {
    AdminServer server = start(AdminSettings.loopback(0));
    StringBuilder expected = new StringBuilder();
    io.cairn.persistence.spi.BackendStatsJson.writeAll(
        io.cairn.persistence.spi.JsonWriter.oneLine(expected), registry);
    assertThat(get(server, "/stores", null).body()).isEqualTo(expected.toString());
    for (String path : List.of("/stores", "/health")) {
      HttpResponse<String> r = post(server, path, null);
      assertThat(r.statusCode()).as(path).isEqualTo(405);
      assertThat(r.body()).isEqualTo("{\"error\":\"" + path + " accepts GET only\"}");
    }
  }

  @Test
  void backupNeedsTheTokenAndWritesACheckpointThatOpens() throws Exception {
    Path backups = dir.resolve("backups");
    AdminServer open = start(AdminSettings.loopback(0).withBackupDirectory(backups));
    assertThat(post(open, "/backup?backend=main", null).statusCode()).isEqualTo(403);

    AdminServer guarded =
        start(AdminSettings.loopback(0).withBackupDirectory(backups).withToken(TOKEN));
    assertThat(post(guarded, "/backup?backend=main", null).statusCode()).isEqualTo(401);
    assertThat(post(guarded, "/backup?backend=main", "wrong").statusCode()).isEqualTo(401);
    assertThat(post(guarded, "/backup?backend=nope", TOKEN).statusCode()).isEqualTo(400);
    assertThat(get(guarded, "/backup?backend=main", TOKEN).statusCode()).isEqualTo(405);
    assertThat(Files.exists(backups)).isFalse();
    // Reads stay open on loopback even when a token is set.
    assertThat(get(guarded, "/stores", null).statusCode()).isEqualTo(200);

    HttpResponse<String> done = post(guarded, "/backup?backend=main", TOKEN);
    assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
    Matcher path = Pattern.compile("\"path\":\"([^\"]+)\"").matcher(done.body());
    assertThat(path.find()).isTrue();
    Path copy = Path.of(path.group(1));
    assertThat(copy.getParent()).isEqualTo(backups);
    assertThat(copy.getFileName().toString()).matches("main-\\d{8}T\\d{6}Z");
    // the same manifest cairn restore checks (issue 13)
    io.cairn.persistence.BackupManifest manifest = io.cairn.persistence.BackupManifest.read(copy);
    assertThat(manifest.type()).isEqualTo("sqlite");
    assertThat(manifest.check(copy, io.cairn.persistence.Progress.NONE)).isEmpty();

    Config restored =
        ConfigFactory.parseString(
            "cairn.backends.copy { type = sqlite, data-dir = \"" + copy + "\" }");
    try (PersistenceRegistry r = PersistenceRegistry.open(restored)) {
      assertThat(r.backend("copy").keyValue("tenant-7").get("k3".getBytes(StandardCharsets.UTF_8)))
          .isEqualTo("secret-value".getBytes());
    }
  }

  @Test
  void unknownPathIs404() throws Exception {
    AdminServer server = start(AdminSettings.loopback(0));
    assertThat(get(server, "/nothing", null).statusCode()).isEqualTo(404);
  }

  @Test
  void aNonLoopbackAddressWithoutATokenIsRefusedAtStart() {
    assertThatThrownBy(() -> start(AdminSettings.loopback(0).withHost("0.0.0.0")))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("not a loopback address")
        .hasMessageContaining("cairn.admin.token-file");
  }

  @Test
  void aNonLoopbackAddressWithATokenNeedsItForEveryRequest() throws Exception {
    AdminServer server = start(AdminSettings.loopback(0).withHost("0.0.0.0").withToken(TOKEN));
    URI base = URI.create("http://127.0.0.1:" + server.address().getPort() + "/");
    HttpResponse<String> refused =
        http.send(
            HttpRequest.newBuilder(base.resolve("/stores")).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(refused.statusCode()).isEqualTo(401);
    HttpResponse<String> allowed =
        http.send(
            HttpRequest.newBuilder(base.resolve("/health"))
                .header("Authorization", "Bearer " + TOKEN)
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(allowed.statusCode()).isEqualTo(200);
  }

  @Test
  void configuredTokenComesFromAFileOrTheEnvironmentAndIsNeverShown() throws Exception {
    Path tokenFile = dir.resolve("token");
    Files.writeString(tokenFile, TOKEN + "\n");
    Config fromFile =
        ConfigFactory.parseString(
                "cairn.admin { enabled = true, port = 0, token-file = \"" + tokenFile + "\" }")
            .withFallback(ConfigFactory.defaultReference());
    AdminSettings settings = AdminSettings.fromConfig(fromFile, Map.of());
    assertThat(settings.hasToken()).isTrue();
    assertThat(settings.toString()).doesNotContain(TOKEN).contains("token=<set>");

    Config fromEnv =
        ConfigFactory.parseString("cairn.admin { enabled = true, token-env = ADMIN_TOKEN }")
            .withFallback(ConfigFactory.defaultReference());
    assertThat(AdminSettings.fromConfig(fromEnv, Map.of("ADMIN_TOKEN", TOKEN)).hasToken()).isTrue();
    assertThatThrownBy(() -> AdminSettings.fromConfig(fromEnv, Map.of()))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("cairn.admin.token-env")
        .hasMessageContaining("ADMIN_TOKEN is not set");

    Config disabled =
        ConfigFactory.parseString("cairn.admin { enabled = false, token-env = ADMIN_TOKEN }")
            .withFallback(ConfigFactory.defaultReference());
    assertThat(AdminSettings.fromConfig(disabled, Map.of()).enabled()).isFalse();
  }

  @Test
  void startIfEnabledFollowsTheConfiguration() {
    assertThat(AdminServer.startIfEnabled(registry)).isEmpty();
  }
}
