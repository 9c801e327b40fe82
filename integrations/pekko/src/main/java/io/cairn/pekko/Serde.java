package io.cairn.pekko;

import java.io.NotSerializableException;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.Serialization$;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializer;
import org.apache.pekko.serialization.Serializers;

/**
 * Pekko serialization for stored objects (event payloads, event metadata, snapshots): the
 * serializer is the one Pekko's {@code serialization-bindings} choose, and its id and manifest are
 * stored next to the bytes so that reading picks the same serializer. Both directions run with the
 * actor system's transport information set, so serializers that write actor references work
 * (Pekko's TCK checks this). Thread-safe.
 */
final class Serde {
  /** The stored form of one object. */
  record Serialized(int serializerId, String manifest, byte[] bytes) {}

  private final ExtendedActorSystem system;
  private final Serialization serialization;

  Serde(ActorSystem system) {
    this.system = (ExtendedActorSystem) system;
    this.serialization = SerializationExtension.get(system);
  }

  /**
   * Serializes {@code o}.
   *
   * @throws NotSerializableException (or whatever the serializer throws) if there is no binding for
   *     its class or the serializer fails
   */
  Serialized serialize(Object o) throws Exception {
    Serializer s = serialization.findSerializerFor(o);
    String manifest = Serializers.manifestFor(s, o);
    byte[] bytes = Serialization$.MODULE$.withTransportInformation(system, () -> s.toBinary(o));
    if (bytes == null) {
      throw new NotSerializableException(
          "Serializer " + s.getClass().getName() + " returned null for " + o.getClass().getName());
    }
    return new Serialized(s.identifier(), manifest, bytes);
  }

  /**
   * Deserializes a stored object.
   *
   * @throws IllegalStateException naming {@code where}, the serializer id and manifest if the
   *     serializer is not configured in this actor system or fails
   */
  Object deserialize(Serialized s, String where) {
    try {
      return Serialization$.MODULE$.withTransportInformation(
          system, () -> serialization.deserialize(s.bytes(), s.serializerId(), s.manifest()).get());
    } catch (Exception e) {
      throw new IllegalStateException(
          where
              + ": cannot deserialize with serializer id "
              + s.serializerId()
              + " and manifest '"
              + s.manifest()
              + "': "
              + e
              + ". Configure that serializer (pekko.actor.serializers / serialization-bindings)"
              + " in this actor system as it was when the data was written.",
          e);
    }
  }

  /** Writes {@code s} as {@code serializerId, manifest, bytes}. */
  static void write(Records.Writer w, Serialized s) {
    w.i32(s.serializerId()).str(s.manifest()).blob(s.bytes());
  }

  /** Reads what {@link #write} wrote. */
  static Serialized read(Records.Reader r) {
    int id = r.i32();
    String manifest = r.str();
    return new Serialized(id, manifest, r.blob());
  }
}
