package org.nestlm.train;

import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;
import org.nestlm.model.Architecture;
import org.nestlm.model.NemotronH;
import org.nestlm.model.TestModels;

import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The validation loss keeps no pass's activations, and is the token-weighted mean of the batches' losses. */
class ValidationLossTest extends org.nestlm.DjlTestBase {

    @Test
    void freesEveryPassAndWeighsTokensAlike() {
        int[] ids = new SplittableRandom(5).ints(1_000, 0, 96).toArray();
        TokenSource source = TokenSource.of(ids, 3_000);
        try (NDManager root = NDManager.newBaseManager();
             NemotronH model = NemotronH.initialize(Architecture.fromConfig(TestModels.hybrid()), 7, root);
             NDManager scope = NDManager.newBaseManager()) {
            // 999 targets hold 31 windows of 32: seven batches of 4 and a last one of 3
            List<WindowSampler.Batch> batches = WindowSampler.validation(scope, source, 32, 4, 10);
            int held = scope.getManagedArrays().size();

            double loss = ValidationLoss.mean(batches, (m, in) -> model.forward(in));
            assertEquals(held, scope.getManagedArrays().size(), "a pass left arrays in the windows' manager");

            double sum = 0;
            long count = 0;
            for (WindowSampler.Batch b : batches) {   // the same passes over the windows themselves keep everything
                long n = b.targets().getShape().size();
                sum += Losses.crossEntropy(model.forward(b.inputs()), b.targets()).getFloat() * n;
                count += n;
            }
            assertTrue(scope.getManagedArrays().size() > held + 10 * batches.size(), "the check above could not fail");
            assertEquals(31 * 32, count);
            assertEquals(sum / count, loss, 0.0);
        }
    }
}
