package org.nestlm.cli;

import org.nestlm.sizes.Budget;
import org.nestlm.sizes.ElasticModel;
import org.nestlm.sizes.TrainedBudget;
import org.nestlm.sizes.ElasticBudgets;
import org.nestlm.sizes.ElasticSpace;
import org.nestlm.elastic.Rankings;
import org.nestlm.elastic.RankingsJson;
import org.nestlm.sizes.Subnet;
import org.nestlm.model.Checkpoint;
import org.nestlm.model.Architecture;
import org.nestlm.model.LayerKind;
import org.nestlm.model.LayerSpec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code nestlm elastic plan}: the candidate sub-models of a model for given budgets, with their exact
 * parameter counts and memory — what the router will choose among.
 */
@Command(name = "plan", mixinStandardHelpOptions = true,
        description = "Print candidate sub-models for parameter budgets: sizes per axis, parameters, memory.",
        footer = {"", "Example:", "  nestlm elastic plan --model parent --budgets 0.75,0.5,3M",
                "  nestlm elastic plan --model elastic --budgets 60%   (sizes of an elastic checkpoint: trained and interpolated)"})
final class ElasticPlanCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, description = "Checkpoint directory.")
    Path model;

    @Option(names = "--budgets", split = ",", description = "Budgets: fractions (0.5) or counts (3M). Required unless the model is an elastic checkpoint.")
    List<String> budgets;

    @Option(names = "--interpolated", defaultValue = "5", description = "On an elastic checkpoint: evenly spaced interpolated sizes listed between the trained ones (default ${DEFAULT-VALUE}).")
    int interpolated;

    @Option(names = "--top", defaultValue = "5", description = "Candidates shown per budget (default ${DEFAULT-VALUE}).")
    int top;

    @Option(names = "--context", defaultValue = "4096", description = "Tokens of KV cache counted in the memory column (default ${DEFAULT-VALUE}).")
    int context;

    @Override
    public Integer call() throws Exception {
        if (ElasticBudgets.isElastic(model)) {
            return sizes();
        }
        if (budgets == null || budgets.isEmpty()) {
            throw new UserException("--budgets is required: " + model + " has no elastic.json to list sizes from");
        }
        try (Checkpoint ckpt = Checkpoint.open(model)) {
            Architecture full = ckpt.architecture();
            Path rankFile = model.resolve(RankingsJson.FILE);
            List<Integer> removal = new ArrayList<>();
            if (Files.isRegularFile(rankFile)) {
                Rankings r = RankingsJson.read(rankFile);
                Arrays.stream(r.depth().removalOrder()).forEach(removal::add);
            }
            ElasticSpace space = ElasticSpace.defaults(full, removal, false);
            long fullParams = full.parameterCount();
            System.out.printf(Locale.ROOT, "%s: %,d parameters; candidates: %s%n", model, fullParams, space);
            if (removal.isEmpty()) {
                System.out.println("(no rankings.json next to the weights: depth is not elastic; run 'nestlm importance')");
            }
            List<Subnet> all = enumerate(space);
            for (String text : budgets) {
                Budget b = Budget.parse(text);
                long target = b.target(fullParams);
                List<Subnet> near = new ArrayList<>(all);
                near.sort(Comparator.comparingLong(s -> Math.abs(s.parameterCount(full.config()) - target)));
                System.out.printf(Locale.ROOT, "%nbudget %s = %,d parameters (%.1f %%); %d of %d candidates within ±2 %%%n", text,
                        target, 100.0 * target / fullParams,
                        all.stream().filter(s -> Math.abs((double) s.parameterCount(full.config()) / target - 1) <= 0.02).count(),
                        all.size());
                System.out.println("  hidden  mlp width  mamba heads  layers   parameters   deviation   BF16 weights   + KV/state @ context");
                for (Subnet s : near.subList(0, Math.min(top, near.size()))) {
                    long p = s.parameterCount(full.config());
                    System.out.printf(Locale.ROOT, "  %6d  %9s  %11s  %6d  %,12d   %+7.2f %%   %12s   %s%n", s.hiddenSize(),
                            s.firstSize(LayerKind.MLP), s.firstSize(LayerKind.MAMBA), s.kept().stream().filter(k -> k).count(), p,
                            100.0 * (p - target) / target, CliSupport.bytes(2 * p), CliSupport.bytes(stateBytes(s, full)));
                }
            }
        }
        return 0;
    }

    /**
     * The sizes of an elastic checkpoint: the full model, the trained budgets, the budgets given and
     * {@code --interpolated} evenly spaced ones, each marked full, trained or interpolated, largest first.
     */
    private int sizes() throws Exception {
        try (ElasticModel em = ElasticModel.open(model)) {
            Architecture full = em.checkpoint().architecture();
            long fullParams = em.fullParameters();
            List<TrainedBudget> rows = new ArrayList<>(em.fixedSizes());
            if (budgets != null) {
                for (String b : budgets) {
                    rows.add(em.resolve(Budget.parse(b)));
                }
            }
            if (interpolated > 0 && em.maxTrainedFraction() > em.minTrainedFraction()) {
                rows.addAll(em.interpolatedBudgets(interpolated));
            }
            // a listed budget that lands on a trained one (75 % between 50 % and 100 %) is that row already
            java.util.Set<Long> seen = new java.util.HashSet<>();
            rows.removeIf(t -> !seen.add(t.target()));
            rows.sort(Comparator.comparingLong(TrainedBudget::parameters).reversed());
            System.out.printf(Locale.ROOT, "%s: %,d parameters; trained budgets %s; any budget from %s to %s is served by router interpolation%n",
                    model, fullParams, em.metadata().routerBudgets(), ElasticModel.percent(em.minTrainedFraction(), 2),
                    ElasticModel.percent(em.maxTrainedFraction(), 2));
            System.out.println("  budget     kind            parameters   of full   vs target   hidden  layers   BF16 weights   + KV/state @ context");
            for (TrainedBudget t : rows) {
                Subnet s = t.subnet();
                System.out.printf(Locale.ROOT, "  %-9s  %-12s  %,12d   %5.1f %%   %+7.2f %%   %6d  %6d   %12s   %s%n", t.budget(),
                        em.kindOf(t).label(), t.parameters(), 100.0 * t.parameters() / fullParams, 100 * t.deviation(),
                        s.hiddenSize(), s.kept().stream().filter(k -> k).count(), CliSupport.bytes(2 * t.parameters()),
                        CliSupport.bytes(stateBytes(s, full)));
            }
        }
        return 0;
    }

    /** Every homogeneous combination of the candidate lists. */
    static List<Subnet> enumerate(ElasticSpace space) {
        List<Subnet> out = new ArrayList<>();
        for (int e = 0; e < space.hidden().length; e++) {
            for (int f = 0; f < space.mlpFractions().length; f++) {
                for (int m = 0; m < space.mambaHeadsPerGroup().length; m++) {
                    for (int a = 0; a < space.attentionHeadsPerGroup().length; a++) {
                        for (int d = 0; d < space.depthRemovals().length; d++) {
                            out.add(space.subnet(new ElasticSpace.Choice(e, fill(space.mlpGroups(), f), m, a, d)));
                        }
                    }
                }
            }
        }
        return out;
    }

    private static int[] fill(int n, int v) {
        int[] a = new int[n];
        Arrays.fill(a, v);
        return a;
    }

    /**
     * Inference memory beyond the weights for one sequence of {@code context} tokens: BF16 KV cache of every
     * kept attention layer, fp32 conv and SSM state of every kept Mamba layer.
     */
    long stateBytes(Subnet s, Architecture full) {
        long bytes = 0;
        var c = full.config();
        for (int i = 0; i < s.layers().size(); i++) {
            if (!s.kept().get(i)) {
                continue;
            }
            switch (s.layers().get(i)) {
                case LayerSpec.Attention a -> bytes += 2L * 2 * a.kvHeads() * a.headDim() * context;
                case LayerSpec.Mamba m -> bytes += 4L * ((long) m.heads() * m.headDim() * c.ssmStateSize()
                        + (long) m.convDim(c) * c.convKernel());
                case LayerSpec.Mlp ignored -> { }
            }
        }
        return bytes;
    }
}
