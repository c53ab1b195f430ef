package org.nestlm.infer;

import org.nestlm.model.Checkpoint;
import org.nestlm.sizes.ElasticBudgets;
import org.nestlm.sizes.ElasticModel;
import org.nestlm.sizes.TrainedBudget;
import org.nestlm.tokenizer.TextTokenizer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Every size of one checkpoint as its own {@link LanguageModel}, all reading views of a single mapping of the
 * weights (the paper's "many-in-one" deployment): the full model under the directory's name and each trained
 * budget of an elastic checkpoint as {@code name@budget}. A plain checkpoint gives a family of one. Any other size
 * ({@link #member}: interpolated, or chosen by limits) runs on the same mapping and thread pool. The family owns
 * the mapping, the thread pool and the tokenizer; its members close nothing.
 */
public final class ElasticFamily implements AutoCloseable {

    private final Checkpoint checkpoint;
    private final ElasticModel sizes;
    private final Parallel parallel;
    private final TextTokenizer tokenizer;       // may be null
    private final TokenText text;                // may be null
    private final String base;
    private final List<LanguageModel> members;   // largest first
    private final List<AutoCloseable> owned;

    private ElasticFamily(Checkpoint checkpoint, ElasticModel sizes, Parallel parallel, TextTokenizer tokenizer,
                          TokenText text, String base, List<LanguageModel> members, List<AutoCloseable> owned) {
        this.checkpoint = checkpoint;
        this.sizes = sizes;
        this.parallel = parallel;
        this.tokenizer = tokenizer;
        this.text = text;
        this.base = base;
        this.members = List.copyOf(members);
        this.owned = owned;
    }

    /** Opens {@code dir}; with an elastic.json, one member per trained budget besides the full model. */
    public static ElasticFamily open(Path dir, Path tokenizer, int threads) throws IOException {
        return open(dir, tokenizer, threads, false);
    }

    /** As {@link #open(Path, Path, int)}; with {@code q8} (checkpoints without elastic.json only) int8 weights. */
    public static ElasticFamily open(Path dir, Path tokenizer, int threads, boolean q8) throws IOException {
        if (q8 && ElasticBudgets.isElastic(dir)) {
            throw new IllegalArgumentException("--quantize q8 is not supported for elastic checkpoints (" + dir
                    + " has elastic.json): their nested sizes are views of the mapped weights");
        }
        List<AutoCloseable> owned = new ArrayList<>();
        try {
            Checkpoint ckpt = Checkpoint.open(dir);
            owned.add(ckpt);
            Parallel parallel = new Parallel(threads);
            owned.addFirst(parallel);
            Path tok = tokenizer != null ? tokenizer : ckpt.tokenizer().orElse(null);
            TextTokenizer t = tok == null ? null : TextTokenizer.load(tok);
            if (t != null) {
                owned.addFirst(t);
            }
            TokenText text = t == null ? null : TokenText.of(t);
            String base = LanguageModel.baseName(dir);
            List<LanguageModel> members = new ArrayList<>();
            members.add(new LanguageModel(base, Engine.of(ckpt, parallel, null, q8), t, text, null, null, new ArrayList<>()));
            ElasticModel sizes = ElasticModel.of(ckpt);
            List<TrainedBudget> budgets = new ArrayList<>(sizes.trainedBudgets());
            budgets.sort(Comparator.comparingLong(TrainedBudget::parameters).reversed());
            for (TrainedBudget b : budgets) {
                members.add(new LanguageModel(base + "@" + b.budget(), Engine.of(ckpt, parallel, b.subnet()), t, text, null, b,
                        new ArrayList<>()));
            }
            return new ElasticFamily(ckpt, sizes, parallel, t, text, base, members, owned);
        } catch (IOException | RuntimeException e) {
            LanguageModel.closeAll(owned);
            throw e;
        }
    }

    /** The members, largest first; the first is the whole checkpoint. */
    public List<LanguageModel> members() {
        return members;
    }

    public Checkpoint checkpoint() {
        return checkpoint;
    }

    /** The checkpoint's nested sizes, on the family's mapping: where budgets and limits resolve. */
    public ElasticModel sizes() {
        return sizes;
    }

    /**
     * A size that is not a member (an interpolated budget, or the largest under limits) as a language model on the
     * family's mapping and thread pool, named {@code name@budget}. Closing it closes nothing; the family does.
     */
    public LanguageModel member(TrainedBudget size) throws IOException {
        return new LanguageModel(base + "@" + size.budget(), Engine.of(checkpoint, parallel, size.subnet()), tokenizer, text,
                null, size, new ArrayList<>());
    }

    /** The member named {@code name}, or null. */
    public LanguageModel find(String name) {
        for (LanguageModel m : members) {
            if (m.name().equals(name)) {
                return m;
            }
        }
        return null;
    }

    @Override
    public void close() {
        LanguageModel.closeAll(owned);
    }
}
