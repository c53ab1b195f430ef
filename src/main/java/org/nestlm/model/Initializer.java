package org.nestlm.model;

import java.util.Map;
import java.util.Random;

/**
 * Initial weights for a new model, following the Hugging Face Nemotron-H / Mamba-2 recipe:
 * <ul>
 *   <li>embeddings, lm_head and every projection: N(0, {@code initializer_range}) (0.02);</li>
 *   <li>projections that write into the residual stream (Mamba out_proj, attention o_proj, MLP down_proj):
 *       N(0, {@code initializer_range / sqrt(num_hidden_layers)}) ({@code rescale_prenorm_residual}), so the
 *       residual stream does not grow with depth;</li>
 *   <li>conv1d weight and bias: U(−1/√K, 1/√K), PyTorch's default for a depthwise conv (fan-in K);</li>
 *   <li>{@code dt_bias = softplus⁻¹(dt)} with dt log-uniform in [{@code time_step_min}, {@code time_step_max}],
 *       floored at {@code time_step_floor}, so initial time steps span the range the kernels were tuned for;</li>
 *   <li>{@code A_log = log(U[1, 16])}; {@code D = 1}; every norm weight 1; every bias 0.</li>
 * </ul>
 * Each tensor draws from its own generator seeded by (seed, tensor name), so a tensor's values do not
 * depend on the order of initialisation or on the other tensors of the model.
 */
public final class Initializer {

    private Initializer() {
    }

    /** Fills every tensor of {@code arch}; returns canonical name → values (row-major). */
    public static Map<String, float[]> initialize(Architecture arch, long seed) {
        ModelConfig c = arch.config();
        Map<String, float[]> out = new java.util.LinkedHashMap<>();
        double std = c.initializerRange();
        double residualStd = c.rescalePrenormResidual() ? std / Math.sqrt(c.numHiddenLayers()) : std;
        for (Map.Entry<String, long[]> e : arch.tensorShapes().entrySet()) {
            String name = e.getKey();
            int numel = Math.toIntExact(numel(e.getValue()));
            Random rng = new Random(seed * 0x9E3779B97F4A7C15L + name.hashCode());
            float[] v = new float[numel];
            if (name.endsWith("norm.weight") || name.endsWith("norm_f.weight") || name.endsWith(".D")) {
                java.util.Arrays.fill(v, 1f);
            } else if (name.endsWith(".bias") && !name.endsWith("conv1d.bias")) {
                out.put(name, v);   // projection biases start at zero
                continue;
            } else if (name.endsWith("conv1d.weight") || name.endsWith("conv1d.bias")) {
                double bound = 1.0 / Math.sqrt(c.convKernel());
                for (int i = 0; i < numel; i++) {
                    v[i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
                }
            } else if (name.endsWith("dt_bias")) {
                double lo = Math.log(c.timeStepMin()), hi = Math.log(c.timeStepMax());
                for (int i = 0; i < numel; i++) {
                    double dt = Math.max(Math.exp(lo + rng.nextDouble() * (hi - lo)), c.timeStepFloor());
                    v[i] = (float) (dt + Math.log(-Math.expm1(-dt)));   // softplus⁻¹(dt) = dt + log(1 − e^(−dt))
                }
            } else if (name.endsWith("A_log")) {
                for (int i = 0; i < numel; i++) {
                    v[i] = (float) Math.log(1 + 15 * rng.nextDouble());
                }
            } else {
                boolean residual = name.endsWith("out_proj.weight") || name.endsWith("o_proj.weight")
                        || name.endsWith("down_proj.weight");
                double s = residual ? residualStd : std;
                for (int i = 0; i < numel; i++) {
                    v[i] = (float) (rng.nextGaussian() * s);
                }
            }
            out.put(name, v);
        }
        return out;
    }

    static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }
}
