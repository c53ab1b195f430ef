package org.nestlm.slice;

import ai.djl.ndarray.NDManager;
import org.nestlm.sizes.Budget;
import org.nestlm.sizes.ElasticJson;
import org.nestlm.sizes.ElasticSpace;
import org.nestlm.elastic.Router;
import org.nestlm.sizes.Subnet;
import org.nestlm.sizes.TrainedBudget;
import org.nestlm.infer.InferTestModels;
import org.nestlm.io.DType;
import org.nestlm.model.Architecture;
import org.nestlm.model.LayerSpec;
import org.nestlm.model.ModelConfig;
import org.nestlm.util.DjlRuntime;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Elastic checkpoints for tests, without training: random weights of {@link InferTestModels#hybrid()}
 * (pattern M*-M-*M, H 40, Mamba 2 groups × 3 heads × 8, attention 2 KV × 2 query heads × 12, MLP 48) plus an
 * {@code elastic.json} whose trained budgets are hand-picked choices of a small space, so every axis is cut:
 * <ul>
 *   <li>{@code 75%}: hidden 32, per-layer MLP 36/24, 2 Mamba heads per group, all attention heads;</li>
 *   <li>{@code 50%}: hidden 24, MLP 24/24, 1 Mamba head per group, 1 query head per KV group, layer 3 dropped.</li>
 * </ul>
 * Budget targets are the texts' fractions; the stored sub-models are what a router might have picked.
 */
public final class ElasticFixtures {

    static {
        DjlRuntime.configure();
    }

    public static final List<String> BUDGETS = List.of("75%", "50%");

    private ElasticFixtures() {
    }

    public static ModelConfig config() {
        return InferTestModels.hybrid();
    }

    public static Architecture full() {
        return Architecture.fromConfig(config());
    }

    public static ElasticSpace space() {
        return new ElasticSpace(full(), new int[] {40, 32, 24}, new double[] {1.0, 0.75, 0.5}, new int[] {3, 2, 1},
                new int[] {2, 1}, new int[] {0, 1}, List.of(3, 2), true);
    }

    /** The sub-model stored for budget {@code i} of {@link #BUDGETS}. */
    public static Subnet subnet(int i) {
        ElasticSpace s = space();
        return i == 0 ? s.subnet(new ElasticSpace.Choice(1, new int[] {1, 2}, 1, 0, 0))
                : s.subnet(new ElasticSpace.Choice(2, new int[] {2, 2}, 2, 1, 1));
    }

    /**
     * A mix-and-match sub-model outside the space: cut Mamba head channels (8 → 5), different heads per layer,
     * layer 2 dropped.
     */
    public static Subnet custom() {
        Architecture full = full();
        List<LayerSpec> layers = new ArrayList<>();
        List<Boolean> kept = new ArrayList<>();
        int m = 0;
        for (int i = 0; i < full.layers().size(); i++) {
            LayerSpec f = full.layers().get(i);
            layers.add(switch (f) {
                case LayerSpec.Mamba x -> new LayerSpec.Mamba(m++ % 2 == 0 ? 4 : 2, 5);
                case LayerSpec.Attention a -> new LayerSpec.Attention(i == 1 ? 2 : 4, a.kvHeads(), a.headDim());
                case LayerSpec.Mlp p -> new LayerSpec.Mlp(i == 2 ? 10 : 29);
            });
            kept.add(i != 2);
        }
        return new Subnet(28, layers, kept).validate(full);
    }

    /** Writes the elastic checkpoint into {@code dir}. */
    public static Path write(Path dir, DType dtype, long seed) throws IOException {
        InferTestModels.write(dir, config(), dtype, seed);
        Architecture full = full();
        ElasticSpace space = space();
        List<TrainedBudget> budgets = new ArrayList<>();
        for (int i = 0; i < BUDGETS.size(); i++) {
            Subnet s = subnet(i);
            long target = Budget.parse(BUDGETS.get(i)).target(full.parameterCount());
            budgets.add(new TrainedBudget(BUDGETS.get(i), target, s, s.parameterCount(full.config()), true));
        }
        double[] fractions = {0.75, 0.5};
        try (NDManager m = NDManager.newBaseManager(); Router router = new Router(space, BUDGETS.size(), 256, m, seed)) {
            ElasticJson.write(dir, new ElasticJson.Metadata(space, BUDGETS, fractions, 256, router.state(), budgets));
        }
        return dir;
    }
}
