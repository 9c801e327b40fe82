package io.cairn.persistence.spi;

import java.io.IOException;
import java.io.InputStream;
import java.util.Objects;

/**
 * A snapshot's data read lazily, one stored chunk at a time, so a snapshot larger than the heap can
 * be loaded. Backends supply {@link #fetch}; wrap the result in {@link Checksums#verifying} so the
 * checksum is checked at the end. Not thread-safe, like any InputStream. Reading after {@link
 * #close()} throws IOException.
 */
public abstract class ChunkedInputStream extends InputStream {
  private static final byte[] EMPTY = new byte[0];

  private final int chunks;
  private int next;
  private byte[] current = EMPTY;
  private int pos;
  private boolean closed;

  /**
   * @param chunks how many chunks the snapshot has
   */
  protected ChunkedInputStream(int chunks) {
    this.chunks = chunks;
  }

  /**
   * Chunk {@code index} (0-based, called in order, once each), never {@code null}.
   *
   * @throws io.cairn.persistence.StoreCorruptedException if the chunk is missing or unreadable
   */
  protected abstract byte[] fetch(int index) throws IOException;

  /** Called before every read; a backend throws here once it is closed. */
  protected void checkOpen() {}

  @Override
  public final int read() throws IOException {
    byte[] one = new byte[1];
    return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
  }

  @Override
  public final int read(byte[] b, int off, int len) throws IOException {
    Objects.checkFromIndexSize(off, len, b.length);
    if (closed) {
      throw new IOException("The snapshot stream is closed");
    }
    checkOpen();
    if (len == 0) {
      return 0;
    }
    while (pos == current.length) {
      if (next >= chunks) {
        return -1;
      }
      current = fetch(next++);
      pos = 0;
    }
    int n = Math.min(len, current.length - pos);
    System.arraycopy(current, pos, b, off, n);
    pos += n;
    return n;
  }

  @Override
  public void close() {
    closed = true;
    current = EMPTY;
  }
}
