package io.infergate.worker.runtime;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Reads TFRecord files: each record is a little-endian uint64 length, the masked CRC-32C of
 * that length, the data, and the masked CRC-32C of the data.
 */
public final class TfRecords {

  private static final int MASK_DELTA = 0xa282ead8;

  private TfRecords() {}

  /** Reads up to {@code limit} records; a corrupt file fails with its position. */
  public static List<byte[]> read(InputStream stream, int limit) throws IOException {
    DataInputStream in = new DataInputStream(stream);
    List<byte[]> records = new ArrayList<>();
    byte[] header = new byte[12];
    while (records.size() < limit) {
      try {
        in.readFully(header);
      } catch (EOFException end) {
        return records;
      }
      ByteBuffer head = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN);
      long length = head.getLong();
      if (head.getInt() != maskedCrc(header, 0, 8) || length < 0 || length > Integer.MAX_VALUE) {
        throw new IOException("Corrupt TFRecord length at record " + records.size());
      }
      byte[] data = new byte[(int) length];
      in.readFully(data);
      int crc = Integer.reverseBytes(in.readInt());
      if (crc != maskedCrc(data, 0, data.length)) {
        throw new IOException("Corrupt TFRecord data at record " + records.size());
      }
      records.add(data);
    }
    return records;
  }

  /** TFRecord's checksum: CRC-32C, rotated and offset so that CRCs of CRCs stay strong. */
  public static int maskedCrc(byte[] bytes, int offset, int length) {
    CRC32C crc = new CRC32C();
    crc.update(bytes, offset, length);
    int value = (int) crc.getValue();
    return ((value >>> 15) | (value << 17)) + MASK_DELTA;
  }
}
