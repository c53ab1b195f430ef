package org.nestlm.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.nestlm.data.CacheDir;
import org.nestlm.data.Corpora;
import org.nestlm.data.Corpus;
import org.nestlm.data.Hashing;
import org.nestlm.data.Split;
import org.nestlm.tokenizer.TokenCache;
import org.nestlm.tokenizer.TokenIds;
import org.nestlm.dist.Communicator;
import org.nestlm.dist.World;
import org.nestlm.io.AtomicFiles;
import org.nestlm.model.Checkpoint;
import org.nestlm.model.Architecture;
import org.nestlm.model.ConfigJson;
import org.nestlm.model.ModelConfig;
import org.nestlm.model.Presets;
import org.nestlm.tokenizer.TextTokenizer;
import org.nestlm.train.Batching;
import org.nestlm.train.Cadence;
import org.nestlm.train.PretrainConfig;
import org.nestlm.train.Pretrainer;
import org.nestlm.train.RunDirectory;
import org.nestlm.train.TokenSource;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code nestlm pretrain}: trains a parent model from scratch on a corpus ({@link Pretrainer}). The corpus is read
 * through the token cache (train split for training, validation split for validation), the tokenizer is copied
 * into the output directory, and the settings of the run (training hyperparameters, corpus, model source) are saved
 * in {@code train_state/state.json} so that {@code --resume} needs only {@code --out}.
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
        @Option(names = "--preset", description = "Named size: tiny, small (vocab_size follows the tokenizer).")
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

    /** This process's rank of the MPI job, or a single process. */
    private Communicator comm;

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
        comm = World.communicator();
        comm.waitForRoot();   // rank 0 first holds --out, copies the tokenizer, builds the token caches
        if (resume && !Files.isDirectory(out)) {
            throw new UserException(out + ": nothing to resume (no such directory)");
        }
        if (!resume) {
            // flag errors before --out is created
            newConfig();
            requireCorpus();
            tokenizerFile(tokenizer != null ? tokenizer : Path.of("tokenizer.json"));
        }
        // --out is this process's (rank 0's in an MPI job) from here on: a second pretrain on it fails at once
        try (RunDirectory owned = comm.isRoot() ? RunDirectory.open(out) : null) {
            return train();
        }
    }

    private Integer train() throws Exception {
        Path cache = CacheDir.resolve(dir);
        ObjectNode saved = resume ? savedState() : null;
        PretrainConfig config = resume ? resumedConfig(saved) : newConfig();
        ObjectNode run = resume ? (ObjectNode) saved.get("run") : null;
        List<String> corpusSpecs = resume ? resumedCorpus(run) : requireCorpus();
        Path tokFile = resume ? resumedTokenizer(run) : tokenizerFile(tokenizer != null ? tokenizer : Path.of("tokenizer.json"));

        ModelConfig model;
        if (resume) {
            model = ConfigJson.read(RunDirectory.state(out).resolve(ConfigJson.FILE_NAME));
            checkModelFlagsOnResume(model, tokFile);
        } else {
            if (RunDirectory.hasState(out)) {
                throw new UserException(out + " holds a training run already; pass --resume to continue it or choose another --out");
            }
            model = modelConfig(tokFile);
        }

        Corpus c = Corpora.open(corpusSpecs, cache);
        if (!resume && comm.isRoot()) {
            copyTokenizer(tokFile, out);
        }
        try (TextTokenizer tok = TextTokenizer.load(tokFile);
             TokenIds trainIds = TokenCache.ids(cache, c, Split.TRAIN, tok, !quiet);
             TokenIds valIds = TokenCache.ids(cache, c, Split.VALIDATION, tok, !quiet)) {
            comm.releaseOthers();
            TokenSource train = TokenSource.of(trainIds);
            TokenSource validation = TokenSource.of(valIds);
            checkIds(trainIds, model.vocabSize(), "train");
            checkIds(valIds, model.vocabSize(), "validation");
            Architecture arch = Architecture.fromConfig(model);
            Batching b = config.batching();
            System.out.printf(Locale.ROOT, "model     %s parameters, layers %s, hidden %d, vocab %d%n",
                    CliSupport.count(arch.parameterCount()), model.hybridOverridePattern(), model.hiddenSize(), model.vocabSize());
            System.out.printf(Locale.ROOT, "data      %s: train %,d tokens, validation %,d tokens (%.2f bytes/token); "
                            + "unigram entropy of the train tokens %.3f nats/token%n", c.description(), train.size(),
                    validation.size(), validation.bytesPerToken(), train.unigramEntropy());
            System.out.printf(Locale.ROOT, "schedule  %,d tokens = %d steps of %d x %d x %d tokens, lr %.2e -> %.2e, warm-up %d, "
                            + "validation every %d steps on %,d tokens, checkpoint every %d%n", config.tokens(),
                    config.totalSteps(), b.seqLen(), b.batchSize(), b.accumulation(), config.schedule().peakLr(),
                    config.schedule().minLr(), config.schedule().warmupSteps(), config.cadence().evalEvery(),
                    (long) Math.min((validation.size() - 1) / b.seqLen(), (long) config.cadence().evalBatches() * b.batchSize())
                            * b.seqLen(), config.cadence().checkpointEvery());
            if (comm.size() > 1) {
                System.out.printf(Locale.ROOT, "ranks     %d (MPI): each computes %d of the %d micro-batches of a step; gradients "
                        + "summed with MPI_Allreduce%n", comm.size(), b.accumulation() / Math.max(1, comm.size()),
                        b.accumulation());
            }
            if (config.tokens() > train.size()) {
                System.out.printf(Locale.ROOT, "note      --tokens is %.1f passes over the training split%n",
                        (double) config.tokens() / train.size());
            }
            long t0 = System.nanoTime();
            Pretrainer.Result r = new Pretrainer(out, config, train, validation, System.out)
                    .withRunInfo(comm.isRoot() ? runInfo(corpusSpecs, tokFile, saved) : null)   // rank 0 writes it
                    .withCommunicator(comm)
                    .run(model, resume, stopAfter != null ? stopAfter : 0);
            double secs = (System.nanoTime() - t0) / 1e9;
            if (r.steps() < config.totalSteps()) {
                System.out.printf(Locale.ROOT, "stopped at step %d of %d (%.1f s); continue with: nestlm pretrain --out %s --resume%n",
                        r.steps(), config.totalSteps(), secs, out);
            } else {
                System.out.printf(Locale.ROOT, "done: %d steps in %.1f s; train loss %.4f, validation loss %.4f (perplexity %.2f, "
                                + "%.4f bits/byte)%n", r.steps(), secs, r.trainLoss(), r.valLoss(), Math.exp(r.valLoss()),
                        r.valBitsPerByte());
                System.out.println("wrote " + out + ": config.json, model.safetensors, tokenizer.json, log.jsonl, loss.png, "
                        + RunDirectory.STATE_DIR + "/");
            }
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

    private ModelConfig modelConfig(Path tokFile) throws IOException {
        int tokVocab = tokenizerVocab(tokFile);
        if (source.preset != null) {
            ModelConfig p = Presets.get(source.preset);
            if (p.vocabSize() != tokVocab) {
                System.out.printf(Locale.ROOT, "note      preset %s: vocab_size %d -> %d, the vocabulary of %s%n", source.preset,
                        p.vocabSize(), tokVocab, tokFile);
                p = withVocab(p, tokVocab);
            }
            return p;
        }
        Path file = Files.isDirectory(source.config) ? source.config.resolve(ConfigJson.FILE_NAME) : source.config;
        ModelConfig c = ConfigJson.read(file);
        if (c.vocabSize() != tokVocab) {
            throw new UserException(file + ": vocab_size is " + c.vocabSize() + " but " + tokFile + " has " + tokVocab
                    + " tokens; set vocab_size to " + tokVocab + " or use another tokenizer");
        }
        return c;
    }

    static ModelConfig withVocab(ModelConfig c, int vocab) {
        return c.withSizes(vocab, c.hiddenSize(), c.hybridOverridePattern(), c.intermediateSize(), c.numAttentionHeads(),
                c.numKeyValueHeads(), c.headDim(), c.mambaNumHeads(), c.mambaHeadDim(), c.ssmStateSize(), c.nGroups(),
                c.convKernel(), c.chunkSize());
    }

    /** Vocabulary size of a tokenizer.json: one more than the largest id of its model vocabulary and added tokens. */
    static int tokenizerVocab(Path file) throws IOException {
        JsonNode root;
        try {
            root = ConfigJson.MAPPER.readTree(file.toFile());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IOException(file + ": not a valid tokenizer.json: " + e.getOriginalMessage(), e);
        }
        int max = -1;
        JsonNode vocab = root.path("model").path("vocab");
        if (vocab.isObject()) {
            for (JsonNode id : (Iterable<JsonNode>) vocab::elements) {
                max = Math.max(max, id.asInt());
            }
        } else if (vocab.isArray()) {                              // Unigram: [[piece, score], ...]
            max = vocab.size() - 1;
        }
        for (JsonNode t : root.path("added_tokens")) {
            max = Math.max(max, t.path("id").asInt(-1));
        }
        if (max < 0) {
            throw new IOException(file + ": no vocabulary (model.vocab) found");
        }
        return max + 1;
    }

    private static Path tokenizerFile(Path p) throws IOException {
        Path f = Files.isDirectory(p) ? p.resolve(Checkpoint.TOKENIZER_FILE) : p;
        if (!Files.isRegularFile(f)) {
            throw new UserException(f + ": no tokenizer; train one with 'nestlm tokenizer train --vocab 4096 --corpus "
                    + "default --out tokenizer.json' or pass --tokenizer FILE");
        }
        return f;
    }

    /** Copies the tokenizer into the run directory (atomically), so that the run directory is a complete checkpoint. */
    private static void copyTokenizer(Path tokFile, Path out) throws IOException {
        Path target = out.resolve(Checkpoint.TOKENIZER_FILE);
        if (Files.exists(target) && Files.isSameFile(tokFile, target)) {
            return;
        }
        if (tokFile.getFileName().toString().equals(Checkpoint.TOKENIZER_FILE)) {
            Checkpoint.copyTokenizer(tokFile.toAbsolutePath().getParent(), out);
        } else {
            AtomicFiles.writeBytes(target, Files.readAllBytes(tokFile));
        }
    }

    private ObjectNode runInfo(List<String> corpusSpecs, Path tokFile, ObjectNode saved) throws IOException {
        if (saved != null && saved.get("run") instanceof ObjectNode r) {
            return r;
        }
        ObjectNode r = ConfigJson.MAPPER.createObjectNode();
        ArrayNode cs = r.putArray("corpus");
        corpusSpecs.forEach(cs::add);
        r.put("tokenizer_sha256", Hashing.sha256(out.resolve(Checkpoint.TOKENIZER_FILE)));
        if (source.preset != null) {
            r.put("preset", source.preset);
        } else {
            r.put("config", source.config.toAbsolutePath().toString());
        }
        return r;
    }

    // ---- --resume -----------------------------------------------------------------------------------------------

    private ObjectNode savedState() throws IOException {
        Path state = RunDirectory.state(out).resolve("state.json");
        if (!Files.isRegularFile(state)) {
            throw new UserException(out + ": nothing to resume (no " + RunDirectory.STATE_DIR + "/state.json)");
        }
        return (ObjectNode) ConfigJson.MAPPER.readTree(state.toFile());
    }

    /** The saved settings; every flag given again must agree with them. */
    private PretrainConfig resumedConfig(ObjectNode saved) throws IOException {
        PretrainConfig s = ConfigJson.MAPPER.treeToValue(saved.get("config"), PretrainConfig.class);
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
        return s;
    }

    private List<String> resumedCorpus(ObjectNode run) {
        if (run == null || !run.path("corpus").isArray()) {
            if (corpus == null) {
                throw new UserException(out + ": the saved state does not name the corpus; pass --corpus again");
            }
            return corpus;
        }
        List<String> savedSpecs = new ArrayList<>();
        run.get("corpus").forEach(n -> savedSpecs.add(n.asText()));
        if (corpus != null && !corpus.equals(savedSpecs)) {
            throw new UserException("--corpus " + String.join(" ", corpus) + " differs from the run's corpus "
                    + String.join(" ", savedSpecs) + " (saved in " + RunDirectory.state(out).resolve("state.json") + ")");
        }
        return savedSpecs;
    }

    private Path resumedTokenizer(ObjectNode run) throws IOException {
        Path copy = out.resolve(Checkpoint.TOKENIZER_FILE);
        if (!Files.isRegularFile(copy)) {
            throw new UserException(copy + " is missing: the run directory lost its tokenizer");
        }
        String sha = Hashing.sha256(copy);
        if (run != null && run.hasNonNull("tokenizer_sha256") && !run.get("tokenizer_sha256").asText().equals(sha)) {
            throw new UserException(copy + " is not the tokenizer the run started with (sha256 differs)");
        }
        if (tokenizer != null && !Hashing.sha256(tokenizerFile(tokenizer)).equals(sha)) {
            throw new UserException("--tokenizer " + tokenizer + " differs from the run's tokenizer " + copy);
        }
        return copy;
    }

    private void checkModelFlagsOnResume(ModelConfig saved, Path tokFile) throws IOException {
        if (source == null) {
            return;
        }
        ModelConfig given;
        String flag;
        if (source.preset != null) {
            given = withVocab(Presets.get(source.preset), tokenizerVocab(tokFile));
            flag = "--preset " + source.preset;
        } else {
            Path file = Files.isDirectory(source.config) ? source.config.resolve(ConfigJson.FILE_NAME) : source.config;
            given = ConfigJson.read(file);
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

    private static void checkIds(TokenIds ids, int vocab, String split) {
        // the cache was written with this tokenizer, whose vocabulary equals the model's: a cheap guard all the same
        for (long i = 0, n = ids.size(); i < n; i += Math.max(1, n / 4096)) {
            int id = ids.get(i);
            if (id < 0 || id >= vocab) {
                throw new UserException(ids.file() + ": token id " + id + " in the " + split + " split is outside the "
                        + "model's vocabulary of " + vocab);
            }
        }
    }

    private static <T> T or(T v, T d) {
        return v != null ? v : d;
    }

    private static int positive(int v, String flag) {
        if (v < 1) {
            throw new UserException(flag + " must be at least 1, got " + v);
        }
        return v;
    }
}
