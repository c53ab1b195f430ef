package org.nestlm.infer;

import org.nestlm.model.Checkpoint;
import org.nestlm.sizes.ElasticModel;
import org.nestlm.sizes.TrainedBudget;
import org.nestlm.tokenizer.TextTokenizer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * An engine with its tokenizer, as generate, chat and serve use it. The tokenizer is {@code tokenizer.json}
 * next to the checkpoint, or the file given; without one the model still runs on token ids.
 *
 * <p>On an elastic checkpoint a language model may be a nested size ({@code budget}) run from views of the
 * full mapping, optionally with a smaller nested size as speculative draft. Several language models can share
 * one mapping ({@link ElasticFamily}); only the owner of the shared resources closes them.
 */
public final class LanguageModel implements AutoCloseable {

    /** Draft tokens per speculative round unless set otherwise. */
    public static final int DEFAULT_DRAFT_TOKENS = 4;

    private final String name;
    private final Engine engine;
    private final TextTokenizer tokenizer;   // may be null
    private final TokenText text;            // may be null
    private final Engine draft;              // may be null
    private final TrainedBudget budget;      // null: the whole checkpoint
    private final List<AutoCloseable> owned; // closed by close(), in order
    private volatile int draftTokens = DEFAULT_DRAFT_TOKENS;
    private final SpeculativeStats stats = new SpeculativeStats();

    LanguageModel(String name, Engine engine, TextTokenizer tokenizer, TokenText text, Engine draft, TrainedBudget budget,
                  List<AutoCloseable> owned) {
        this.name = name;
        this.engine = engine;
        this.tokenizer = tokenizer;
        this.text = text;
        this.draft = draft;
        this.budget = budget;
        this.owned = owned;
    }

    /**
     * Opens a checkpoint directory.
     *
     * @param tokenizer a tokenizer.json to use instead of the checkpoint's own; null for the default
     */
    public static LanguageModel open(Path dir, Path tokenizer, int threads) throws IOException {
        return open(dir, tokenizer, threads, null, null);
    }

    /**
     * Opens a checkpoint directory, at a nested budget of an elastic checkpoint and/or with a nested draft.
     *
     * @param budget      null: the whole model; else a budget of the elastic checkpoint ({@code 50%}, {@code 3M})
     * @param draftBudget null: plain decoding; else the budget of the speculative draft
     * @throws IOException naming elastic.json when a budget is given for a checkpoint that is not elastic
     */
    public static LanguageModel open(Path dir, Path tokenizer, int threads, String budget, String draftBudget) throws IOException {
        return open(dir, tokenizer, threads, budget, draftBudget, false);
    }

    /**
     * As {@link #open(Path, Path, int, String, String)}; with {@code q8} the weights are quantised to int8 at load
     * (the whole model only: a nested budget or draft reads views of the mapping and is refused with it).
     */
    public static LanguageModel open(Path dir, Path tokenizer, int threads, String budget, String draftBudget, boolean q8)
            throws IOException {
        return open(dir, tokenizer, threads, budget == null ? null : sizes -> sizes.resolve(budget), draftBudget, q8);
    }

    /**
     * Opens a checkpoint directory at the size {@code size} picks from its nested sizes (null: the whole model), with
     * an optional nested draft; the size is resolved once, on this model's own mapping.
     *
     * @param size picks the size from the checkpoint's {@link ElasticModel}; null for the whole model
     * @throws IOException naming elastic.json when a nested budget is asked of a checkpoint that is not elastic
     */
    public static LanguageModel open(Path dir, Path tokenizer, int threads, SizePick size, String draftBudget, boolean q8)
            throws IOException {
        if (q8 && (size != null || draftBudget != null)) {
            throw new IllegalArgumentException("--quantize q8 runs the whole model: it cannot be combined with a budget, "
                    + "limits or --draft-budget (nested sizes are read as views of the mapped weights)");
        }
        List<AutoCloseable> owned = new ArrayList<>();
        try {
            Checkpoint ckpt = Checkpoint.open(dir);
            owned.add(ckpt);
            Parallel parallel = new Parallel(threads);
            owned.addFirst(parallel);
            TrainedBudget b = null, db = null;
            if (size != null || draftBudget != null) {
                ElasticModel sizes = ElasticModel.of(ckpt);
                if (!sizes.isElastic()) {
                    throw new java.nio.file.NoSuchFileException(dir.resolve(org.nestlm.sizes.ElasticJson.FILE_NAME)
                            + ": not an elastic checkpoint (no elastic.json; run nestlm elastify)");
                }
                b = size == null ? null : size.pick(sizes);
                db = draftBudget == null ? null : sizes.resolve(draftBudget);
            }
            Engine engine = Engine.of(ckpt, parallel, b == null ? null : b.subnet(), q8);
            Engine draft = db == null ? null : Engine.of(ckpt, parallel, db.subnet());
            Path tok = tokenizer != null ? tokenizer : ckpt.tokenizer().orElse(null);
            TextTokenizer t = tok == null ? null : TextTokenizer.load(tok);
            if (t != null) {
                owned.addFirst(t);
            }
            String base = baseName(dir);
            return new LanguageModel(b == null ? base : base + "@" + b.budget(), engine, t, t == null ? null : TokenText.of(t),
                    draft, b, owned);
        } catch (IOException | RuntimeException e) {
            closeAll(owned);
            throw e;
        }
    }

    /** How a caller picks the size to open from the checkpoint's nested sizes (a budget, or limits). */
    @FunctionalInterface
    public interface SizePick {
        TrainedBudget pick(ElasticModel sizes) throws IOException;
    }

    static String baseName(Path dir) {
        Path fileName = dir.toAbsolutePath().normalize().getFileName();
        return fileName == null ? "model" : fileName.toString();
    }

    /** The id clients use for this model (the checkpoint directory's name, {@code @budget} for a nested size). */
    public String name() {
        return name;
    }

    public Engine engine() {
        return engine;
    }

    /** The speculative draft, or null. */
    public Engine draft() {
        return draft;
    }

    /** The nested size this model runs, or null for a whole checkpoint. */
    public TrainedBudget budget() {
        return budget;
    }

    /** Sets the draft tokens per speculative round. */
    public void draftTokens(int k) {
        if (k < 1) {
            throw new IllegalArgumentException("draft tokens must be at least 1, got " + k);
        }
        this.draftTokens = k;
    }

    /** Acceptance counts over every speculative generation of this model. */
    public SpeculativeStats speculativeStats() {
        return stats;
    }

    /** The tokenizer, or null when the model runs on ids only. */
    public TokenText text() {
        return text;
    }

    public boolean hasTokenizer() {
        return text != null;
    }

    public Generator generator() {
        return draft == null ? new Generator(engine, text) : new Generator(engine, text, draft, draftTokens, stats);
    }

    @Override
    public void close() {
        closeAll(owned);
    }

    static void closeAll(List<AutoCloseable> resources) {
        for (AutoCloseable c : resources) {
            try {
                c.close();
            } catch (Exception ignored) {
                // closing is best effort; the others still get closed
            }
        }
        resources.clear();
    }
}
