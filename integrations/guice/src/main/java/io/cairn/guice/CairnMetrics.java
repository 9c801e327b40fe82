package io.cairn.guice;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Qualifies the {@link com.codahale.metrics.MetricRegistry} and {@link
 * com.codahale.metrics.health.HealthCheckRegistry} that {@link CairnModule} binds: inject
 * {@code @CairnMetrics MetricRegistry}. Cairn binds no unqualified registry, so an application that
 * binds its own {@code MetricRegistry} (or {@code HealthCheckRegistry}) gets no duplicate binding.
 * To have Cairn publish into the application's registry instead, pass it to {@link
 * io.cairn.runtime.Cairn.Builder#metrics} (and {@code healthChecks}) and hand that builder to
 * {@link CairnModule#CairnModule(io.cairn.runtime.Cairn.Builder)}.
 */
@jakarta.inject.Qualifier
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.FIELD, ElementType.PARAMETER, ElementType.METHOD})
public @interface CairnMetrics {}
