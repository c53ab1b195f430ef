package org.nestlm.tokenizer;

import org.nestlm.data.CacheDir;
import org.nestlm.data.Corpus;
import org.nestlm.data.Hashing;
import org.nestlm.data.Progress;
import org.nestlm.data.Split;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.nestlm.io.AtomicFiles;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * Token ids of a corpus split, encoded once with DJL's tokenizer and cached as a memory-mapped int file:
 * {@code <cache>/tokens/<key>.ids} (little-endian int32) with a JSON sidecar {@code <key>.json}
 * ({@link TokenCacheInfo}). The key is a hash of the tokenizer file's bytes, the split's text and the cache format,
 * so any change to the tokenizer, the corpus, or the split rule makes a new cache and an unchanged one is reused.
 *
 * <p>Our own tokenizer.json files ({@link TokenizerJson#readOwn}) are encoded by the Java {@link BpeEncoder}, whose
 * ids tests pin to DJL's; any other tokenizer is encoded by DJL. Chunks are encoded in parallel.
 *
 * <p>The stream is every document of the split in corpus order, each followed by the tokenizer's end-of-text token
 * ({@link SpecialTokens#eosId}) when it has one. Long documents are encoded in chunks of about 32 K characters cut
 * where GPT-2 pre-tokenization cannot change ({@link PreTokenizer#chunks}), which keeps the native tokenizer's
 * memory bounded; for byte-level tokenizers (ours, GPT-2) the ids equal those of encoding the document whole.
 *
 * <p>Both files are written atomically, ids first, so a sidecar always describes a complete ids file.
 */
public final class TokenCache {

    /** Bump when the stream layout changes (separators, chunking), so old caches are not reused. */
    public static final int FORMAT = 1;

    static final int CHUNK_CHARS = 1 << 15;
    /** Documents are encoded in batches of about this many characters: parallel, yet bounded in memory. */
    static final int BATCH_CHARS = 1 << 22;

    private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private TokenCache() {
    }

    /** The ids of {@code split} of {@code corpus} under {@code tokenizer}, from the default cache directory. */
    public static TokenIds ids(Corpus corpus, Split split, TextTokenizer tokenizer) throws IOException {
        return ids(CacheDir.resolve(), corpus, split, tokenizer, true);
    }

    /** As above, in {@code cacheDir}; builds the cache (with a progress bar when asked) if it is missing. */
    public static TokenIds ids(Path cacheDir, Corpus corpus, Split split, TextTokenizer tokenizer, boolean progress)
            throws IOException {
        return ids(cacheDir, corpus, split, tokenizer, progress, true);
    }

    /** @param javaEncoder false forces DJL even for our own tokenizers (tests compare the two) */
    static TokenIds ids(Path cacheDir, Corpus corpus, Split split, TextTokenizer tokenizer, boolean progress,
                        boolean javaEncoder) throws IOException {
        String tokSha = Hashing.sha256(tokenizer.file());
        String fingerprint = corpus.fingerprint(split);
        String key = key(tokSha, fingerprint, split);
        Path dir = cacheDir.resolve("tokens");
        Path ids = dir.resolve(key + ".ids");
        Path sidecar = dir.resolve(key + ".json");
        if (Files.isRegularFile(ids) && Files.isRegularFile(sidecar)) {
            TokenCacheInfo info = readInfo(sidecar);
            if (info.format() == FORMAT && info.key().equals(key) && Files.size(ids) == info.tokens() * Integer.BYTES) {
                return TokenIds.map(ids, info);
            }
        }
        TokenCacheInfo info = build(ids, key, corpus, split, fingerprint, tokenizer, tokSha, progress, javaEncoder);
        AtomicFiles.writeBytes(sidecar, MAPPER.writeValueAsBytes(info));
        return TokenIds.map(ids, info);
    }

    static String key(String tokenizerSha, String fingerprint, Split split) {
        byte[] h = Hashing.sha256().digest(("nestlm-token-cache/" + FORMAT + "\n" + tokenizerSha + "\n" + fingerprint
                + "\n" + split.label()).getBytes(StandardCharsets.UTF_8));
        return HexFormat.of().formatHex(h, 0, 16);       // 128 bits: no accidental collisions among a user's caches
    }

    private static TokenCacheInfo build(Path ids, String key, Corpus corpus, Split split, String fingerprint,
                                        TextTokenizer tokenizer, String tokSha, boolean progress, boolean javaEncoder)
            throws IOException {
        int sep = SpecialTokens.eosId(tokenizer.file()).orElse(-1);
        // Our own tokenizer.json is encoded in Java (tests pin it to DJL's ids, and it skips DJL's per-call cost of
        // building token strings and offsets); any other tokenizer goes through DJL.
        Optional<BpeModel> own = javaEncoder ? TokenizerJson.readOwn(tokenizer.file()) : Optional.empty();
        Function<String, int[]> encoder = own.isPresent() ? new BpeEncoder(own.get())::encode
                : text -> toInts(tokenizer.encode(text), text);
        long[] totalChars = new long[1];
        corpus.forEach(split, d -> totalChars[0] += d.text().length());
        long[] counts = new long[3];                       // tokens, documents, bytes
        AtomicFiles.write(ids, ch -> {
            ByteBuffer buf = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
            List<List<String>> batch = new ArrayList<>();
            long[] batchChars = new long[1];
            try (Progress bar = Progress.start(progress, "encode " + split.label(), totalChars[0], "MB", 1_000_000)) {
                corpus.forEach(split, d -> {
                    batch.add(PreTokenizer.chunks(d.text(), CHUNK_CHARS));
                    batchChars[0] += d.text().length();
                    counts[1]++;
                    counts[2] += d.text().getBytes(StandardCharsets.UTF_8).length;
                    if (batchChars[0] >= BATCH_CHARS) {
                        counts[0] += flush(batch, encoder, sep, ch, buf, bar);
                        batchChars[0] = 0;
                    }
                });
                counts[0] += flush(batch, encoder, sep, ch, buf, bar);
            }
            buf.flip();
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
        });
        return new TokenCacheInfo(FORMAT, key, corpus.description(), split.label(), fingerprint,
                tokenizer.file().toAbsolutePath().toString(), tokSha, counts[0], counts[1], counts[2], sep);
    }

    /**
     * Encodes a batch of documents (their chunks in parallel, on the common pool) and writes the ids in document
     * order, each document followed by the separator. Returns the number of ids written.
     */
    private static long flush(List<List<String>> batch, Function<String, int[]> encoder, int sep, FileChannel ch,
                              ByteBuffer buf, Progress bar) throws IOException {
        List<String> chunks = batch.stream().flatMap(List::stream).toList();
        List<int[]> encoded = chunks.parallelStream().map(c -> {
            int[] r = encoder.apply(c);
            bar.step(c.length());
            return r;
        }).toList();                                   // toList keeps encounter order
        long written = 0;
        int k = 0;
        for (List<String> doc : batch) {
            for (int j = 0; j < doc.size(); j++) {
                for (int id : encoded.get(k++)) {
                    put(ch, buf, id);
                    written++;
                }
            }
            if (sep >= 0) {
                put(ch, buf, sep);
                written++;
            }
        }
        batch.clear();
        return written;
    }

    private static int[] toInts(long[] ids, String text) {
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] > Integer.MAX_VALUE) {
                throw new IllegalStateException("tokenizer returned id " + ids[i] + ", outside int32, for text "
                        + "starting '" + text.substring(0, Math.min(40, text.length())) + "'");
            }
            out[i] = (int) ids[i];
        }
        return out;
    }

    private static void put(FileChannel ch, ByteBuffer buf, int id) throws IOException {
        if (!buf.hasRemaining()) {
            buf.flip();
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            buf.clear();
        }
        buf.putInt(id);
    }

    static TokenCacheInfo readInfo(Path sidecar) throws IOException {
        try {
            return MAPPER.readValue(sidecar.toFile(), TokenCacheInfo.class);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IOException(sidecar + ": not a token cache sidecar: " + e.getOriginalMessage(), e);
        }
    }
}
