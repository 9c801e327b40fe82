package io.cairn.tck;

import io.cairn.persistence.Durability;
import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The durabilities a {@link BackendTck} subclass runs the whole TCK at: every one the backend
 * accepts in configuration. Each value is one run of every contract suite, shown as {@code [2]
 * durability NORMAL} in the test report.
 *
 * <pre>{@code
 * @TckDurabilities({Durability.NONE, Durability.NORMAL, Durability.FULL})
 * class MyBackendTckTest extends BackendTck { ... }
 * }</pre>
 *
 * A backend that accepts only one durability names only that one (the memory backend: {@code
 * NONE}). A {@link BackendTck} subclass without this annotation fails at discovery with a message
 * naming the class: the TCK never guesses which promises a backend makes.
 */
@Documented
@Inherited
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
public @interface TckDurabilities {
  /** The durabilities, each run once; duplicates are ignored. Must not be empty. */
  Durability[] value();
}
