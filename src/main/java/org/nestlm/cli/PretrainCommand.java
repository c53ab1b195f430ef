package org.nestlm.cli;

import org.nestlm.data.CacheDir;
import org.nestlm.data.Hashing;
import org.nestlm.dist.Communicator;
import org.nestlm.dist.World;
import org.nestlm.model.Architecture;
import org.nestlm.model.ConfigJson;
import org.nestlm.model.ModelConfig;
import org.nestlm.model.Presets;
import org.nestlm.train.Batching;
import org.nestlm.train.Cadence;
import org.nestlm.train.PretrainConfig;
import org.nestlm.train.Pretraining;
import org.nestlm.train.RunDirectory;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code nestlm pretrain}: the flags of the pretraining stage ({@link Pretraining}) as a {@link PretrainConfig}, a
 * model source, a corpus and a tokenizer; {@code --resume} needs only {@code --out}, and flags given again must agree
 * with the run's saved settings.
 */
@Command(name = "pretrain", mixinStandardHelpOptions = true, sortOptions = false,
        defaultValueProvider = PretrainCommand.Defaults.class,
        description = {"Pretrain a Nemotron-H model from scratch: next-token cross-entropy, AdamW (decoupled weight decay, "
                + "global-norm clipping), warm-up + cosine learning rate, gradient accumulation, periodic validation "
                + "(loss, perplexity, bits per byte) on the corpus's validation split, resumable checkpoints.",
                "The output directory is a complete checkpoint (config.json, model.safetensors, tokenizer.json) with "
                        + "log.jsonl, loss.png and train_state/ (weights, AdamW moments, step, settings).",
                "With --preset, vocab_size is set from the tokenizer; with --config it must equal the tokenizer's."},
        footer = {"", "Examples:",
                "  nestlm data fetch && nestlm tokenizer train --vocab 4096 --corpus default --out tokenizer.json",
                "  nestlm pretrain --preset small --corpus default --tokenizer tokenizer.json --tokens 2000000 --out parent",
                "  nestlm pretrain --out parent --resume                 # continue a killed run with its saved settings",
                "  nestlm pretrain --config my.json --corpus texts/ --corpus more.jsonl --tokenizer tok.json \\",
                "      --tokens 50000000 --seq-len 512 --batch 16 --accumulation 4 --lr 1e-3 --out big"})
final class PretrainCommand implements Callable<Integer> {

    @ArgGroup(exclusive = true)
    Source source;

    static final class Source {
        @Option(names = "--preset", description = "Named size: tiny, mini, small (vocab_size follows the tokenizer).")
        String preset;
        @Option(names = "--config", description = "A Nemotron-H config.json (or a checkpoint directory holding one).")
        Path config;
    }

    @Option(names = "--corpus", description = "'default', 'brown', a text file, a directory (*.txt) or a JSONL file (field text); repeatable.")
    List<String> corpus;

    @Option(names = "--tokenizer", description = "tokenizer.json (or a directory holding one); default: ./tokenizer.json, "
            + "on --resume the copy in --out.")
    Path tokenizer;

    @Option(names = "--tokens", description = "Training tokens in total (steps = tokens / (seq-len x batch x accumulation)).")
    Long tokens;

    @Option(names = "--out", required = true, description = "Run directory (created; a checkpoint when done).")
    Path out;

    @Option(names = "--resume", description = "Continue the run in --out from its last checkpoint, with its saved settings.")
    boolean resume;

    @Option(names = "--seq-len", description = "Tokens per training sequence (default ${DEFAULT-VALUE}).")
    int seqLen;

    @Option(names = "--batch", description = "Sequences per micro-batch (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--accumulation", description = "Micro-batches per optimizer step (default ${DEFAULT-VALUE}).")
    int accumulation;

    @Option(names = "--lr", description = "Peak learning rate after warm-up (default ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--min-lr", description = "Learning rate at the end of the cosine decay (default: --lr / 10).")
    Double minLr;

    @Option(names = "--warmup", description = "Linear warm-up, optimizer steps (default ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--weight-decay", description = "AdamW decoupled weight decay, not on norms, biases, embeddings (default ${DEFAULT-VALUE}).")
    double weightDecay;

