package org.nestlm.cli;

import static org.nestlm.cli.CliRun.run;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nestlm.sizes.ElasticJson;
import org.nestlm.io.DType;
import org.nestlm.model.ConfigJson;
import org.nestlm.slice.ElasticFixtures;
import org.nestlm.util.DjlRuntime;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code nestlm slice}, and {@code --budget} on score / generate / bench decode: the acceptance check
 * — {@code score} of the sliced checkpoint equals {@code score --budget} of the elastic one on the same ids.
 */
class SliceCommandTest {

    static {
        DjlRuntime.configure();
    }

    @TempDir
    static Path dir;
    static Path elastic;

    @BeforeAll
    static void build() throws Exception {
        elastic = ElasticFixtures.write(dir.resolve("elastic"), DType.F32, 21);
    }


    @Test
    void slicedScoreEqualsBudgetScore() throws Exception {
        Path out = dir.resolve("e50");
        CliRun.Run s = run("slice", "--model", elastic.toString(), "--budget", "50%", "--out", out.toString(), "--dtype", "f32");
        assertEquals(0, s.code(), s.err());
        assertTrue(s.out().contains("sliced"), s.out());
        String ids = "1,5,9,33,2,60,7,7,12,40,3";
        CliRun.Run a = run("score", "--model", out.toString(), "--ids", ids, "--json", "--logits");
        CliRun.Run b = run("score", "--model", elastic.toString(), "--budget", "50%", "--ids", ids, "--json", "--logits");
        assertEquals(0, a.code(), a.err());
        assertEquals(0, b.code(), b.err());
        JsonNode x = ConfigJson.MAPPER.readTree(a.out()).get("logits"), y = ConfigJson.MAPPER.readTree(b.out()).get("logits");
        double worst = 0;
        for (int i = 0; i < x.size(); i++) {
            for (int j = 0; j < x.get(i).size(); j++) {
                worst = Math.max(worst, Math.abs(x.get(i).get(j).asDouble() - y.get(i).get(j).asDouble()));
            }
        }
        assertTrue(worst <= 1e-5, "max |Δlogit| " + worst);
        // the pure-Java engine at the budget gives the same greedy continuation as on the slice
        CliRun.Run g1 = run("generate", "--model", out.toString(), "--ids", ids, "--max-tokens", "12", "--ignore-eos", "--json", "--threads", "1");
        CliRun.Run g2 = run("generate", "--model", elastic.toString(), "--budget", "50%", "--ids", ids, "--max-tokens", "12",
                "--ignore-eos", "--json", "--threads", "1");
        CliRun.Run g3 = run("generate", "--model", elastic.toString(), "--ids", ids, "--max-tokens", "12",
                "--ignore-eos", "--json", "--threads", "1");
        CliRun.Run g4 = run("generate", "--model", elastic.toString(), "--draft-budget", "50%", "--draft-tokens", "3", "--ids", ids,
                "--max-tokens", "12", "--ignore-eos", "--json", "--threads", "1");
        assertEquals(0, g2.code(), g2.err());
        assertEquals(ConfigJson.MAPPER.readTree(g1.out()).get("ids"), ConfigJson.MAPPER.readTree(g2.out()).get("ids"));
        assertEquals(0, g4.code(), g4.err());
        assertEquals(ConfigJson.MAPPER.readTree(g3.out()).get("ids"), ConfigJson.MAPPER.readTree(g4.out()).get("ids"), "speculative = plain");
        assertTrue(ConfigJson.MAPPER.readTree(g4.out()).has("draft_proposed"));
    }

    @Test
    void customConfigIsValidatedWithClearErrors() throws Exception {
        Path cfg = dir.resolve("custom.json");
        Files.writeString(cfg, ConfigJson.MAPPER.writeValueAsString(ElasticJson.subnetJson(ElasticFixtures.custom())));
        CliRun.Run ok = run("slice", "--model", elastic.toString(), "--config", cfg.toString(), "--out", dir.resolve("custom").toString());
        assertEquals(0, ok.code(), ok.err());
        Path bad = dir.resolve("bad.json");
        Files.writeString(bad, ConfigJson.MAPPER.writeValueAsString(ElasticJson.subnetJson(ElasticFixtures.custom()))
                .replace("\"width\" : 29", "\"width\" : 4000"));
        CliRun.Run err = run("slice", "--model", elastic.toString(), "--config", bad.toString(), "--out", dir.resolve("bad").toString());
        assertEquals(2, err.code());
        assertTrue(err.err().contains("bad.json") && err.err().contains("MLP width"), err.err());
        assertTrue(!Files.exists(dir.resolve("bad")));
        CliRun.Run notElastic = run("slice", "--model", dir.resolve("custom").toString(), "--budget", "50%", "--out", dir.resolve("x").toString());
        assertEquals(2, notElastic.code());
        assertTrue(notElastic.err().contains("elastic.json"), notElastic.err());
    }

    @Test
    void infoListsBudgetsAndBenchReportsSpeculation() {
        CliRun.Run info = run("info", elastic.toString());
        assertEquals(0, info.code(), info.err());
        assertTrue(info.out().contains("elastic budgets") && info.out().contains("50%") && info.out().contains("resident"), info.out());
        CliRun.Run bench = run("bench", "decode", "--model", elastic.toString(), "--budget", "75%", "--draft-budget", "50%",
                "--tokens", "16", "--prompt-tokens", "8", "--bandwidth-mib", "0", "--threads", "1");
        assertEquals(0, bench.code(), bench.err());
        assertTrue(bench.out().contains("speculative") && bench.out().contains("identical output"), bench.out());
    }
}
