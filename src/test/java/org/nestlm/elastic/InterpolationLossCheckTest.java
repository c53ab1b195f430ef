package org.nestlm.elastic;

import org.nestlm.sizes.Budget;
import org.nestlm.sizes.ElasticModel;
import org.nestlm.sizes.SizeChoice;
import org.nestlm.sizes.TrainedBudget;

import ai.djl.ndarray.NDArray;
import org.nestlm.model.Tensors;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.nestlm.model.NemotronH;
import org.nestlm.util.DjlRuntime;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The acceptance check "an interpolated budget's held-out loss lies between those of its trained neighbours", run
 * on a real elastic checkpoint only (on random weights the losses mean nothing, so it is skipped by default):
 * <pre>
 * mvn test -Dtest=InterpolationLossCheckTest -Dnestlm.elastic.dir=/tmp/pipe/elastic \
 *     -Dnestlm.heldout.ids=~/.cache/nestlm/tokens/KEY.ids   (a validation token cache of the same tokenizer)
 * </pre>
 * Prints mean held-out NLL per size (DJL masked forward over the full weights, fixed windows), trained and
 * interpolated, and whether each interpolated one lies between its trained neighbours. Reports, never asserts
 * the ordering: it is a measurement of the router, not an invariant of the code.
 */
class InterpolationLossCheckTest {

    static {
        DjlRuntime.configure();
    }

    @Test
    void heldOutLossOfInterpolatedBudgets() throws Exception {
        String dir = System.getProperty("nestlm.elastic.dir"), idsFile = System.getProperty("nestlm.heldout.ids");
        Assumptions.assumeTrue(dir != null && idsFile != null, "set -Dnestlm.elastic.dir and -Dnestlm.heldout.ids");
        int window = Integer.getInteger("nestlm.heldout.window", 256), windows = Integer.getInteger("nestlm.heldout.windows", 32);
        ByteBuffer bb = ByteBuffer.wrap(Files.readAllBytes(Path.of(idsFile))).order(ByteOrder.LITTLE_ENDIAN);
        int total = bb.remaining() / 4;
        long[][] batches = new long[windows][window];
        long stride = (total - window) / windows;
        for (int w = 0; w < windows; w++) {
            for (int i = 0; i < window; i++) {
                batches[w][i] = bb.getInt((int) ((w * stride + i) * 4));
            }
        }
        try (ElasticModel em = ElasticModel.open(Path.of(dir)); NDManager m = NDManager.newBaseManager();
             NemotronH net = NemotronH.load(em.checkpoint(), m)) {
            List<TrainedBudget> sizes = new ArrayList<>(em.fixedSizes());
            sizes.add(em.resolve(Budget.parse("60%")));
            sizes.addAll(em.interpolatedBudgets(Integer.getInteger("nestlm.heldout.interpolated", 5)));
            sizes.sort(java.util.Comparator.comparingLong(TrainedBudget::parameters));
            System.out.printf(Locale.ROOT, "held-out NLL, %d windows x %d tokens of %s%n", windows, window, idsFile);
            List<double[]> rows = new ArrayList<>();
            for (TrainedBudget t : sizes) {
                double nll = 0;
                long n = 0;
                for (long[] ids : batches) {
                    try (NDManager sub = m.newSubManager()) {
                        NDArray x = Tensors.of(sub, ids, new Shape(1, ids.length));
                        float[] lp = net.forward(x, SubnetMasks.hard(sub, em.checkpoint().architecture(), t.subnet())).get(0).logSoftmax(-1).toFloatArray();
                        int vocab = em.checkpoint().config().vocabSize();
                        for (int i = 0; i + 1 < ids.length; i++) {
                            nll -= lp[i * vocab + (int) ids[i + 1]];
                            n++;
                        }
                    }
                }
                rows.add(new double[] {t.parameters(), nll / n});
                System.out.printf(Locale.ROOT, "  %-8s %-12s %,9d params (%+.2f %% vs target)  NLL %.4f%n", t.budget(),
                        em.kindOf(t).label(), t.parameters(), 100 * t.deviation(), nll / n);
            }
            // each interpolated size against the trained/full sizes just below and above it in parameters
            for (int i = 0; i < sizes.size(); i++) {
                if (em.kindOf(sizes.get(i)) != SizeChoice.Kind.INTERPOLATED) {
                    continue;
                }
                double below = Double.NaN, above = Double.NaN;
                for (int j = i - 1; j >= 0 && Double.isNaN(below); j--) {
                    if (em.kindOf(sizes.get(j)) != SizeChoice.Kind.INTERPOLATED) {
                        below = rows.get(j)[1];
                    }
                }
                for (int j = i + 1; j < sizes.size() && Double.isNaN(above); j++) {
                    if (em.kindOf(sizes.get(j)) != SizeChoice.Kind.INTERPOLATED) {
                        above = rows.get(j)[1];
                    }
                }
                double v = rows.get(i)[1];
                System.out.printf(Locale.ROOT, "  %-8s NLL %.4f between neighbours %.4f (smaller) and %.4f (larger): %s%n",
                        sizes.get(i).budget(), v, below, above, v <= below && v >= above ? "yes" : "NO");
            }
        }
    }
}
