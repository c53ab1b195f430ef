package org.nestlm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.nestlm.cli.BadInputs.array;
import static org.nestlm.cli.BadInputs.checkpoint;
import static org.nestlm.cli.BadInputs.configField;
import static org.nestlm.cli.BadInputs.elastic;
import static org.nestlm.cli.BadInputs.elasticJson;
import static org.nestlm.cli.BadInputs.object;
import static org.nestlm.cli.BadInputs.tensor;
import static org.nestlm.cli.BadInputs.weights;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.nestlm.cli.BadInputs.Case;
import org.nestlm.cli.BadInputs.Layout;
import org.nestlm.cli.BadInputs.Raw;
import org.nestlm.cli.BadInputs.Scope;
import org.nestlm.sizes.ElasticJson;
import org.nestlm.io.DType;
import org.nestlm.model.ConfigJson;
import org.nestlm.slice.ElasticFixtures;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The bad-input corpus: broken checkpoints, configs, elastic checkpoints and budgets, each run through
 * {@code info}, {@code score}, {@code generate} and {@code slice} as a user runs them. Every one must end with exit
 * code 2 and one line {@code error: …} naming the file and the field or tensor, no stack trace and nothing on
 * stdout; the good inputs beside them must give exit 0 and strict, finite JSON.
 */
@Timeout(120)
class BadInputCorpusTest {

    /** Strict JSON: a bare NaN or Infinity is a parse error. */
    private static final ObjectMapper STRICT = new ObjectMapper();

    private static final String D0 = "backbone.layers.0.mixer.D";
    private static final String IN0 = "backbone.layers.0.mixer.in_proj.weight";
    private static final String EMB = "backbone.embeddings.weight";
    private static final String NORM_F = "backbone.norm_f.weight";

    @TempDir
    static Path dir;
    static Path good;
    private static final AtomicInteger COPIES = new AtomicInteger();

    @BeforeAll
    static void build() throws IOException {
        good = ElasticFixtures.write(dir.resolve("good"), DType.BF16, 19);
    }

