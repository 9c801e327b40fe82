package io.cairn.backend.postgres;

import io.cairn.persistence.BackendClosedException;
import io.cairn.persistence.ChangeNotifications;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.zip.CRC32C;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link ChangeNotifications} over PostgreSQL {@code LISTEN/NOTIFY}.
 *
 * <h2>Wire format</h2>
 *
 * All channels of one Cairn schema share one PostgreSQL channel, the quoted identifier {@code
 * "cairn.<schema>"} (PostgreSQL channels are database-wide, so the schema keeps two Cairn
 * deployments in one database apart; a name over 63 bytes is shortened to its first 40 characters
 * plus a CRC-32C, since the server would truncate it). The logical channel travels in the payload:
 *
 * <pre>
 * payload := sender (16 hex digits, random per instance) ":" channel ":" message
 * </pre>
 *
 * The receiver drops payloads from its own sender id (publishers are not told their own messages)
 * and payloads that do not parse (logged at DEBUG: something else notifying on that channel). The
 * payload is at most 16 + 1 + 200 + 1 + 4000 bytes, under the server's 8000-byte limit.
 *
 * <h2>Publishing</h2>
 *
 * {@code SELECT pg_notify(?, ?)} on a pooled connection in autocommit mode: the server delivers it
 * when that statement commits, after the caller's earlier write committed. Channel name and payload
 * are bind parameters; the only identifier ever written into SQL text is the fixed {@code
 * "cairn.<schema>"}, and the schema name is validated by {@link PostgresSettings} ({@code
 * [a-z_][a-z0-9_]*}).
 *
 * <h2>Listening</h2>
 *
 * One dedicated connection outside the Hikari pool (so a long LISTEN never holds a pool slot and
 * pool resets cannot drop the LISTEN), opened lazily at the first {@link #subscribe}, read by the
 * daemon thread {@code cairn-postgres-listen-<backend>} with {@code
 * PGConnection.getNotifications(500 ms)}. When the connection fails (server restart, network), the
 * thread logs it at WARN once per outage, closes it and reconnects with backoff (100 ms doubling to
 * 5 s); after every successful (re)connect and {@code LISTEN} every subscriber is told {@code
 * resync}, since notifications sent while it was down are gone. An idle connection is checked with
 * {@code isValid} every 10 s, so a half-open TCP connection is found within about that long (plus
 * the keep-alive the driver sets).
 *
 * <p>Each subscription has its own delivery thread fed by an unbounded-in-practice queue (capped at
 * {@link #MAX_PENDING}: beyond it the backlog is dropped and replaced by one resync), so a slow
 * callback delays only itself and never the listening connection.
 *
 * <p>Closed by {@link PostgresBackend#close()}: the listening thread stops, its connection closes,
 * delivery threads stop.
 */
final class PostgresNotifications implements ChangeNotifications {
  private static final Logger log = LoggerFactory.getLogger(PostgresNotifications.class);
  private static final long POLL_MILLIS = 500;
  private static final long VALIDATE_IDLE_NANOS = TimeUnit.SECONDS.toNanos(10);
  private static final long BACKOFF_INITIAL_MILLIS = 100;
  private static final long BACKOFF_MAX_MILLIS = 5_000;

  /** Publishes one notification (a pooled connection, autocommit); throws translated errors. */
  interface Publisher {
    void notify(String pgChannel, String payload);
  }

  private final String backendName;
  private final String describe;
  private final String pgChannel;
  private final String sender;
  private final Publisher publisher;
  private final Supplier<Connection> connector;
  private final long subscribeWaitMillis;
  private final Map<String, List<Sub>> subscriptions = new ConcurrentHashMap<>();

  private volatile boolean closed;
  private Thread listener; // guarded by this
  private volatile Connection listening; // the connection the thread reads, for close()
  // true once the current connection's LISTEN took effect and its resyncAll() was sent; subscribe()
  // waits for this, not for listening, so it never sends its own resync before that resyncAll()
  // has passed it (which would then resync it a second time, after subscribe() returned)
  private volatile boolean resynced;
  // for tests: runs on the listening thread after each LISTEN took effect, before that connection's
  // resyncAll(), where a descheduled thread pauses in production
  volatile Runnable afterListen = () -> {};
  private final java.util.concurrent.atomic.AtomicLong connects =
      new java.util.concurrent.atomic.AtomicLong();

  /**
   * @param connector opens a new connection outside the pool (throws a runtime exception, with the
   *     reason, if it cannot)
   */
  PostgresNotifications(
      String backendName,
      String describe,
      String schema,
      Publisher publisher,
      Supplier<Connection> connector,
      long subscribeWaitMillis) {
    this.backendName = backendName;
    this.describe = describe;
    this.pgChannel = pgChannel(schema);
    byte[] id = new byte[8];
    new SecureRandom().nextBytes(id);
    this.sender = HexFormat.of().formatHex(id);
    this.publisher = publisher;
    this.connector = connector;
    this.subscribeWaitMillis = subscribeWaitMillis;
  }

  /** A connector from the backend's settings: DriverManager, same URL, user and password. */
  static Supplier<Connection> connector(PostgresSettings s, String backendName) {
    return () -> {
      Properties p = new Properties();
      if (!s.user().isEmpty()) {
        p.setProperty("user", s.user());
      }
      String password = s.passwordSource().read(System::getenv);
      if (password != null) {
        p.setProperty("password", password);
      }
      long connectSeconds = Math.max(1, (s.connectTimeout().toMillis() + 999) / 1000);
      p.setProperty("connectTimeout", String.valueOf(connectSeconds));
      p.setProperty("tcpKeepAlive", "true");
      p.setProperty("ApplicationName", "cairn " + backendName + " listen");
      p.setProperty("logServerErrorDetail", "false");
      try {
        return DriverManager.getConnection(s.jdbcUrl(), p);
      } catch (SQLException e) {
        throw new IllegalStateException(e.getMessage(), e);
      }
    };
  }

  /** {@code cairn.<schema>}, shortened with a checksum when over PostgreSQL's 63-byte limit. */
  static String pgChannel(String schema) {
    String full = "cairn." + schema;
    if (full.length() <= 63) {
      return full;
    }
    CRC32C crc = new CRC32C();
    crc.update(full.getBytes(StandardCharsets.UTF_8));
    return full.substring(0, 40) + "." + Long.toHexString(crc.getValue());
  }

  /** {@code "name"} with embedded quotes doubled: the SQL identifier. */
  static String quoteIdentifier(String name) {
    return "\"" + name.replace("\"", "\"\"") + "\"";
  }

  @Override
  public void publish(String channel, String message) {
    ChangeNotifications.checkChannel(channel);
    ChangeNotifications.checkMessage(message);
    ensureOpen();
    publisher.notify(pgChannel, sender + ":" + channel + ":" + message);
  }

  @Override
  public Subscription subscribe(String channel, Listener listener) {
    ChangeNotifications.checkChannel(channel);
    Objects.requireNonNull(listener, "listener");
    ensureOpen();
    Sub sub = new Sub(channel, listener);
    subscriptions.computeIfAbsent(channel, c -> new CopyOnWriteArrayList<>()).add(sub);
    sub.start();
    startListening();
    // Wait (bounded) for the LISTEN and the listening thread's resync of that connection, so that
    // the one resync below is the last one unless the connection breaks later: a subscriber may
    // fill its state right after this returns.
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(subscribeWaitMillis);
    while (!resynced && !closed && System.nanoTime() < deadline) {
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    sub.initial = false; // from now on, reconnects resync it
    sub.offerResync(); // messages before the LISTEN took effect, or before this call, are unknown
    if (closed) {
      sub.close();
      ensureOpen();
    }
    return sub;
  }

  private synchronized void startListening() {
    if (listener != null || closed) {
      return;
    }
    listener = new Thread(this::listenLoop, "cairn-postgres-listen-" + backendName);
    listener.setDaemon(true);
    listener.start();
  }

  private void ensureOpen() {
    if (closed) {
      throw new BackendClosedException(backendName);
    }
  }

  /** Stops the listening thread, its connection and every subscription. Idempotent. */
  void close() {
    Thread t;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      t = listener;
    }
    if (t != null) {
      t.interrupt();
      Connection c = listening;
      if (c != null) {
        closeQuietly(c); // unblocks a read in progress
      }
      try {
        t.join(TimeUnit.SECONDS.toMillis(10));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    for (List<Sub> subs : subscriptions.values()) {
      for (Sub s : subs) {
        s.close();
      }
    }
    subscriptions.clear();
  }

  /** Whether the listening connection is up (for tests and health). */
  boolean listening() {
    return listening != null;
  }

  /**
   * Whether the listening connection is up and every subscriber has handled everything delivered so
   * far (for tests that must not race a resync).
   */
  boolean quiet() {
    if (listening == null) {
      return false;
    }
    for (List<Sub> subs : subscriptions.values()) {
      for (Sub s : subs) {
        if (s.unfinished.get() > 0) {
          return false;
        }
      }
    }
    return true;
  }

  /** How many times the listening connection was (re)established (for tests). */
  long connects() {
    return connects.get();
  }

  private void listenLoop() {
    long backoff = BACKOFF_INITIAL_MILLIS;
    boolean outageLogged = false;
    while (!closed) {
      Connection c = null;
      try {
        c = connector.get();
        try (Statement st = c.createStatement()) {
          st.execute("LISTEN " + quoteIdentifier(pgChannel));
        }
        listening = c;
        if (closed) {
          break;
        }
        if (outageLogged) {
          log.info("{}: change notifications reconnected; subscribers resync", describe);
          outageLogged = false;
        }
        backoff = BACKOFF_INITIAL_MILLIS;
        connects.incrementAndGet();
        afterListen.run();
        resyncAll();
        resynced = true;
        PGConnection pg = c.unwrap(PGConnection.class);
        long lastTraffic = System.nanoTime();
        while (!closed) {
          PGNotification[] batch = pg.getNotifications((int) POLL_MILLIS);
          if (batch != null && batch.length > 0) {
            for (PGNotification n : batch) {
              dispatch(n.getParameter());
            }
            lastTraffic = System.nanoTime();
          } else if (System.nanoTime() - lastTraffic > VALIDATE_IDLE_NANOS) {
            if (!c.isValid(5)) {
              throw new SQLException("the listening connection is no longer valid", "08006");
            }
            lastTraffic = System.nanoTime();
          }
        }
      } catch (SQLException | RuntimeException e) {
        if (closed) {
          break;
        }
        if (!outageLogged) {
          log.warn(
              "{}: change notifications lost their connection ({}); reconnecting with backoff up"
                  + " to {} ms; subscribers resync after reconnect",
              describe,
              e.getMessage(),
              BACKOFF_MAX_MILLIS);
          outageLogged = true;
        } else {
          log.debug("{}: change notifications: reconnect failed: {}", describe, e.toString());
        }
      } finally {
        resynced = false;
        listening = null;
        if (c != null) {
          closeQuietly(c);
        }
      }
      try {
        Thread.sleep(backoff);
      } catch (InterruptedException e) {
        if (closed) {
          break;
        }
      }
      backoff = Math.min(BACKOFF_MAX_MILLIS, backoff * 2);
    }
  }

  private void resyncAll() {
    for (List<Sub> subs : subscriptions.values()) {
      for (Sub s : subs) {
        if (!s.initial) { // a subscribe in progress sends its own resync after the LISTEN
          s.offerResync();
        }
      }
    }
  }

  private void dispatch(String payload) {
    int first = payload.indexOf(':');
    int second = first < 0 ? -1 : payload.indexOf(':', first + 1);
    if (second < 0) {
      log.debug("{}: ignored a notification that is not Cairn's", describe);
      return;
    }
    if (payload.regionMatches(0, sender, 0, first) && first == sender.length()) {
      return; // our own
    }
    List<Sub> subs = subscriptions.get(payload.substring(first + 1, second));
    if (subs == null) {
      return;
    }
    String message = payload.substring(second + 1);
    for (Sub s : subs) {
      s.offer(message);
    }
  }

  private static void closeQuietly(Connection c) {
    try {
      c.close();
    } catch (SQLException | RuntimeException ignored) {
      // broken already
    }
  }

  /** One subscriber: its queue and delivery thread. */
  private final class Sub implements Subscription {
    private static final Object RESYNC = new Object();
    private final String channel;
    private final Listener listener;
    private final LinkedBlockingQueue<Object> queue = new LinkedBlockingQueue<>();
    private final Thread thread;
    private final java.util.concurrent.atomic.AtomicInteger unfinished =
        new java.util.concurrent.atomic.AtomicInteger(); // queued or running callbacks
    private volatile boolean stopped;
    private volatile boolean initial = true; // subscribe() has not sent its resync yet

    Sub(String channel, Listener listener) {
      this.channel = channel;
      this.listener = listener;
      this.thread =
          new Thread(this::deliver, "cairn-postgres-notify-" + backendName + "-" + channel);
      thread.setDaemon(true);
    }

    void start() {
      thread.start();
    }

    void offer(String message) {
      unfinished.incrementAndGet();
      if (queue.size() >= MAX_PENDING) {
        unfinished.addAndGet(-queue.size());
        queue.clear();
        queue.offer(RESYNC);
        log.warn(
            "{}: subscriber of channel '{}' fell {} messages behind; dropped them, it resyncs",
            describe,
            channel,
            MAX_PENDING);
        return;
      }
      queue.offer(message);
    }

    void offerResync() {
      unfinished.incrementAndGet();
      queue.offer(RESYNC);
    }

    private void deliver() {
      while (!stopped) {
        Object next;
        try {
          next = queue.take();
        } catch (InterruptedException e) {
          if (stopped) {
            return;
          }
          continue;
        }
        if (stopped) {
          return;
        }
        try {
          if (next == RESYNC) {
            listener.resync();
          } else {
            listener.onMessage((String) next);
          }
        } catch (RuntimeException e) {
          log.error(
              "{}: a subscriber of change notifications on channel '{}' failed",
              describe,
              channel,
              e);
        } finally {
          unfinished.decrementAndGet();
        }
      }
    }

    @Override
    public void close() {
      if (stopped) {
        return;
      }
      stopped = true;
      List<Sub> subs = subscriptions.get(channel);
      if (subs != null) {
        subs.remove(this);
      }
      thread.interrupt();
    }
  }

  /** Publisher over the backend's pool: {@code SELECT pg_notify(?, ?)}. */
  static Publisher publisher(PostgresBackend backend) {
    return (channel, payload) ->
        backend.call(
            "publish change notification",
            "channel " + channel,
            c -> {
              try (PreparedStatement ps = c.prepareStatement("SELECT pg_notify(?, ?)")) {
                ps.setString(1, channel);
                ps.setString(2, payload);
                ps.execute();
              }
              return null;
            });
  }
}
