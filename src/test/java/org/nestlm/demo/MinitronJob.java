package org.nestlm.demo;

import ai.djl.pytorch.jni.JniUtils;
import org.nestlm.dist.Communicator;
import org.nestlm.dist.World;
import org.nestlm.sizes.Subnet;
import org.nestlm.model.Checkpoint;
import org.nestlm.model.Architecture;
import org.nestlm.train.TokenSource;
import org.nestlm.util.DjlRuntime;

import java.nio.file.Path;
import java.util.Collections;
import java.util.Random;

/**
 * The program {@link MinitronTest} runs, alone or on every rank of an {@code mpirun} job: one Minitron-style run of
 * the parent in {@code args[0]} cut to half its hidden size, written to {@code args[1]}, with {@code args[2]}
 * micro-batches a step and seed {@code args[3]}, on synthetic tokens; libtorch on one thread.
 */
public final class MinitronJob {

    private MinitronJob() {
    }

    public static void main(String[] args) throws Exception {
        DjlRuntime.configure();
        System.setProperty("ai.djl.pytorch.num_threads", "1");
        ai.djl.engine.Engine.getEngine("PyTorch");
        JniUtils.setNumThreads(1);
        int code = 0;
        try {
            Communicator comm = World.communicator();
            try (Checkpoint parent = Checkpoint.open(Path.of(args[0]))) {
                Architecture full = parent.architecture();
                Subnet half = new Subnet(full.hiddenSize() / 2, full.layers(), Collections.nCopies(full.layers().size(), true));
                Minitron.Settings s = Minitron.Settings.of(16L * 2 * Integer.parseInt(args[2]) * 6, 16, 2,
                        Integer.parseInt(args[2]), 3e-3, 2, 3, 2, Long.parseLong(args[3]));
                int vocab = full.config().vocabSize();
                Minitron.run(parent, half, tokens(4000, vocab, 1), tokens(400, vocab, 2), Path.of(args[1]), s, System.out, comm);
            }
            System.out.println("ok rank " + comm.rank());
        } catch (Throwable t) {
            t.printStackTrace();
            code = 1;
        } finally {
            World.exit(code);
        }
        System.exit(code);
    }

    /** A token stream with some structure (mostly a fixed successor, sometimes a random token). */
    static TokenSource tokens(int n, int vocab, long seed) {
        Random r = new Random(seed);
        int[] ids = new int[n];
        for (int i = 1; i < n; i++) {
            ids[i] = r.nextInt(8) == 0 ? r.nextInt(vocab) : (ids[i - 1] * 31 + 7) % vocab;
        }
        return TokenSource.of(ids, 3L * n);
    }
}
