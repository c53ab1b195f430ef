package org.nestlm.elastic;

/**
 * Settings of an importance run ({@code nestlm importance}): the calibration windows and the estimator's options;
 * {@link #defaults} is their one source, which {@code nestlm importance --help} shows.
 *
 * @param samples   calibration sequences, spread evenly over the data ({@link Importance#windows})
 * @param seqLen    tokens per calibration sequence
 * @param estimator batch size, the Mamba ranking head dim and the depth search ({@link Importance.Options})
 */
public record ImportanceConfig(int samples, int seqLen, Importance.Options estimator) {

    public ImportanceConfig {
        if (samples < 1 || seqLen < 1) {
            throw new IllegalArgumentException("calibration needs samples ≥ 1 and seq len ≥ 1, got " + samples + " and "
                    + seqLen);
        }
    }

    /** 64 windows of 256 tokens, and {@link Importance.Options#defaults}. */
    public static ImportanceConfig defaults() {
        return new ImportanceConfig(64, 256, Importance.Options.defaults());
    }
}