    static List<Case> cases() {
        List<Case> c = new ArrayList<>();
        String cfg = ConfigJson.FILE_NAME, st = "model.safetensors", ej = ElasticJson.FILE_NAME;
        // config.json: integers that wrap modulo 2^32, out of range, of the wrong type, derived sizes that overflow
        c.add(checkpoint("hidden_size 2^32+64", configField("hidden_size", "4294967360"), cfg, "hidden_size", "4294967360"));
        c.add(checkpoint("num_hidden_layers 2^32+7", configField("num_hidden_layers", "4294967303"), cfg, "num_hidden_layers"));
        c.add(checkpoint("num_attention_heads 2^32+4", configField("num_attention_heads", "4294967300"), cfg,
                "num_attention_heads"));
        c.add(checkpoint("vocab_size 2^31", configField("vocab_size", "2147483648"), cfg, "vocab_size", "2147483648"));
        c.add(checkpoint("vocab_size 2^32+64 as a float", configField("vocab_size", "4.294967360E9"), cfg, "vocab_size"));
        c.add(checkpoint("ssm_state_size 1e9", configField("ssm_state_size", "1e9"), cfg, "ssm_state_size"));
        c.add(checkpoint("mamba_head_dim 2^30", configField("mamba_head_dim", "1073741824"), cfg, "mamba_head_dim"));
        c.add(checkpoint("max_position_embeddings 0", configField("max_position_embeddings", "0"), cfg,
                "max_position_embeddings"));
        c.add(checkpoint("max_position_embeddings -5", configField("max_position_embeddings", "-5"), cfg,
                "max_position_embeddings"));
        c.add(checkpoint("hidden_size a string", configField("hidden_size", "\"forty\""), cfg, "hidden_size"));
        c.add(checkpoint("hidden_size 40.5", configField("hidden_size", "40.5"), cfg, "hidden_size"));
        c.add(checkpoint("n_groups 0", configField("n_groups", "0"), cfg, "n_groups"));
        c.add(checkpoint("layer_norm_epsilon NaN", configField("layer_norm_epsilon", "NaN"), cfg, "layer_norm_epsilon"));
        c.add(checkpoint("layer_norm_epsilon Infinity", configField("layer_norm_epsilon", "Infinity"), cfg,
                "layer_norm_epsilon"));
        c.add(checkpoint("unknown layer type", configField("hybrid_override_pattern", "\"M*-X-*M\""), cfg,
                "hybrid_override_pattern"));
        c.add(checkpoint("use_bias a string", configField("use_bias", "\"yes\""), cfg, "use_bias"));
        c.add(checkpoint("config.json not JSON", d -> Files.writeString(d.resolve(cfg), "{\"vocab_size\": 64,"), cfg,
                "JSON"));
        c.add(checkpoint("config.json an array", d -> Files.writeString(d.resolve(cfg), "[1, 2]"), cfg, "object"));
        c.add(checkpoint("config.json missing", d -> Files.delete(d.resolve(cfg)), cfg));
        c.add(checkpoint("config.json a directory", d -> {
            Files.delete(d.resolve(cfg));
            Files.createDirectory(d.resolve(cfg));
        }, cfg, "not a regular file"));
        c.add(checkpoint("config.json a FIFO", d -> fifoOrSkip(d.resolve(cfg)), cfg, "not a regular file"));
        // config against weights
        c.add(checkpoint("5-layer config over 7-layer weights", d -> {
            configField("hybrid_override_pattern", "\"M*-M-\"").apply(d);
            configField("num_hidden_layers", "5").apply(d);
        }, "does not use", "backbone.layers.5.", "model.safetensors", "config.json"));
        c.add(checkpoint("an extra tensor", weights(l -> {
            l.add(new Raw("backbone.extra.weight", "BF16", new long[] {4}, new byte[8]));
            return l;
        }), st, "backbone.extra.weight", "does not use"));
        c.add(checkpoint("a missing tensor", weights(tensor(NORM_F, r -> null)), NORM_F, "missing"));
        c.add(checkpoint("a misshapen tensor", weights(tensor(D0, r -> new Raw(r.name(), r.dtype(), new long[] {5},
                java.util.Arrays.copyOf(r.bytes(), 10)))), D0, "shape"));
        c.add(checkpoint("one weight under two prefixes", weights(l -> {
            l.add(new Raw("model.norm_f.weight", "BF16", new long[] {40}, new byte[80]));
            return l;
        }), "norm_f.weight", "two prefixes"));
        // dtypes and values
        c.add(checkpoint("mixer.D as I32", weights(tensor(D0, BadInputs.recode("I32"))), st, D0, "I32"));
        c.add(checkpoint("mixer.D as F64", weights(tensor(D0, BadInputs.recode("F64"))), st, D0, "F64"));
        c.add(checkpoint("embeddings as U8", weights(tensor(EMB, r -> r.withBytes("U8",
                java.util.Arrays.copyOf(r.bytes(), r.bytes().length / 2)))), st, EMB, "U8"));
        c.add(checkpoint("an FP8 dtype", weights(tensor(D0, r -> r.withBytes("F8_E4M3",
                java.util.Arrays.copyOf(r.bytes(), 6)))), st, D0, "F8_E4M3"));
        c.add(checkpoint("NaN in in_proj", weights(tensor(IN0, BadInputs.bf16At(5, 0x7FC0))), st, IN0, "NaN", "element 5"));
        c.add(checkpoint("+Inf in the embeddings", weights(tensor(EMB, BadInputs.bf16At(3, 0x7F80))), st, EMB, "Infinity"));
        c.add(checkpoint("-Inf in norm_f", weights(tensor(NORM_F, BadInputs.bf16At(39, 0xFF80))), st, NORM_F,
                "-Infinity", "element 39"));
        // safetensors layout and framing
        c.add(checkpoint("a 64-byte hole", weights(Layout.HOLE_BEFORE_LAST, l -> l), st, "hole of 64 bytes"));
        c.add(checkpoint("overlapping tensors", weights(Layout.LAST_OVERLAPS, l -> l), st, "overlap"));
        c.add(checkpoint("bytes after the last tensor", weights(Layout.TRAILING_BYTES, l -> l), st, "after the last tensor"));
        c.add(checkpoint("truncated weights", d -> {
            Path f = d.resolve(st);
            byte[] b = Files.readAllBytes(f);
            Files.write(f, java.util.Arrays.copyOf(b, b.length - 100));
        }, st, "truncated"));
        c.add(checkpoint("empty weights file", d -> Files.write(d.resolve(st), new byte[0]), st, "truncated"));
        c.add(checkpoint("header length 2^63", d -> {
            Path f = d.resolve(st);
            byte[] b = Files.readAllBytes(f);
            b[7] = (byte) 0x80;
            Files.write(f, b);
        }, st, "header length"));
        c.add(checkpoint("header not JSON", d -> {
            Path f = d.resolve(st);
            byte[] b = Files.readAllBytes(f);
            b[8] = '[';
            Files.write(f, b);
        }, st, "JSON"));
        c.add(checkpoint("model.safetensors a directory", d -> {
            Files.delete(d.resolve(st));
            Files.createDirectory(d.resolve(st));
        }, st, "is a directory"));
        c.add(checkpoint("model.safetensors a FIFO", d -> fifoOrSkip(d.resolve(st)), st, "FIFO"));
        // router.safetensors is then the only safetensors file: read as the weights, it lacks every one of them
        c.add(checkpoint("no weights at all", d -> Files.delete(d.resolve(st)), "missing tensor", EMB));
        // sharded weights: the index must name shards in its directory that hold what it lists
        c.add(checkpoint("index names a missing shard", d -> shardedWithIndex(d, "model-00002-of-00002.safetensors"),
                "model.safetensors.index.json", "model-00002-of-00002.safetensors", "does not exist"));
        c.add(checkpoint("index names a shard outside its directory", d -> shardedWithIndex(d, "../good/model.safetensors"),
                "model.safetensors.index.json", "not a file in the index's directory"));
        c.add(checkpoint("index not JSON", d -> {
            shardedWithIndex(d, "model-00001-of-00001.safetensors");
            Files.writeString(d.resolve("model.safetensors.index.json"), "{\"weight_map\": ");
        }, "model.safetensors.index.json", "not valid JSON"));
        // elastic.json: every field validated against the model
        c.add(elastic("router fraction 1.5", elasticJson(o -> {
            array(o, "router", "fractions").set(0, 1.5);
        }), ej, "router.fractions[0]", "1.5"));
        c.add(elastic("router fraction -0.5", elasticJson(o -> {
            array(o, "router", "fractions").set(1, -0.5);
        }), ej, "router.fractions[1]", "-0.5"));
        c.add(elastic("router fractions not the budgets'", elasticJson(o -> {
            array(o, "router", "fractions").set(1, 0.6);
        }), ej, "router.fractions[1]", "50%"));
        c.add(elastic("router fractions smallest first", elasticJson(o -> {
            ArrayNode f = array(o, "router", "fractions");
            f.set(0, 0.5);
            f.set(1, 0.75);
        }), ej, "largest first"));
        c.add(elastic("router fractions NaN", elasticJson(o -> {
            array(o, "router", "fractions").set(0, Double.NaN);
        }), ej, "router.fractions[0]"));
        c.add(elastic("one router fraction for two budgets", elasticJson(o -> {
            array(o, "router", "fractions").remove(1);
        }), ej, "router.fractions"));
        c.add(elastic("router budget named abc", elasticJson(o -> {
            array(o, "router", "budgets").set(0, "abc");
        }), ej, "router.budgets[0]", "abc"));
        c.add(elastic("budget named abc", elasticJson(o -> {
            ((com.fasterxml.jackson.databind.node.ObjectNode) array(o, "budgets").get(0)).put("budget", "abc");
        }), ej, "budgets[0]", "abc"));
        c.add(elastic("negative budget target", elasticJson(o -> {
            ((com.fasterxml.jackson.databind.node.ObjectNode) array(o, "budgets").get(1)).put("target", -5);
        }), ej, "budgets[1]", "target -5"));
        c.add(elastic("budgets empty", elasticJson(o -> {
            o.putArray("budgets");
        }), ej, "budgets is empty"));
        c.add(elastic("removal order holds 99", elasticJson(o -> {
            array(o, "space", "removal_order").set(0, 99);
        }), ej, "space.removal_order", "99"));
        c.add(elastic("removal order holds -1", elasticJson(o -> {
            array(o, "space", "removal_order").set(1, -1);
        }), ej, "space.removal_order", "-1"));
        c.add(elastic("removal order repeats a layer", elasticJson(o -> {
            array(o, "space", "removal_order").set(1, 3);
        }), ej, "space.removal_order", "twice"));
        c.add(elastic("depth removals beyond the order", elasticJson(o -> {
            array(o, "space", "depth_removals").set(1, 5);
        }), ej, "space.depth_removals", "5"));
        c.add(elastic("hidden candidate wider than the model", elasticJson(o -> {
            array(o, "space", "hidden").set(1, 4000);
        }), ej, "space.hidden", "4000"));
        c.add(elastic("MLP fraction 1.5", elasticJson(o -> {
            array(o, "space", "mlp_fractions").set(1, 1.5);
        }), ej, "space.mlp_fractions", "1.5"));
        c.add(elastic("Mamba heads a string", elasticJson(o -> {
            array(o, "space", "mamba_heads_per_group").set(1, "two");
        }), ej, "space.mamba_heads_per_group[1]"));
        c.add(elastic("router width 0", elasticJson(o -> {
            object(o, "router").put("width", 0);
        }), ej, "router.width"));
        c.add(elastic("full_parameters wrong", elasticJson(o -> {
            o.put("full_parameters", 12);
        }), ej, "full_parameters"));
        c.add(elastic("sub-model hidden size 0", elasticJson(o -> {
            ((com.fasterxml.jackson.databind.node.ObjectNode) array(o, "budgets").get(0).get("subnet")).put("hidden_size", 0);
        }), ej, "budgets[0]", "hidden size 0"));
        c.add(elastic("sub-model layer kept = \"yes\"", elasticJson(o -> {
            ((com.fasterxml.jackson.databind.node.ObjectNode) array(o, "budgets").get(0).get("subnet").get("layers").get(0))
                    .put("kept", "yes");
        }), ej, "budgets[0]", "kept"));
        c.add(elastic("version a string", elasticJson(o -> {
            o.put("version", "1");
        }), ej, "version"));
        c.add(elastic("elastic.json not JSON", d -> Files.writeString(d.resolve(ej), "{\"format\": "), ej, "JSON"));
        c.add(elastic("router weights all NaN", d -> {
            Path f = d.resolve(ElasticJson.ROUTER_FILE);
            List<Raw> t = new ArrayList<>();
            for (Raw r : BadInputs.read(f)) {
                t.add(r.withBytes(r.dtype(), BadInputs.allNaN32(r.bytes().length)));
            }
            BadInputs.write(f, t, Layout.CONTIGUOUS);
        }, ElasticJson.ROUTER_FILE, "NaN"));
        c.add(elastic("router weights missing", d -> Files.delete(d.resolve(ElasticJson.ROUTER_FILE)), ej,
                ElasticJson.ROUTER_FILE));
        c.add(new Case("misshapen router tensor", Scope.INTERPOLATED, d -> {
            Path f = d.resolve(ElasticJson.ROUTER_FILE);
            List<Raw> t = new ArrayList<>(BadInputs.read(f));
            Raw r = t.getFirst();
            long n = r.shape()[0];
            t.set(0, new Raw(r.name(), r.dtype(), new long[] {n - 1}, java.util.Arrays.copyOf(r.bytes(), (int) (n - 1) * 4)));
            BadInputs.write(f, t, Layout.CONTIGUOUS);
        }, List.of(ElasticJson.ROUTER_FILE, "misshapen")));
        return c;
    }

