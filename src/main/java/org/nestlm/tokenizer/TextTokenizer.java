package org.nestlm.tokenizer;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import org.nestlm.util.DjlRuntime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;

/**
 * A Hugging Face {@code tokenizer.json} loaded through DJL's tokenizers, offline. Special tokens are not
 * added: nestlm scores and generates exactly the ids of the text.
 */
public final class TextTokenizer implements AutoCloseable {

    private final HuggingFaceTokenizer tokenizer;
    private final Path file;

    private TextTokenizer(HuggingFaceTokenizer tokenizer, Path file) {
        this.tokenizer = tokenizer;
        this.file = file;
    }

    /** Loads {@code tokenizer.json} (a file, or a directory holding one). */
    public static TextTokenizer load(Path fileOrDir) throws IOException {
        DjlRuntime.configure();
        Path file = Files.isDirectory(fileOrDir) ? fileOrDir.resolve("tokenizer.json") : fileOrDir;
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file + ": no tokenizer.json (pass --tokenizer FILE, or use --ids)");
        }
        try {
            HuggingFaceTokenizer t = HuggingFaceTokenizer.newInstance(file, Map.of(
                    "addSpecialTokens", "false", "truncation", "false", "padding", "false"));
            return new TextTokenizer(t, file);
        } catch (RuntimeException e) {
            throw new IOException(file + ": not a valid tokenizer.json: " + e.getMessage(), e);
        }
    }

    public long[] encode(String text) {
        Encoding e = tokenizer.encode(text, false, false);
        return e.getIds();
    }

    public String decode(long[] ids) {
        return tokenizer.decode(ids, false);
    }

    public Path file() {
        return file;
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