    @Option(names = "--clip", description = "Global gradient-norm clip, 0 = off (default ${DEFAULT-VALUE}).")
    double clip;

    @Option(names = "--eval-every", description = "Optimizer steps between validations (and at the end) (default ${DEFAULT-VALUE}).")
    int evalEvery;

    @Option(names = "--eval-batches", description = "Validation micro-batches, fixed windows from the start of the "
            + "validation split (default ${DEFAULT-VALUE}).")
    int evalBatches;

    @Option(names = "--checkpoint-every", description = "Optimizer steps between resumable checkpoints (and at the end) (default ${DEFAULT-VALUE}).")
    int checkpointEvery;

    @Option(names = "--seed", description = "Seed of initialisation and data order (default ${DEFAULT-VALUE}).")
    long seed;

    @picocli.CommandLine.Mixin
    TrainThreadsOption threads;

    @Option(names = "--dir", description = "Cache directory (fetched corpus, token caches).")
    Path dir;

    @Option(names = "--quiet", description = "No progress bars while encoding the corpus.")
    boolean quiet;

    /** Stops after this many optimizer steps, as if killed (tests of --resume); the last checkpoint stays. */
    @Option(names = "--stop-after", hidden = true)
    Integer stopAfter;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    /** The options' defaults: {@link PretrainConfig#defaults}. */
    static final class Defaults extends ConfigDefaults {
        Defaults() {
            super(values(PretrainConfig.defaults(Long.MAX_VALUE)));
        }

