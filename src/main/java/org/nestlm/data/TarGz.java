package org.nestlm.data;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Predicate;
import java.util.zip.GZIPInputStream;

/**
 * A minimal reader of gzip-compressed tar archives (ustar, with pax and GNU long names), enough for npm tarballs.
 * Only regular files are reported, with their bytes in memory; nothing is written to disk by entry name, so a
 * hostile archive cannot escape the target directory.
 */
public final class TarGz {

    /** One regular file of the archive. */
    public record Entry(String name, byte[] data) {
    }

    /** Receives entries; may throw IOException. */
    @FunctionalInterface
    public interface EntryConsumer {
        void accept(Entry entry) throws IOException;
    }

    private static final int BLOCK = 512;
    /** Corpus files are a few MB; refuse anything absurd rather than run out of heap. */
    private static final long MAX_ENTRY = 1L << 30;

    private TarGz() {
    }

    /** Calls {@code action} for every regular file whose name {@code wanted} accepts, in archive order. */
    public static void read(Path tgz, Predicate<String> wanted, EntryConsumer action) throws IOException {
        try (InputStream in = new BufferedInputStream(new GZIPInputStream(Files.newInputStream(tgz), 1 << 16))) {
            byte[] header = new byte[BLOCK];
            String longName = null;
            while (true) {
                if (!readBlock(in, header)) {
                    return;                                   // end of stream without the two zero blocks: tolerated
                }
                if (isZero(header)) {
                    return;
                }
                checkChecksum(header, tgz);
                long size = parseSize(header, tgz);
                char type = (char) header[156];
                String name = longName != null ? longName : name(header);
                longName = null;
                switch (type) {
                    case 'x', 'L' -> {
                        byte[] meta = readData(in, size, tgz);
                        longName = type == 'L' ? cString(meta, 0, meta.length) : paxPath(meta);
                    }
                    case '0', '\0', '7' -> {
                        if (wanted.test(name)) {
                            action.accept(new Entry(name, readData(in, size, tgz)));
                        } else {
                            skip(in, padded(size), tgz);
                        }
                    }
                    default -> skip(in, padded(size), tgz);   // directories, links, global pax headers
                }
            }
        }
    }

    private static String name(byte[] h) {
        String name = cString(h, 0, 100);
        boolean ustar = h[257] == 'u' && h[258] == 's' && h[259] == 't' && h[260] == 'a' && h[261] == 'r';
        String prefix = ustar ? cString(h, 345, 155) : "";
        return prefix.isEmpty() ? name : prefix + "/" + name;
    }

    /** The {@code path} record of a pax extended header ("LEN path=VALUE\n"), or null. */
    private static String paxPath(byte[] meta) {
        String s = new String(meta, StandardCharsets.UTF_8);
        int pos = 0;
        while (pos < s.length()) {
            int sp = s.indexOf(' ', pos);
            if (sp < 0) {
                break;
            }
            int len;
            try {
                len = Integer.parseInt(s.substring(pos, sp));
            } catch (NumberFormatException e) {
                break;
            }
            if (len <= 0) {
                break;
            }
            // LEN counts bytes; the records here are ASCII keys with (in npm tarballs) ASCII values.
            String record = s.substring(sp + 1, Math.min(s.length(), pos + len)).stripTrailing();
            if (record.startsWith("path=")) {
                return record.substring(5);
            }
            pos += len;
        }
        return null;
    }

    private static long parseSize(byte[] h, Path tgz) throws IOException {
        if ((h[124] & 0x80) != 0) {                                    // GNU base-256 for huge sizes
            long v = h[124] & 0x7f;
            for (int i = 125; i < 136; i++) {
                v = (v << 8) | (h[i] & 0xff);
            }
            return v;
        }
        String octal = cString(h, 124, 12).strip();
        try {
            return octal.isEmpty() ? 0 : Long.parseLong(octal, 8);
        } catch (NumberFormatException e) {
            throw new IOException(tgz + ": corrupt tar header (size field '" + octal + "')");
        }
    }

    private static void checkChecksum(byte[] h, Path tgz) throws IOException {
        String field = cString(h, 148, 8).strip();
        long expected;
        try {
            expected = Long.parseLong(field, 8);
        } catch (NumberFormatException e) {
            throw new IOException(tgz + ": corrupt tar header (checksum field '" + field + "')");
        }
        long sum = 0;
        for (int i = 0; i < BLOCK; i++) {
            sum += (i >= 148 && i < 156) ? ' ' : (h[i] & 0xff);
        }
        if (sum != expected) {
            throw new IOException(tgz + ": corrupt tar header checksum");
        }
    }

    private static byte[] readData(InputStream in, long size, Path tgz) throws IOException {
        if (size > MAX_ENTRY) {
            throw new IOException(tgz + ": entry of " + size + " bytes is larger than the reader allows");
        }
        byte[] data = in.readNBytes((int) size);
        if (data.length != size) {
            throw new EOFException(tgz + ": truncated archive");
        }
        skip(in, padded(size) - size, tgz);
        return data;
    }

    private static long padded(long size) {
        return (size + BLOCK - 1) / BLOCK * BLOCK;
    }

    private static void skip(InputStream in, long n, Path tgz) throws IOException {
        long left = n;
        while (left > 0) {
            long s = in.skip(left);
            if (s <= 0) {
                if (in.read() < 0) {
                    throw new EOFException(tgz + ": truncated archive");
                }
                s = 1;
            }
            left -= s;
        }
    }

    private static boolean readBlock(InputStream in, byte[] block) throws IOException {
        int n = in.readNBytes(block, 0, BLOCK);
        if (n == 0) {
            return false;
        }
        if (n != BLOCK) {
            throw new EOFException("truncated tar block");
        }
        return true;
    }

    private static boolean isZero(byte[] b) {
        for (byte x : b) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }

    private static String cString(byte[] b, int off, int len) {
        int end = off;
        while (end < off + len && b[end] != 0) {
            end++;
        }
        return new String(b, off, end - off, StandardCharsets.UTF_8);
    }
}
