package org.nestlm.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.nestlm.data.Corpora;
import org.nestlm.data.Corpus;
import org.nestlm.data.Hashing;
import org.nestlm.data.Split;
import org.nestlm.dist.Communicator;
import org.nestlm.io.AtomicFiles;
import org.nestlm.model.Architecture;
import org.nestlm.model.Checkpoint;
import org.nestlm.model.ConfigJson;
import org.nestlm.model.ModelConfig;
import org.nestlm.model.Presets;
import org.nestlm.tokenizer.TextTokenizer;
import org.nestlm.tokenizer.TokenCache;
import org.nestlm.tokenizer.TokenIds;
import org.nestlm.util.Units;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The pretraining stage around {@link Pretrainer}: a new run or a resumed one in a run directory. The corpus is read
 * through the token cache (train split for training, validation split for validation), the tokenizer is copied into
 * the run directory, and the run's settings (training hyperparameters, corpus, model source) are saved in
 * {@code train_state/state.json}, so that a resumed run needs only the directory.
 *
 * <p>Under MPI every rank calls the same method: rank 0 owns the run directory, builds the token caches and writes;
 * the others wait for it, then train their share of each step.
 */
public final class Pretraining {

    /** The model a new run trains: a named preset (its vocab_size follows the tokenizer) or a config.json. */
    public record ModelSource(String preset, Path config) {

        public ModelSource {
            if ((preset == null) == (config == null)) {
                throw new IllegalArgumentException("a model source is a preset or a config, not both or neither");
            }
        }

        public static ModelSource preset(String name) {
            return new ModelSource(name, null);
        }

        /** A config.json, or a checkpoint directory holding one. */
        public static ModelSource config(Path file) {
            return new ModelSource(null, file);
        }

        /** The config.json file of {@link #config}. */
        public Path configFile() {
            return Files.isDirectory(config) ? config.resolve(ConfigJson.FILE_NAME) : config;
        }
    }

    /**
     * What a run saved in {@code train_state/}: its settings, its corpus (null: a state written without it), its copy
     * of the tokenizer with that file's SHA-256, its model, and the whole {@code state.json}.
     */
    public record Saved(PretrainConfig config, List<String> corpus, Path tokenizer, String tokenizerSha256, ModelConfig model,
                        ObjectNode state) {

        public Saved withCorpus(List<String> specs) {
            return new Saved(config, specs, tokenizer, tokenizerSha256, model, state);
        }
    }

    /** Checks settings given again on resume against the saved ones; may complete what the state lacks (its corpus). */
    public interface ResumeCheck {
        ResumeCheck NONE = s -> s;

        Saved check(Saved saved) throws IOException;
    }

    private final Path out;
    private final Path cache;
    private final Communicator comm;
    private final PrintStream console;
    private boolean progress = true;
    private int stopAfter;

    /**
     * @param out   the run directory (created; a checkpoint when done)
     * @param cache the cache directory (fetched corpus, token caches), already resolved
     */
    public Pretraining(Path out, Path cache, Communicator comm, PrintStream console) {
        this.out = out;
        this.cache = cache;
        this.comm = comm;
        this.console = console;
    }

    /** Progress bars while encoding the corpus (default on). */
    public Pretraining withProgress(boolean on) {
        this.progress = on;
        return this;
    }

    /** Stops after this many optimizer steps, as if killed (tests of resuming); the last checkpoint stays. 0: never. */
    public Pretraining withStopAfter(int steps) {
        this.stopAfter = steps;
        return this;
    }

    /** A new run of {@code config} on {@code corpus} (corpus specs as {@link Corpora#open} reads them). */
    public Pretrainer.Result start(PretrainConfig config, ModelSource source, List<String> corpus, Path tokenizer) throws IOException {
        comm.waitForRoot();   // rank 0 first holds the run directory, copies the tokenizer, builds the token caches
        Path tokFile = tokenizerFile(tokenizer);
        // the run directory is this process's (rank 0's in an MPI job) from here on: a second run on it fails at once
        try (RunDirectory owned = comm.isRoot() ? RunDirectory.open(out) : null) {
            if (RunDirectory.hasState(out)) {
                throw new IllegalArgumentException(out + " holds a training run already; pass --resume to continue it or "
                        + "choose another --out");
            }
            ModelConfig model = modelConfig(source, tokFile);
            Corpus c = Corpora.open(corpus, cache);
            if (comm.isRoot()) {
                copyTokenizer(tokFile, out);
            }
            return train(config, model, c, tokFile, comm.isRoot() ? runInfo(corpus, source) : null, false);
        }
    }

