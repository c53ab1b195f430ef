package org.nestlm.elastic;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.nestlm.model.Masks;
import org.nestlm.model.NemotronH;
import org.nestlm.sizes.Axis;
import org.nestlm.sizes.ElasticSpace;
import org.nestlm.sizes.Resolution;
import org.nestlm.sizes.Subnet;
import org.nestlm.train.WindowSampler;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The searched routing of an elastic run (docs/METHOD.md §6.6): before any training, each budget's sub-model is the
 * one, of every configuration of the elastic space within the resolution tolerance of its target, that the
 * (permuted) teacher cut to it imitates the uncut teacher best with — lowest forward KL(teacher ‖ cut) on fixed
 * windows of the training data. The choice depends on the teacher and the data, never on the run's seed, so every
 * seed trains the same sub-models.
 *
 * <p>Candidates: every combination of the global axes (residual width, Mamba heads, attention heads, depth), each
 * with its widest homogeneous MLP width (or, per layer, the widest widths) that meets the tolerance — what
 * {@link Resolution#candidates} lists under a uniform prior. For the {@code tiny} preset about 40 per budget.
 */
public final class SubnetSearch {

    /** One candidate and its score: KL in nats per token, averaged over the search windows. */
    public record Scored(ElasticSpace.Choice choice, Subnet subnet, long parameters, double kl) {
    }

    private final NemotronH teacher;
    private final ElasticSpace space;
    private final List<WindowSampler.Batch> windows;

    /**
     * @param windows the fixed [b, L] windows the candidates are scored on; they (and their manager) must outlive
     *                the search
     */
    public SubnetSearch(NemotronH teacher, ElasticSpace space, List<WindowSampler.Batch> windows) {
        this.teacher = teacher;
        this.space = space;
        this.windows = windows;
    }

    /** Every candidate for {@code target} parameters within {@code tolerance}, best (lowest KL) first. */
    public List<Scored> rank(long target, double tolerance) {
        List<ElasticSpace.Choice> choices = Resolution.candidates(space, uniformLogProbs(space), target, tolerance,
                Integer.MAX_VALUE);
        List<Scored> scored = new ArrayList<>();
        try (NDManager scope = NDManager.newBaseManager()) {
            List<NDArray> teacherLogits = new ArrayList<>();
            for (WindowSampler.Batch w : windows) {
                try (NDManager m = scope.newSubManager()) {
                    NDArray logits = teacher.forward(w.inputsIn(m));
                    logits.attach(scope);
                    teacherLogits.add(logits);
                }
            }
            for (ElasticSpace.Choice c : choices) {
                Subnet s = space.subnet(c);
                double kl = 0;
                long tokens = 0;
                for (int i = 0; i < windows.size(); i++) {
                    try (NDManager m = scope.newSubManager()) {
                        Masks masks = SubnetMasks.hard(m, space.full(), s);
                        long n = windows.get(i).inputs().getShape().size();
                        kl += Distillation.forwardKlIn(m, teacherLogits.get(i), teacher.forward(windows.get(i).inputsIn(m), masks))
                                * (double) n;
                        tokens += n;
                    }
                }
                scored.add(new Scored(c, s, s.parameterCount(space.full().config()), kl / tokens));
            }
        }
        // stable: equal scores keep the enumeration order (wider residual stream first)
        scored.sort(Comparator.comparingDouble(Scored::kl));
        return scored;
    }

    /** The best candidate for {@code target}. */
    public Scored best(long target, double tolerance) {
        return rank(target, tolerance).getFirst();
    }

    /** Log-probabilities that rank no configuration above another: zeros of the router's shape. */
    static double[][][] uniformLogProbs(ElasticSpace space) {
        double[][][] lp = new double[Axis.values().length][][];
        for (Axis a : Axis.values()) {
            lp[a.ordinal()] = new double[space.groups(a)][space.choices(a)];
        }
        return lp;
    }
}
