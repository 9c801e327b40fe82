package io.cairn.admin;

import com.codahale.metrics.health.HealthCheck;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import io.cairn.persistence.PersistenceRegistry;
import java.io.IOException;
import java.util.Map;
import java.util.SortedMap;

/**
 * {@code GET /health}: runs every health check of the registry's {@code HealthCheckRegistry}
 * (backends and every subsystem registered there) and answers 200 when all are healthy, 503
 * otherwise: {@code {"healthy": false, "checks": {"cairn.backend.main": {"healthy": false,
 * "message": "..."}}}}.
 */
final class HealthHandler implements HttpHandler {
  private final PersistenceRegistry registry;

  HealthHandler(PersistenceRegistry registry) {
    this.registry = registry;
  }

  @Override
  public void handle(HttpExchange exchange) throws IOException {
    if (!Responses.method(exchange, "GET")) {
      return;
    }
    SortedMap<String, HealthCheck.Result> results = registry.healthChecks().runHealthChecks();
    boolean healthy = results.values().stream().allMatch(HealthCheck.Result::isHealthy);
    Responses.json(
        exchange,
        healthy ? 200 : 503,
        json -> {
          json.beginObject().name("healthy").value(healthy).name("checks").beginObject();
          for (Map.Entry<String, HealthCheck.Result> e : results.entrySet()) {
            HealthCheck.Result r = e.getValue();
            json.name(e.getKey()).beginObject().name("healthy").value(r.isHealthy());
            json.name("message").value(describe(r));
            json.endObject();
          }
          json.endObject().endObject();
        });
  }

  private static String describe(HealthCheck.Result r) {
    if (r.getMessage() != null) {
      return r.getMessage();
    }
    Throwable error = r.getError();
    return error == null ? null : error.getClass().getSimpleName() + ": " + error.getMessage();
  }
}