    /** Continues the run in the run directory from its last checkpoint, with its saved settings. */
    public Pretrainer.Result resume(ResumeCheck check) throws IOException {
        comm.waitForRoot();
        if (!Files.isDirectory(out)) {
            throw new IllegalArgumentException(out + ": nothing to resume (no such directory)");
        }
        try (RunDirectory owned = comm.isRoot() ? RunDirectory.open(out) : null) {
            Saved saved = check.check(saved(out));
            if (saved.corpus() == null) {
                throw new IllegalArgumentException(out + ": the saved state does not name the corpus; pass --corpus again");
            }
            Corpus c = Corpora.open(saved.corpus(), cache);
            ObjectNode info = saved.state().get("run") instanceof ObjectNode r ? r : null;
            return train(saved.config(), saved.model(), c, saved.tokenizer(), comm.isRoot() ? info : null, true);
        }
    }

    private Pretrainer.Result train(PretrainConfig config, ModelConfig model, Corpus c, Path tokFile, ObjectNode runInfo,
                                    boolean resume) throws IOException {
        try (TextTokenizer tok = TextTokenizer.load(tokFile);
             TokenIds trainIds = TokenCache.ids(cache, c, Split.TRAIN, tok, progress);
             TokenIds valIds = TokenCache.ids(cache, c, Split.VALIDATION, tok, progress)) {
            comm.releaseOthers();
            TokenSource train = TokenSource.of(trainIds);
            TokenSource validation = TokenSource.of(valIds);
            checkIds(trainIds, model.vocabSize(), "train");
            checkIds(valIds, model.vocabSize(), "validation");
            Architecture arch = Architecture.fromConfig(model);
            Batching b = config.batching();
            console.printf(Locale.ROOT, "model     %s parameters, layers %s, hidden %d, vocab %d%n",
                    Units.count(arch.parameterCount()), model.hybridOverridePattern(), model.hiddenSize(), model.vocabSize());
            console.printf(Locale.ROOT, "data      %s: train %,d tokens, validation %,d tokens (%.2f bytes/token); "
                            + "unigram entropy of the train tokens %.3f nats/token%n", c.description(), train.size(),
                    validation.size(), validation.bytesPerToken(), train.unigramEntropy());
            console.printf(Locale.ROOT, "schedule  %,d tokens = %d steps of %d x %d x %d tokens, lr %.2e -> %.2e, warm-up %d, "
                            + "validation every %d steps on %,d tokens, checkpoint every %d%n", config.tokens(),
                    config.totalSteps(), b.seqLen(), b.batchSize(), b.accumulation(), config.schedule().peakLr(),
                    config.schedule().minLr(), config.schedule().warmupSteps(), config.cadence().evalEvery(),
                    (long) Math.min((validation.size() - 1) / b.seqLen(), (long) config.cadence().evalBatches() * b.batchSize())
                            * b.seqLen(), config.cadence().checkpointEvery());
            if (comm.size() > 1) {
                console.printf(Locale.ROOT, "ranks     %d (MPI): each computes %d of the %d micro-batches of a step; gradients "
                        + "summed with MPI_Allreduce%n", comm.size(), b.accumulation() / Math.max(1, comm.size()),
                        b.accumulation());
            }
            if (config.tokens() > train.size()) {
                console.printf(Locale.ROOT, "note      --tokens is %.1f passes over the training split%n",
                        (double) config.tokens() / train.size());
            }
            long t0 = System.nanoTime();
            Pretrainer.Result r = new Pretrainer(out, config, train, validation, console)
                    .withRunInfo(runInfo)   // rank 0 writes it
                    .withCommunicator(comm)
                    .run(model, resume, stopAfter);
            double secs = (System.nanoTime() - t0) / 1e9;
            if (r.steps() < config.totalSteps()) {
                console.printf(Locale.ROOT, "stopped at step %d of %d (%.1f s); continue with: nestlm pretrain --out %s --resume%n",
                        r.steps(), config.totalSteps(), secs, out);
            } else {
                console.printf(Locale.ROOT, "done: %d steps in %.1f s; train loss %.4f, validation loss %.4f (perplexity %.2f, "
                                + "%.4f bits/byte)%n", r.steps(), secs, r.trainLoss(), r.valLoss(), Math.exp(r.valLoss()),
                        r.valBitsPerByte());
                console.println("wrote " + out + ": config.json, model.safetensors, tokenizer.json, log.jsonl, loss.png, "
                        + RunDirectory.STATE_DIR + "/");
            }
            return r;
        }
    }

    // ---- a new run --------------------------------------------------------------------------------------------

