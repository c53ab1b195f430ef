package org.nestlm.infer;

import org.nestlm.tokenizer.TextTokenizer;

import java.io.IOException;
import java.nio.file.Path;

/**
 * An engine with its tokenizer, as generate, chat and serve use it. The tokenizer is {@code tokenizer.json}
 * next to the checkpoint, or the file given; without one the model still runs on token ids.
 */
public final class LanguageModel implements AutoCloseable {

    private final String name;
    private final Engine engine;
    private final TextTokenizer tokenizer;   // may be null
    private final TokenText text;            // may be null

    private LanguageModel(String name, Engine engine, TextTokenizer tokenizer) {
        this.name = name;
        this.engine = engine;
        this.tokenizer = tokenizer;
        this.text = tokenizer == null ? null : TokenText.of(tokenizer);
    }

    /**
     * Opens a checkpoint directory.
     *
     * @param tokenizer a tokenizer.json to use instead of the checkpoint's own; null for the default
     */
    public static LanguageModel open(Path dir, Path tokenizer, int threads) throws IOException {
        Engine engine = Engine.open(dir, threads);
        try {
            Path tok = tokenizer != null ? tokenizer : engine.checkpoint().tokenizer().orElse(null);
            TextTokenizer t = tok == null ? null : TextTokenizer.load(tok);
            Path fileName = dir.toAbsolutePath().normalize().getFileName();
            return new LanguageModel(fileName == null ? "model" : fileName.toString(), engine, t);
        } catch (IOException | RuntimeException e) {
            engine.close();
            throw e;
        }
    }

    /** The id clients use for this model (the checkpoint directory's name). */
    public String name() {
        return name;
    }

    public Engine engine() {
        return engine;
    }

    /** The tokenizer, or null when the model runs on ids only. */
    public TokenText text() {
        return text;
    }

    public boolean hasTokenizer() {
        return text != null;
    }

    public Generator generator() {
        return new Generator(engine, text);
    }

    @Override
    public void close() {
        if (tokenizer != null) {
            tokenizer.close();
        }
        engine.close();
    }
}