        static Map<String, Object> values(PretrainConfig d) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("--seq-len", d.batching().seqLen());
            m.put("--batch", d.batching().batchSize());
            m.put("--accumulation", d.batching().accumulation());
            m.put("--lr", d.schedule().peakLr());
            m.put("--warmup", d.schedule().warmupSteps());
            m.put("--weight-decay", d.optimizer().weightDecay());
            m.put("--clip", d.optimizer().clipNorm());
            m.put("--eval-every", d.cadence().evalEvery());
            m.put("--eval-batches", d.cadence().evalBatches());
            m.put("--checkpoint-every", d.cadence().checkpointEvery());
            m.put("--seed", d.seed());
            return m;
        }
    }

    /** Whether the option was on the command line (not its default). */
    private boolean given(String option) {
        return spec != null && spec.commandLine() != null && spec.commandLine().getParseResult() != null
                && spec.commandLine().getParseResult().hasMatchedOption(option);
    }

    @Override
    public Integer call() throws Exception {
        threads.apply();
        Communicator comm = World.communicator();
        if (!resume) {
            // flag errors before --out is created
            newConfig();
            requireCorpus();
        }
        Pretraining stage = new Pretraining(out, CacheDir.resolve(dir), comm, System.out).withProgress(!quiet)
                .withStopAfter(stopAfter != null ? stopAfter : 0);
        if (resume) {
            stage.resume(this::checkResumed);
        } else {
            stage.start(newConfig(), source.preset != null ? Pretraining.ModelSource.preset(source.preset)
                    : Pretraining.ModelSource.config(source.config), requireCorpus(),
                    tokenizer != null ? tokenizer : Path.of("tokenizer.json"));
        }
        return 0;
    }

    // ---- a new run --------------------------------------------------------------------------------------------

    private List<String> requireCorpus() {
        if (corpus == null || corpus.isEmpty()) {
            throw new UserException("--corpus is required: 'default', 'brown', files, directories or JSONL");
        }
        return corpus;
    }

    PretrainConfig newConfig() {
        if (source == null) {
            throw new UserException("--preset or --config is required (or --resume to continue a run)");
        }
        if (tokens == null) {
            throw new UserException("--tokens is required: the number of training tokens");
        }
        PretrainConfig d = PretrainConfig.defaults(tokens);
        // every option holds its value or the record's default; --min-lr follows a given --lr
        double min = minLr != null ? minLr : given("--lr") ? lr / 10 : d.schedule().minLr();
        return new PretrainConfig(tokens, new Batching(seqLen, batch, accumulation), new PretrainConfig.Schedule(lr, min, warmup),
                d.optimizer().withWeightDecay(weightDecay).withClipNorm(clip),
                new Cadence(positive(evalEvery, "--eval-every"), positive(evalBatches, "--eval-batches"),
                        positive(checkpointEvery, "--checkpoint-every")), seed);
    }

    // ---- --resume -----------------------------------------------------------------------------------------------

    /** Every flag given again must agree with the saved settings; --corpus stands in for a state that lacks it. */
    private Pretraining.Saved checkResumed(Pretraining.Saved saved) throws IOException {
        PretrainConfig s = saved.config();
        agree("--tokens", tokens, s.tokens());
        agree("--seq-len", seqLen, s.batching().seqLen());
        agree("--batch", batch, s.batching().batchSize());
        agree("--accumulation", accumulation, s.batching().accumulation());
        agree("--lr", lr, s.schedule().peakLr());
        agree("--min-lr", minLr, s.schedule().minLr());
        agree("--warmup", warmup, s.schedule().warmupSteps());
        agree("--weight-decay", weightDecay, s.optimizer().weightDecay());
        agree("--clip", clip, s.optimizer().clipNorm());
        agree("--eval-every", evalEvery, s.cadence().evalEvery());
        agree("--eval-batches", evalBatches, s.cadence().evalBatches());
        agree("--checkpoint-every", checkpointEvery, s.cadence().checkpointEvery());
        agree("--seed", seed, s.seed());
        if (saved.corpus() == null) {
            if (corpus == null) {
                throw new UserException(out + ": the saved state does not name the corpus; pass --corpus again");
            }
            saved = saved.withCorpus(corpus);
        } else if (corpus != null && !corpus.equals(saved.corpus())) {
            throw new UserException("--corpus " + String.join(" ", corpus) + " differs from the run's corpus "
                    + String.join(" ", saved.corpus()) + " (saved in " + RunDirectory.state(out).resolve("state.json") + ")");
        }
        if (tokenizer != null && !Hashing.sha256(Pretraining.tokenizerFile(tokenizer)).equals(saved.tokenizerSha256())) {
            throw new UserException("--tokenizer " + tokenizer + " differs from the run's tokenizer " + saved.tokenizer());
        }
        checkModelFlagsOnResume(saved.model(), saved.tokenizer());
        return saved;
    }

    private void checkModelFlagsOnResume(ModelConfig saved, Path tokFile) throws IOException {
        if (source == null) {
            return;
        }
        ModelConfig given;
        String flag;
        if (source.preset != null) {
            given = Presets.get(source.preset).resized().vocabSize(Pretraining.tokenizerVocab(tokFile)).build();
            flag = "--preset " + source.preset;
        } else {
            given = ConfigJson.read(Pretraining.ModelSource.config(source.config).configFile());
            flag = "--config " + source.config;
        }
        if (!given.hybridOverridePattern().equals(saved.hybridOverridePattern()) || !shapesEqual(given, saved)) {
            throw new UserException(flag + " differs from the run's model (" + RunDirectory.state(out).resolve(ConfigJson.FILE_NAME)
                    + "); omit it to continue the saved model");
        }
    }

    private static boolean shapesEqual(ModelConfig a, ModelConfig b) {
        var sa = Architecture.fromConfig(a).tensorShapes();
        var sb = Architecture.fromConfig(b).tensorShapes();
        if (!sa.keySet().equals(sb.keySet())) {
            return false;
        }
        for (var e : sa.entrySet()) {
            if (!java.util.Arrays.equals(e.getValue(), sb.get(e.getKey()))) {
                return false;
            }
        }
        return true;
    }

    /** A flag given again on --resume (not a default) must equal the saved value. */
    private void agree(String flag, Number value, Number saved) {
        if (value != null && (flag.equals("--tokens") || flag.equals("--min-lr") || given(flag))
                && value.doubleValue() != saved.doubleValue()) {
            throw new UserException(flag + " " + value + " differs from the run's " + saved + " (saved in "
                    + RunDirectory.state(out).resolve("state.json") + "); omit it to continue with the saved value");
        }
    }

    // ---- helpers --------------------------------------------------------------------------------------------------

    private static int positive(int v, String flag) {
        if (v < 1) {
            throw new UserException(flag + " must be at least 1, got " + v);
        }
        return v;
    }
}
