package io.cairn.admin;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.cairn.persistence.PersistenceRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An HTTP endpoint for operators and monitoring, on the JDK's built-in HTTP server:
 *
 * <ul>
 *   <li>{@code GET /health}: every health check of the registry as JSON; 200 when all are healthy,
 *       503 otherwise.
 *   <li>{@code GET /metrics}: every metric in the Prometheus text exposition format (through the
 *       Prometheus Java client's Dropwizard bridge).
 *   <li>{@code GET /stores}: backends, stores, counts and sizes, as {@code cairn inspect --json}
 *       prints them.
 *   <li>{@code POST /backup?backend=NAME}: an online checkpoint of one backend under the configured
 *       backup directory; needs the bearer token.
 * </ul>
 *
 * <p><b>Access.</b> Bound to loopback by default. Requests that change state need {@code
 * Authorization: Bearer <token>}; without a configured token they are refused (403). Binding to a
 * non-loopback address without a token is refused at start, and then every request needs the token,
 * because store names (often tenant names) and metrics are not for everyone.
 *
 * <p>Keys and values never appear in any response. Thread-safe; {@link #close()} stops the server
 * and its threads and is idempotent.
 */
public final class AdminServer implements AutoCloseable {
  private final HttpServer server;
  private final ExecutorService executor;

  private AdminServer(HttpServer server, ExecutorService executor) {
    this.server = server;
    this.executor = executor;
  }

  /**
   * Starts the endpoint when {@code cairn.admin.enabled} is true in the registry's configuration.
   *
   * @return the running server, or empty when disabled
   */
  public static Optional<AdminServer> startIfEnabled(PersistenceRegistry registry) {
    AdminSettings settings = AdminSettings.fromConfig(registry.config());
    return settings.enabled() ? Optional.of(start(registry, settings)) : Optional.empty();
  }

  /**
   * Starts the endpoint now, whatever {@link AdminSettings#enabled()} says.
   *
   * @throws IllegalStateException when the address is not loopback and no token is set
   * @throws UncheckedIOException when the address cannot be bound (in use, unknown host)
   */
  public static AdminServer start(PersistenceRegistry registry, AdminSettings settings) {
    InetAddress address = resolve(settings.host());
    boolean loopback = address.isLoopbackAddress();
    if (!loopback && !settings.hasToken()) {
      throw new IllegalStateException(
          "Refusing to start the Cairn admin endpoint on "
              + settings.host()
              + ", which is not a loopback address, without a token: set cairn.admin.token-file or"
              + " cairn.admin.token-env, or bind 127.0.0.1");
    }
    HttpServer server;
    try {
      server = HttpServer.create(new InetSocketAddress(address, settings.port()), 0);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Cannot bind the Cairn admin endpoint to "
              + settings.host()
              + ":"
              + settings.port()
              + " (cairn.admin.host/port): "
              + e.getMessage(),
          e);
    }
    Access access = new Access(settings.token(), !loopback);
    server.createContext("/health", access.guard(false, new HealthHandler(registry)));
    server.createContext("/metrics", access.guard(false, new MetricsHandler(registry.metrics())));
    server.createContext("/stores", access.guard(false, new StoresHandler(registry)));
    server.createContext(
        "/backup",
        access.guard(
            true, new BackupHandler(registry, settings.backupDirectory(), registry.clock())));
    server.createContext("/", AdminServer::notFound);
    AtomicInteger threadNumber = new AtomicInteger();
    ExecutorService executor =
        Executors.newFixedThreadPool(
            settings.threads(),
            r -> {
              Thread t = new Thread(r, "cairn-admin-" + threadNumber.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    server.setExecutor(executor);
    server.start();
    return new AdminServer(server, executor);
  }

  private static InetAddress resolve(String host) {
    try {
      return InetAddress.getByName(host);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Cannot resolve cairn.admin.host '" + host + "': " + e.getMessage(), e);
    }
  }

  private static void notFound(HttpExchange exchange) throws IOException {
    Responses.error(exchange, 404, "no such endpoint; try /health, /metrics, /stores");
  }

  /** The bound address (with the real port when 0 was configured). */
  public InetSocketAddress address() {
    return server.getAddress();
  }

  /** {@code http://host:port/} of the running endpoint. */
  public URI uri() {
    InetSocketAddress a = address();
    String host = a.getAddress().getHostAddress();
    if (host.contains(":")) {
      host = "[" + host + "]";
    }
    return URI.create("http://" + host + ":" + a.getPort() + "/");
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
