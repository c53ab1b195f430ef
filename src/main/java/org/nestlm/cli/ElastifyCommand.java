package org.nestlm.cli;

import org.nestlm.data.CacheDir;
import org.nestlm.dist.World;
import org.nestlm.elastic.ElastifyConfig;
import org.nestlm.elastic.ElastifyRun;
import org.nestlm.train.Batching;
import org.nestlm.train.Cadence;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code nestlm elastify}: the flags of the elastify stage ({@link ElastifyRun}) as an {@link ElastifyConfig}. */
@Command(name = "elastify", mixinStandardHelpOptions = true, defaultValueProvider = ElastifyCommand.Defaults.class,
        description = {"Train one elastic model for several parameter budgets at once: a frozen teacher, a student "
                + "initialised from the importance-permuted teacher, a learned router, forward-KL distillation.",
                "The output is an elastic checkpoint: permuted weights (Nemotron-H layout) + elastic.json "
                        + "(docs/ELASTIC_FORMAT.md); slice any budget out with 'nestlm slice'."},
        footer = {"", "Examples:",
                "  nestlm importance --model parent --corpus default --out parent/rankings.json",
                "  nestlm elastify --teacher parent --budgets 1.0,0.75,0.5 --corpus default --tokens 2000000 --out elastic"})
final class ElastifyCommand implements Callable<Integer> {

    @Option(names = "--teacher", required = true, description = "The parent checkpoint (frozen teacher; the student starts as its copy).")
    Path teacher;

    @Option(names = "--rankings", description = "Importance rankings (default: TEACHER/rankings.json, from 'nestlm importance').")
    Path rankings;

    @Option(names = "--budgets", required = true, split = ",", description = "Parameter budgets: fractions (1.0,0.75,0.5) or counts (3M).")
    List<String> budgets;

    @Option(names = "--corpus", required = true, description = "'default', 'brown', a file, a directory or a JSONL file; repeatable.")
    List<String> corpus;

    @Option(names = "--tokenizer", description = "tokenizer.json (default: the teacher's).")
    Path tokenizer;

    @Option(names = "--cache-dir", description = "Token cache directory (default: the nestlm cache).")
    Path cacheDir;

    @Option(names = "--tokens", required = true, description = "Student tokens over both stages.")
    long tokens;

    @Option(names = "--out", required = true, description = "Output directory: the elastic checkpoint and the run's state.")
    Path out;

    @Option(names = "--resume", description = "Continue a killed run in --out (same settings).")
    boolean resume;

    @Option(names = "--seq-len", description = "Stage-1 sequence length (default ${DEFAULT-VALUE}).")
    int seqLen;

    @Option(names = "--stage2-multiplier", description = "Stage-2 context = seq-len × this (default ${DEFAULT-VALUE}).")
    int stage2Multiplier;

    @Option(names = "--stage2-split", description = "Stage-2 micro-batches of batch / this windows, this many times as "
            + "many per step: the same tokens per step, less memory per pass (default ${DEFAULT-VALUE}; "
            + "= --stage2-multiplier: no pass longer than a stage-1 pass).")
    int stage2Split;

    @Option(names = "--stage1-fraction", description = "Share of tokens in stage 1 (default ${DEFAULT-VALUE}).")
    double stage1Fraction;

    @Option(names = "--batch", description = "Sequences per micro-batch; one budget per micro-batch (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--accumulation", description = "Micro-batches per step (default ${DEFAULT-VALUE}).")
    int accumulation;

    @Option(names = "--lr", description = "Student learning rate (default ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--router-lr", description = "Router learning rate (default ${DEFAULT-VALUE}).")
    double routerLr;

    @Option(names = "--warmup", description = "Linear warm-up steps of both learning rates (default ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--ce-weight", description = "Weight of an extra next-token CE term (default ${DEFAULT-VALUE}: KD only).")
    double ceWeight;

    @Option(names = "--interpolation-draws",
            description = "Share of micro-batches trained at a random budget between two adjacent trained ones, router "
                    + "input interpolated as at deployment (default ${DEFAULT-VALUE}).")
    double interpolationDraws;

    @Option(names = "--resolve-candidates",
            description = "Learned routing: each trained budget keeps the best, by distillation loss on fixed training windows, of the router's "
                    + "N most likely sub-models within the resolution tolerance of its target (default ${DEFAULT-VALUE}; 1: the most likely, "
                    + "as the paper).")
    int resolveCandidates;

    @Option(names = "--full-weight",
            description = "Beside every micro-batch drawn below 100 %%, also distill the full model on the same windows, "
                    + "its loss times this weight; with searched routing the full budget is then not drawn itself "
                    + "(default ${DEFAULT-VALUE}; 0: only on the full budget's own draws, as the paper; docs/METHOD.md §7.3).")
    double fullWeight;