    /** The model of a new run: a preset takes the tokenizer's vocabulary; a config.json must already have it. */
    private ModelConfig modelConfig(ModelSource source, Path tokFile) throws IOException {
        int tokVocab = tokenizerVocab(tokFile);
        if (source.preset() != null) {
            ModelConfig p = Presets.get(source.preset());
            if (p.vocabSize() != tokVocab) {
                console.printf(Locale.ROOT, "note      preset %s: vocab_size %d -> %d, the vocabulary of %s%n", source.preset(),
                        p.vocabSize(), tokVocab, tokFile);
                p = p.resized().vocabSize(tokVocab).build();
            }
            return p;
        }
        Path file = source.configFile();
        ModelConfig c = ConfigJson.read(file);
        if (c.vocabSize() != tokVocab) {
            throw new IllegalArgumentException(file + ": vocab_size is " + c.vocabSize() + " but " + tokFile + " has " + tokVocab
                    + " tokens; set vocab_size to " + tokVocab + " or use another tokenizer");
        }
        return c;
    }

    /** Vocabulary size of a tokenizer.json: one more than the largest id of its model vocabulary and added tokens. */
    public static int tokenizerVocab(Path file) throws IOException {
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

    /** The tokenizer.json named by {@code p} (a file, or a directory holding one); it must exist. */
    public static Path tokenizerFile(Path p) {
        Path f = Files.isDirectory(p) ? p.resolve(Checkpoint.TOKENIZER_FILE) : p;
        if (!Files.isRegularFile(f)) {
            throw new IllegalArgumentException(f + ": no tokenizer; train one with 'nestlm tokenizer train --vocab 4096 --corpus "
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

    /** The facts saved under {@code "run"}: corpus, the copied tokenizer's SHA-256, model source. */
    private ObjectNode runInfo(List<String> corpusSpecs, ModelSource source) throws IOException {
        ObjectNode r = ConfigJson.MAPPER.createObjectNode();
        ArrayNode cs = r.putArray("corpus");
        corpusSpecs.forEach(cs::add);
        r.put("tokenizer_sha256", Hashing.sha256(out.resolve(Checkpoint.TOKENIZER_FILE)));
        if (source.preset() != null) {
            r.put("preset", source.preset());
        } else {
            r.put("config", source.config().toAbsolutePath().toString());
        }
        return r;
    }

    // ---- resuming -----------------------------------------------------------------------------------------------

    /** The settings saved in {@code out}'s {@code train_state/}; the tokenizer copy must be the one the run started with. */
    public static Saved saved(Path out) throws IOException {
        Path statePath = RunDirectory.state(out).resolve("state.json");
        if (!Files.isRegularFile(statePath)) {
            throw new IllegalArgumentException(out + ": nothing to resume (no " + RunDirectory.STATE_DIR + "/state.json)");
        }
        ObjectNode state = (ObjectNode) ConfigJson.MAPPER.readTree(statePath.toFile());
        PretrainConfig config = ConfigJson.MAPPER.treeToValue(state.get("config"), PretrainConfig.class);
        ObjectNode run = state.get("run") instanceof ObjectNode r ? r : null;
        List<String> corpus = null;
        if (run != null && run.path("corpus").isArray()) {
            corpus = new ArrayList<>();
            for (JsonNode n : run.get("corpus")) {
                corpus.add(n.asText());
            }
        }
        Path copy = out.resolve(Checkpoint.TOKENIZER_FILE);
        if (!Files.isRegularFile(copy)) {
            throw new IllegalArgumentException(copy + " is missing: the run directory lost its tokenizer");
        }
        String sha = Hashing.sha256(copy);
        if (run != null && run.hasNonNull("tokenizer_sha256") && !run.get("tokenizer_sha256").asText().equals(sha)) {
            throw new IllegalArgumentException(copy + " is not the tokenizer the run started with (sha256 differs)");
        }
        ModelConfig model = ConfigJson.read(RunDirectory.state(out).resolve(ConfigJson.FILE_NAME));
        return new Saved(config, corpus, copy, sha, model, state);
    }

    // ---- helpers --------------------------------------------------------------------------------------------------

    private static void checkIds(TokenIds ids, int vocab, String split) {
        // the cache was written with this tokenizer, whose vocabulary equals the model's: a cheap guard all the same
        for (long i = 0, n = ids.size(); i < n; i += Math.max(1, n / 4096)) {
            int id = ids.get(i);
            if (id < 0 || id >= vocab) {
                throw new IllegalArgumentException(ids.file() + ": token id " + id + " in the " + split + " split is outside "
                        + "the model's vocabulary of " + vocab);
            }
        }
    }
}