    /** Moves the weights to a shard with an index whose weight_map sends {@link #NORM_F} to {@code normShard}. */
    private static void shardedWithIndex(Path d, String normShard) throws IOException {
        String shard = "model-00001-of-00001.safetensors";
        Files.move(d.resolve("model.safetensors"), d.resolve(shard));
        com.fasterxml.jackson.databind.node.ObjectNode index = ConfigJson.MAPPER.createObjectNode();
        com.fasterxml.jackson.databind.node.ObjectNode map = index.putObject("weight_map");
        for (Raw r : BadInputs.read(d.resolve(shard))) {
            map.put(r.name(), r.name().equals(NORM_F) ? normShard : shard);
        }
        Files.writeString(d.resolve("model.safetensors.index.json"), ConfigJson.MAPPER.writeValueAsString(index));
    }

    private static void fifoOrSkip(Path file) throws IOException {
        Assumptions.assumeTrue(BadInputs.fifo(file), "mkfifo is not available");
    }

    /** The command lines that reach a fault of this scope. */
    private static List<String[]> commands(Scope scope, Path model, Path out) {
        String m = model.toString();
        String budget = switch (scope) {
            case CHECKPOINT -> null;
            case ELASTIC -> "50%";
            case INTERPOLATED -> "60%";
        };
        List<String[]> cmds = new ArrayList<>();
        if (scope != Scope.INTERPOLATED) {
            cmds.add(new String[] {"info", m});
        }
        cmds.add(withBudget(budget, "score", "--model", m, "--ids", "1,2,3", "--json"));
        cmds.add(withBudget(budget, "generate", "--model", m, "--ids", "1,2,3", "--max-tokens", "3", "--json", "--threads", "1"));
        cmds.add(new String[] {"slice", "--model", m, "--budget", budget == null ? "50%" : budget, "--out", out.toString()});
        return cmds;
    }

