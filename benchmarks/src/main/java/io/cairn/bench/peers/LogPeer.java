package io.cairn.bench.peers;

import com.squareup.tape2.QueueFile;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigUtil;
import io.cairn.bench.rocksdb.RawRocks;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.PersistenceRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import net.openhft.chronicle.bytes.SyncMode;
import net.openhft.chronicle.core.io.Syncable;
import net.openhft.chronicle.queue.ChronicleQueue;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import org.apache.activemq.artemis.core.io.nio.NIOSequentialFileFactory;
import org.apache.activemq.artemis.core.journal.impl.JournalImpl;
import org.apache.activemq.artemis.core.journal.impl.SimpleWaitIOCallback;
import org.apache.activemq.artemis.core.journal.impl.dataformat.ByteArrayEncoding;

/**
 * The append-only logs and queues compared: Cairn's log store on RocksDB and SQLite beside Tape,
 * Chronicle Queue and the ActiveMQ Artemis journal, each at its documented "no fsync" and "fsync
 * per commit" setting (Tape has only the latter: it opens its file with {@code "rwd"}, O_DSYNC).
 * One append of a 100-byte record is one commit.
 */
public enum LogPeer {
  CAIRN_ROCKSDB_LOG(Safety.NO_FSYNC, "Cairn log store on RocksDB, durability = normal"),
  CAIRN_ROCKSDB_LOG_FULL(Safety.FSYNC_PER_COMMIT, "Cairn log store on RocksDB, durability = full"),
  CAIRN_SQLITE_LOG(Safety.NO_FSYNC, "Cairn log store on SQLite, durability = normal"),
  CAIRN_SQLITE_LOG_FULL(Safety.FSYNC_PER_COMMIT, "Cairn log store on SQLite, durability = full"),
  TAPE(Safety.FSYNC_PER_COMMIT, "Tape 2 QueueFile.add (file opened \"rwd\": O_DSYNC writes)"),
  CHRONICLE_QUEUE(Safety.NO_FSYNC, "Chronicle Queue, binary, SyncMode.NONE (memory-mapped)"),
  CHRONICLE_QUEUE_SYNC(
      Safety.NO_FSYNC,
      "Chronicle Queue, binary, SyncMode.SYNC + Syncable.syncIfAvailable(appender) per append:"
          + " counted 0 msync per append (the appender is not Syncable, SyncMode acts when a"
          + " chunk is released), so NOT fsync per commit; left here to show it"),
  ARTEMIS_JOURNAL(
      Safety.NO_FSYNC,
      "Artemis JournalImpl on NIO files, appendAddRecord(sync=false), each append waiting for its"
          + " write (IOCompletion): without the wait an append only queues the record in memory"),
  ARTEMIS_JOURNAL_SYNC(
      Safety.FSYNC_PER_COMMIT, "Artemis JournalImpl on NIO files, appendAddRecord(sync=true)");

  final Safety safety;
  final String note;

  LogPeer(Safety safety, String note) {
    this.safety = safety;
    this.note = note;
  }

  /** Thin adapter; single-threaded use only. */
  public interface Log extends AutoCloseable {
    void append(byte[] record);

    @Override
    void close();
  }

  /** Opens a fresh, empty log. */
  public Log open() {
    Path dir;
    try {
      dir = Files.createTempDirectory(RawRocks.benchRoot(), "peer-" + name().toLowerCase());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    try {
      return switch (this) {
        case CAIRN_ROCKSDB_LOG -> cairn(dir, "rocksdb", "normal");
        case CAIRN_ROCKSDB_LOG_FULL -> cairn(dir, "rocksdb", "full");
        case CAIRN_SQLITE_LOG -> cairn(dir, "sqlite", "normal");
        case CAIRN_SQLITE_LOG_FULL -> cairn(dir, "sqlite", "full");
        case TAPE -> tape(dir);
        case CHRONICLE_QUEUE -> chronicle(dir, false);
        case CHRONICLE_QUEUE_SYNC -> chronicle(dir, true);
        case ARTEMIS_JOURNAL -> artemis(dir, false);
        case ARTEMIS_JOURNAL_SYNC -> artemis(dir, true);
      };
    } catch (Exception e) {
      RawRocks.deleteTree(dir);
      throw e instanceof RuntimeException r ? r : new IllegalStateException(name(), e);
    }
  }

  private static Log cairn(Path dir, String type, String durability) {
    PersistenceRegistry registry =
        PersistenceRegistry.open(
            ConfigFactory.parseString(
                "cairn.backends.bench { type = "
                    + type
                    + ", durability = "
                    + durability
                    + ", data-dir = "
                    + ConfigUtil.quoteString(dir.resolve("db").toString())
                    + " }"));
    LogStore store = registry.backend("bench").log("bench");
    return new Log() {
      @Override
      public void append(byte[] record) {
        store.append(record);
      }

      @Override
      public void close() {
        registry.close();
        RawRocks.deleteTree(dir);
      }
    };
  }

  private static Log tape(Path dir) {
    QueueFile queue;
    try {
      queue = new QueueFile.Builder(dir.resolve("tape").toFile()).build();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new Log() {
      @Override
      public void append(byte[] record) {
        try {
          queue.add(record);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }

      @Override
      public void close() {
        try {
          queue.close();
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
        RawRocks.deleteTree(dir);
      }
    };
  }

  private static Log chronicle(Path dir, boolean sync) {
    ChronicleQueue queue =
        SingleChronicleQueueBuilder.binary(dir)
            .syncMode(sync ? SyncMode.SYNC : SyncMode.NONE)
            .build();
    ExcerptAppender appender = queue.createAppender();
    return new Log() {
      @Override
      public void append(byte[] record) {
        appender.writeBytes(b -> b.write(record));
        if (sync) {
          Syncable.syncIfAvailable(appender);
        }
      }

      @Override
      public void close() {
        appender.close();
        queue.close();
        RawRocks.deleteTree(dir);
      }
    };
  }

  private static Log artemis(Path dir, boolean sync) throws Exception {
    NIOSequentialFileFactory files = new NIOSequentialFileFactory(dir.toFile(), 1);
    JournalImpl journal = new JournalImpl(10 << 20, 2, 2, 0, 0, files, "cairn", "cjr", 1);
    journal.start();
    journal.loadInternalOnly();
    return new Log() {
      private long id;

      /**
       * With {@code sync} Artemis waits for the fsync itself. Without it, {@code appendAddRecord}
       * returns once the record is queued for the journal's writer thread, so an append that
       * returned would not survive a process crash (the "no fsync" group's floor), and a benchmark
       * measured how fast a queue in memory grows (and then failed every queued append at stop): so
       * it waits for Artemis to have written the record to the file.
       */
      @Override
      public void append(byte[] record) {
        try {
          if (sync) {
            journal.appendAddRecord(++id, (byte) 1, record, true);
          } else {
            SimpleWaitIOCallback written = new SimpleWaitIOCallback();
            journal.appendAddRecord(++id, (byte) 1, new ByteArrayEncoding(record), false, written);
            written.waitCompletion();
          }
        } catch (Exception e) {
          throw new IllegalStateException("Artemis append " + id, e);
        }
      }

      @Override
      public void close() {
        try {
          journal.stop();
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
        RawRocks.deleteTree(dir);
      }
    };
  }
}
