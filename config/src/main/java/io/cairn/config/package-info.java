/**
 * Loading and validating Cairn configuration: {@link io.cairn.config.CairnConfig} reads HOCON,
 * JSON, Java properties and TOML files onto one Typesafe Config tree with {@code file:line}
 * origins, layers it over every module's {@code reference.conf} with environment and
 * system-property overrides, and validates every setting in one pass. Everything but {@code
 * CairnConfig} is package-private.
 */
package io.cairn.config;