    @Option(names = "--routing",
            description = "How each trained budget's sub-model is chosen: 'searched', the teacher's best cut by KL on fixed "
                    + "training windows, the same for every seed (docs/METHOD.md §6.6), or 'learned', the paper's router trained "
                    + "with the student (default ${DEFAULT-VALUE}).")
    String routing;

    @Option(names = "--hetero-mlp", description = "Let the router choose a width per MLP layer.")
    boolean heteroMlp;

    @Option(names = "--eval-every", description = "Steps between validations (default ${DEFAULT-VALUE}).")
    int evalEvery;

    @Option(names = "--checkpoint-every", description = "Steps between resumable checkpoints (default ${DEFAULT-VALUE}).")
    int checkpointEvery;

    @picocli.CommandLine.Mixin
    TrainThreadsOption threads;

    @Option(names = "--seed", description = "Seed of data order, budget draws and router noise (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--stop-after", hidden = true, description = "Stop after this many steps (testing resume).")
    Integer stopAfter;

    /** The options' defaults: {@link ElastifyConfig#defaults}. */
    static final class Defaults extends ConfigDefaults {
        Defaults() {
            super(values(ElastifyConfig.defaults(List.of("1.0"), 0)));
        }

        static Map<String, Object> values(ElastifyConfig d) {
            Map<String, Object> m = new java.util.LinkedHashMap<>();
            m.put("--seq-len", d.batching().seqLen());
            m.put("--stage2-multiplier", d.stages().stage2Multiplier());
            m.put("--stage2-split", d.stages().stage2Split());
            m.put("--stage1-fraction", d.stages().stage1Fraction());
            m.put("--batch", d.batching().batchSize());
            m.put("--accumulation", d.batching().accumulation());
            m.put("--lr", d.rates().modelLr());
            m.put("--router-lr", d.rates().routerLr());
            m.put("--warmup", d.rates().warmupSteps());
            m.put("--ce-weight", d.objective().ceWeight());
            m.put("--interpolation-draws", d.objective().interpolationDraws());
            m.put("--full-weight", d.objective().fullWeight());
            m.put("--resolve-candidates", d.resolving().candidates());
            m.put("--routing", d.routing().mode().name().toLowerCase(java.util.Locale.ROOT));
            m.put("--eval-every", d.cadence().evalEvery());
            m.put("--checkpoint-every", d.cadence().checkpointEvery());
            m.put("--seed", d.seed());
            return m;
        }
    }

    /** The run's settings: the options given, the record's defaults for the rest. */
    ElastifyConfig config() {
        ElastifyConfig d = ElastifyConfig.defaults(budgets, tokens);
        return d.withBatching(new Batching(seqLen, batch, accumulation))
                .withStages(new ElastifyConfig.Stages(stage1Fraction, stage2Multiplier, d.stages().stage2Probs(), stage2Split))
                .withRates(new ElastifyConfig.Rates(lr, routerLr, warmup))
                .withRouting(new ElastifyConfig.Routing(routingMode(), d.routing().width(), heteroMlp, d.routing().tauStart(),
                        d.routing().tauEnd(), d.routing().scaleStart(), d.routing().scaleEnd()))
                .withObjective(new ElastifyConfig.Objective(ceWeight, d.objective().budgetTolerance(), interpolationDraws, fullWeight))
                .withResolving(new ElastifyConfig.Resolving(d.resolving().tolerance(), resolveCandidates))
                .withCadence(new Cadence(evalEvery, d.cadence().evalBatches(), checkpointEvery))
                .withSeed(seed);
    }

    ElastifyConfig.Routing.Mode routingMode() {
        return switch (routing) {
            case "searched" -> ElastifyConfig.Routing.Mode.SEARCHED;
            case "learned" -> ElastifyConfig.Routing.Mode.LEARNED;
            default -> throw new UserException("--routing must be 'searched' or 'learned', got '" + routing + "'");
        };
    }

    @Override
    public Integer call() throws Exception {
        threads.apply();
        ElastifyConfig config = config();
        if (config.totalSteps() < 1) {
            throw new UserException("--tokens " + tokens + " is less than one optimizer step (" + config.stage1TokensPerStep() + " tokens)");
        }
        new ElastifyRun(teacher, config, World.communicator(), System.out).withRankings(rankings).withTokenizer(tokenizer)
                .withStopAfter(stopAfter != null ? stopAfter : 0)
                .run(corpus, CacheDir.resolve(cacheDir), out, resume);
        return 0;
    }
}
