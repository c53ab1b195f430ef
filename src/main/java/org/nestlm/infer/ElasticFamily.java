package org.nestlm.infer;

import org.nestlm.sizes.TrainedBudget;
import org.nestlm.io.Checkpoint;
import org.nestlm.sizes.ElasticBudgets;
import org.nestlm.tokenizer.TextTokenizer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Every size of one checkpoint as its own {@link LanguageModel}, all reading views of a single mapping of the
 * weights (the paper's "many-in-one" deployment): the full model under the directory's name and each trained
 * budget of an elastic checkpoint as {@code name@budget}. A plain checkpoint gives a family of one. The
 * family owns the mapping, the thread pool and the tokenizer; its members close nothing.
 */
public final class ElasticFamily implements AutoCloseable {

    private final Checkpoint checkpoint;
    private final List<LanguageModel> members;   // largest first
    private final List<AutoCloseable> owned;

    private ElasticFamily(Checkpoint checkpoint, List<LanguageModel> members, List<AutoCloseable> owned) {
        this.checkpoint = checkpoint;
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
            if (ElasticBudgets.isElastic(dir)) {
                List<TrainedBudget> budgets = new ArrayList<>(ElasticBudgets.trained(dir, ckpt.architecture()));
                budgets.sort(Comparator.comparingLong(TrainedBudget::parameters).reversed());
                for (TrainedBudget b : budgets) {
                    members.add(new LanguageModel(base + "@" + b.budget(), Engine.of(ckpt, parallel, b.subnet()), t, text, null, b,
                            new ArrayList<>()));
                }
            }
            return new ElasticFamily(ckpt, members, owned);
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