    private static String[] withBudget(String budget, String... args) {
        if (budget == null) {
            return args;
        }
        String[] a = java.util.Arrays.copyOf(args, args.length + 2);
        a[args.length] = "--budget";
        a[args.length + 1] = budget;
        return a;
    }

    private static Path copy() throws IOException {
        Path d = dir.resolve("case-" + COPIES.incrementAndGet());
        BadInputs.copyTree(good, d);
        return d;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void badInputGivesOneClearLineAndExitCode2(Case c) throws IOException {
        Path model = copy();
        c.breakIt().apply(model);
        Path out = model.resolveSibling(model.getFileName() + "-slice");
        for (String[] cmd : commands(c.scope(), model, out)) {
            assertCleanError(CliRun.run(cmd), String.join(" ", cmd), c.fragments());
            assertFalse(Files.exists(out), "a failed slice leaves no output: " + out);
        }
    }

    /** Exit 2, one line "error: …" naming every fragment, no stack trace, nothing on stdout. */
    static void assertCleanError(CliRun.Run r, String cmd, List<String> fragments) {
        String err = r.err().strip();
        String what = cmd + "\nstdout: " + r.out() + "\nstderr: " + r.err();
        assertEquals(2, r.code(), what);
        assertEquals(1, err.lines().count(), "one line: " + what);
        assertTrue(err.startsWith("error: "), what);
        assertFalse(err.contains("Exception") || err.contains("\tat "), "no stack trace: " + what);
        for (String f : fragments) {
            assertTrue(err.contains(f), "the error names '" + f + "': " + what);
        }
        assertEquals("", r.out(), "nothing on stdout: " + what);
    }

    @ParameterizedTest(name = "--budget {0}")
    @ValueSource(strings = {"1.5", "1d", "0x1p-1", "2f", "NaN", "Infinity", "1e400", "-0.5", "0", "0%", "150%", "abc", "",
            "3X", "1e-400"})
    void badBudgetsAreRefusedByEveryCommand(String budget) {
        Path out = dir.resolve("budget-slice");
        String m = good.toString();
        List<String[]> cmds = List.of(new String[] {"score", "--model", m, "--ids", "1,2,3", "--json", "--budget", budget},
                new String[] {"generate", "--model", m, "--ids", "1,2", "--max-tokens", "2", "--json", "--budget", budget},
                new String[] {"slice", "--model", m, "--budget", budget, "--out", out.toString()});
        for (String[] cmd : cmds) {
            assertCleanError(CliRun.run(cmd), String.join(" ", cmd), List.of("budget '" + budget + "'"));
            assertFalse(Files.exists(out));
        }
    }

    /** {@code slice --config FILE}: a hand-written sub-model is read as strictly as elastic.json's. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"not json", "[]", "{\"layers\": []}", "{\"hidden_size\": 24}",
            "{\"hidden_size\": 24, \"layers\": {}}", "{\"hidden_size\": \"24\", \"layers\": []}",
            "{\"hidden_size\": 24, \"layers\": [{\"type\": \"mamba\", \"kept\": 1, \"heads\": 2, \"head_dim\": 8}]}",
            "{\"hidden_size\": 24, \"layers\": [{\"type\": \"mamba\", \"kept\": true, \"heads\": 4294967298, \"head_dim\": 8}]}",
            "{\"hidden_size\": 24, \"layers\": [{\"type\": \"moe\", \"kept\": true}]}",
            "{\"subnet\": {\"hidden_size\": 999, \"layers\": []}}"})
    void badSubModelFilesAreRefusedNamingTheFile(String text) throws IOException {
        Path file = dir.resolve("sub-" + COPIES.incrementAndGet() + ".json");
        Files.writeString(file, text);
        Path out = dir.resolve("sub-slice");
        CliRun.Run r = CliRun.run("slice", "--model", good.toString(), "--config", file.toString(), "--out", out.toString());
        assertCleanError(r, "slice --config " + text, List.of(file.toString()));
        assertFalse(Files.exists(out));
    }

    @Test
    void aFractionAboveOneSaysWhatItWouldBe() {
        CliRun.Run r = CliRun.run("score", "--model", good.toString(), "--ids", "1,2,3", "--budget", "1.5");
        assertCleanError(r, "score --budget 1.5", List.of("budget '1.5'", "150%"));
    }

    @ParameterizedTest(name = "--threads {0}")
    @ValueSource(strings = {"-3", "-1"})
    void negativeThreadCountsAreRefused(String threads) {
        CliRun.Run r = CliRun.run("generate", "--model", good.toString(), "--ids", "1,2", "--max-tokens", "2",
                "--threads", threads);
        assertCleanError(r, "generate --threads " + threads, List.of("--threads", threads));
    }

    /** What a good checkpoint gives: exit 0 and strict JSON whose every number is finite. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"good", "good F32", "good F16", "extra unknown config keys", "sizes written as 40.0"})
    void acceptedInputsGiveFiniteValidOutput(String variant) throws IOException {
        Path model = switch (variant) {
            case "good" -> good;
            case "good F32" -> ElasticFixtures.write(dir.resolve("f32"), DType.F32, 19);
            case "good F16" -> ElasticFixtures.write(dir.resolve("f16"), DType.F16, 19);
            case "extra unknown config keys" -> {
                Path d = copy();
                configField("torch_dtype", "\"bfloat16\"").apply(d);
                configField("some_future_field", "[1, {\"a\": null}]").apply(d);
                yield d;
            }
            default -> {
                Path d = copy();
                configField("hidden_size", "40.0").apply(d);
                configField("vocab_size", "6.4e1").apply(d);
                yield d;
            }
        };
        String m = model.toString();
        for (String budget : new String[] {null, "50%", "0.75", "60%"}) {
            JsonNode s = finiteJson(CliRun.run(withBudget(budget, "score", "--model", m, "--ids", "1,2,3,4", "--json", "--logits")));
            for (JsonNode lp : s.get("logprobs")) {
                assertTrue(lp.asDouble() <= 0, "log-probabilities are at most 0: " + s);
            }
            JsonNode g = finiteJson(CliRun.run(withBudget(budget, "generate", "--model", m, "--ids", "1,2,3", "--max-tokens", "4",
                    "--ignore-eos", "--json", "--threads", "1")));
            assertEquals(4, g.get("ids").size());
        }
        finiteJson(CliRun.run("info", m, "--json"));
        Path out = model.resolveSibling(model.getFileName() + "-60");
        CliRun.Run sl = CliRun.run("slice", "--model", m, "--budget", "60%", "--out", out.toString());
        assertEquals(0, sl.code(), sl.err());
        finiteJson(CliRun.run("score", "--model", out.toString(), "--ids", "1,2,3,4", "--json"));
    }

    private static JsonNode finiteJson(CliRun.Run r) throws IOException {
        assertEquals(0, r.code(), r.err());
        JsonNode o = STRICT.readTree(r.out());
        assertFinite(o, r.out());
        return o;
    }

    private static void assertFinite(JsonNode n, String context) {
        if (n.isNumber()) {
            assertTrue(Double.isFinite(n.asDouble()), "finite: " + n);
        }
        for (JsonNode c : n) {
            assertFinite(c, context);
        }
    }
}
