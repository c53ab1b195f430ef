package org.nestlm.cli;

import ai.djl.pytorch.jni.JniUtils;
import picocli.CommandLine.Option;

/**
 * {@code --threads} of the commands that compute with libtorch (pretrain, importance, elastify): its intra-op thread
 * count. Results are byte-identical for the same count (docs/REPRODUCIBILITY.md §2), so a run is repeated with the
 * count it was made with.
 */
public final class TrainThreadsOption {

    @Option(names = "--threads", description = "libtorch threads (default: one per processor).")
    Integer threads;

    /** Sets the count before libtorch's first operation (and again, in case its engine had started). */
    void apply() {
        if (threads == null) {
            return;
        }
        if (threads < 1) {
            throw new UserException("--threads must be at least 1, got " + threads);
        }
        System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(threads));   // read when the engine starts
        ai.djl.engine.Engine.getEngine("PyTorch");
        JniUtils.setNumThreads(threads);
    }
}
