package org.nestlm.cli.bench;

import org.junit.jupiter.api.Test;
import org.nestlm.model.Architecture;
import org.nestlm.model.LayerSpec;
import org.nestlm.model.Presets;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The FLOP count behind {@code bench train}'s GFLOP/s, checked against independent counts. */
class TrainFlopsTest {

    @Test
    void projectionsAreTwoFlopsPerWeightOfEveryProjectionMatrix() {
        for (String preset : new String[] {"tiny", "small"}) {
            Architecture arch = Architecture.fromConfig(Presets.get(preset));
            long weights = 0;
            for (Map.Entry<String, long[]> e : arch.tensorShapes().entrySet()) {
                String n = e.getKey();
                if (n.endsWith("_proj.weight") || n.equals("lm_head.weight")) {
                    weights += e.getValue()[0] * e.getValue()[1];
                }
            }
            assertTrue(weights > 0, preset);
            assertEquals(2.0 * weights, TrainFlops.perToken(arch, 256).projections(), preset);
        }
    }

    @Test
    void scanAndAttentionFollowTheirMatrixShapes() {
        Architecture arch = Architecture.fromConfig(Presets.get("small"));
        int q = arch.config().chunkSize(), n = arch.config().ssmStateSize(), g = arch.config().nGroups();
        double scan = 0, attention = 0;
        int len = 4 * q, chunks = 4;
        for (LayerSpec l : arch.layers()) {
            if (l instanceof LayerSpec.Mamba m) {
                long h = m.heads(), p = m.headDim();
                // per chunk: C·Bᵀ [Q,N]x[N,Q] per group; (CBᵀ∘L)·X [Q,Q]x[Q,P], Xᵀ·B [P,Q]x[Q,N], C·Sᵀ [Q,N]x[N,P] per head
                double perChunk = g * 2.0 * q * n * q + h * (2.0 * q * q * p + 2.0 * p * q * n + 2.0 * q * n * p);
                double recurrence = h * 2.0 * (chunks + 1) * (chunks + 1) * p * n;   // [c+1,c+1]x[c+1,P·N]
                scan += (chunks * perChunk + recurrence) / len;
            } else if (l instanceof LayerSpec.Attention a) {
                attention += 2 * (2.0 * len * a.headDim()) * a.heads();             // QKᵀ and softmax·V per query
            }
        }
        TrainFlops f = TrainFlops.perToken(arch, len);
        assertEquals(scan, f.scan(), 1e-6 * scan);
        assertEquals(attention, f.attention(), 1e-6 * attention);
        assertTrue(f.scan() > 0 && f.attention() > 0);
        // a partial last chunk is padded to a whole one, as the scan runs it
        assertTrue(TrainFlops.perToken(arch, len + 1).scan() * (len + 1) > f.scan() * len);
    }
}
