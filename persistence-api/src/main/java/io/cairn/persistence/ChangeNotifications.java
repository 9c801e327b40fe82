package io.cairn.persistence;

/**
 * Change notifications between the instances (processes, or backend objects) that share one
 * multi-process backend ({@link Capability#MULTI_PROCESS}): a subsystem that keeps state in memory
 * (the tiered cache's L1, the route table's index) publishes a short message after each write, and
 * its peers on other instances drop or refresh what that write made stale. Offered through {@link
 * StorageBackend#extension StorageBackend.extension(ChangeNotifications.class)} (PostgreSQL: {@code
 * LISTEN/NOTIFY}); a backend without it returns empty and a subsystem then relies on its periodic
 * check alone.
 *
 * <h2>Contract</h2>
 *
 * <ul>
 *   <li><b>Who receives.</b> {@link #publish} delivers the message to every subscriber of that
 *       channel on every <em>other</em> instance of this extension connected to the same shared
 *       store (same database and schema); the publishing instance's own subscribers are
 *       <em>not</em> told (it knows what it wrote). Two backend objects in one JVM are two
 *       instances.
 *   <li><b>When.</b> Call {@code publish} after the write it announces returned: the write is then
 *       committed and visible, so a subscriber that reacts by reading the shared store sees it (or
 *       a newer state). Messages from one publisher arrive in the order published; messages from
 *       different publishers have no order between them.
 *   <li><b>Best effort.</b> A message is lost when a receiving instance is disconnected from the
 *       shared store at that moment (server restart, network fault). So a subscriber is told {@link
 *       Listener#resync()} when it subscribes and after every reconnect of its instance, and also
 *       when its callbacks fell so far behind that messages had to be dropped ({@link
 *       #MAX_PENDING}); on resync it must catch up from durable state (or drop all it holds) as if
 *       it had missed any number of messages. A subsystem that must bound staleness even if an
 *       outage goes unnoticed adds its own periodic check.
 *   <li><b>Publishing fails loudly.</b> {@link #publish} throws the backend's {@link
 *       StorageEngineException} (PostgreSQL: the retriable unavailable exception) when the message
 *       could not be handed to the shared store; the write before it is durable regardless, and the
 *       peers' resync or periodic check covers the lost message.
 *   <li><b>Sizes and names.</b> A channel is 1 to {@link #MAX_CHANNEL_LENGTH} characters of {@code
 *       [A-Za-z0-9._-]}; a message is at most {@link #MAX_MESSAGE_BYTES} bytes of UTF-8. Anything
 *       else is refused with {@link IllegalArgumentException} and nothing is sent.
 *   <li><b>Threads.</b> Every subscription has its own delivery thread (a daemon, named after the
 *       channel), fed from a queue: callbacks of one subscription run one at a time in order, and a
 *       slow or blocked callback delays only its own subscription. A callback that throws is logged
 *       and the next message is delivered. {@code publish} and {@code subscribe} are thread-safe.
 *   <li><b>Close.</b> {@link Subscription#close()} stops delivery to that subscriber (a callback
 *       already running finishes). The extension itself is closed with its backend (its listening
 *       connection and threads are released then); after that {@code publish} and {@code subscribe}
 *       throw {@link ClosedException}.
 * </ul>
 */
public interface ChangeNotifications {
  /** Longest channel name, in characters of {@code [A-Za-z0-9._-]}. */
  int MAX_CHANNEL_LENGTH = 200;

  /** Longest message, in UTF-8 bytes (PostgreSQL's payload limit is 8000 bytes). */
  int MAX_MESSAGE_BYTES = 4000;

  /**
   * Messages waiting for one subscriber's callbacks beyond which they are dropped and the
   * subscriber is told {@link Listener#resync()} instead.
   */
  int MAX_PENDING = 10_000;

  /**
   * Sends {@code message} on {@code channel} to the subscribers of the other instances (see the
   * class comment).
   *
   * @throws IllegalArgumentException bad channel name or message too long; nothing is sent
   * @throws StorageEngineException the shared store could not be reached; nothing is sent
   * @throws ClosedException the backend is closed
   */
  void publish(String channel, String message);

  /**
   * Subscribes {@code listener} to {@code channel}. Blocks until the instance listens (at most the
   * backend's connect timeout; PostgreSQL: {@code connect-timeout}), so that a subscriber may fill
   * its state right after this returns. The listener is then told {@link Listener#resync()} once
   * (from its delivery thread; again after every later reconnect), then every message that arrives
   * from now on.
   *
   * @throws IllegalArgumentException bad channel name
   * @throws ClosedException the backend is closed
   */
  Subscription subscribe(String channel, Listener listener);

  /** Receives the messages of one channel, on its subscription's own thread. */
  interface Listener {
    /** A message another instance published. */
    void onMessage(String message);

    /**
     * Messages may have been lost (at subscribe, after a reconnect, after an overflow): catch up
     * from durable state.
     */
    void resync();
  }

  /** A subscription; closing it stops delivery. Idempotent. */
  interface Subscription extends AutoCloseable {
    @Override
    void close();
  }

  /**
   * Checks a channel name against the rules above.
   *
   * @throws IllegalArgumentException naming the problem
   */
  static String checkChannel(String channel) {
    java.util.Objects.requireNonNull(channel, "channel");
    if (channel.isEmpty() || channel.length() > MAX_CHANNEL_LENGTH) {
      throw new IllegalArgumentException(
          "channel name must be 1 to "
              + MAX_CHANNEL_LENGTH
              + " characters, got "
              + channel.length());
    }
    for (int i = 0; i < channel.length(); i++) {
      char c = channel.charAt(i);
      boolean ok =
          (c >= 'a' && c <= 'z')
              || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9')
              || c == '.'
              || c == '_'
              || c == '-';
      if (!ok) {
        throw new IllegalArgumentException(
            "channel name may hold only [A-Za-z0-9._-]; character "
                + i
                + " of '"
                + channel
                + "' is not allowed");
      }
    }
    return channel;
  }

  /**
   * Checks a message's size.
   *
   * @throws IllegalArgumentException if it is over {@link #MAX_MESSAGE_BYTES} UTF-8 bytes
   */
  static String checkMessage(String message) {
    java.util.Objects.requireNonNull(message, "message");
    int bytes = message.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
    if (bytes > MAX_MESSAGE_BYTES) {
      throw new IllegalArgumentException(
          "notification message is "
              + bytes
              + " UTF-8 bytes; at most "
              + MAX_MESSAGE_BYTES
              + " are allowed (send a key or a hint, not data)");
    }
    return message;
  }
}
