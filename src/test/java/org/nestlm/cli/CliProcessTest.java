package org.nestlm.cli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nestlm.io.DType;
import org.nestlm.slice.ElasticFixtures;
import org.nestlm.train.RunDirectory;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CLI in a second JVM, for what only another process shows: the run-directory lock between two processes, and
 * libtorch's stderr (a deprecation warning printed natively, out of reach of {@link CliRun}).
 */
@Tag("slow")
class CliProcessTest {

    @TempDir
    static Path dir;
    static Path elastic;

    @BeforeAll
    static void fixture() throws Exception {
        elastic = ElasticFixtures.write(dir.resolve("elastic"), DType.F32, 21);
    }

    /** Exit code and stderr of {@code nestlm args...} in a new JVM with this one's flags and class path. */
    record Result(int code, String err) {
    }

    static Result nestlm(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!a.startsWith("-agentlib") && !a.startsWith("-javaagent")) {
                cmd.add(a);
            }
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(List.of(args));
        Path err = dir.resolve("stderr.txt");
        Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(err.toFile()).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("nestlm " + String.join(" ", args) + " did not finish in 120 s");
        }
        return new Result(p.exitValue(), Files.readString(err, StandardCharsets.UTF_8));
    }

    @Test
    void aSecondProcessOnAHeldRunDirectoryFailsAtOnce() throws Exception {
        Path out = dir.resolve("run");
        Path corpus = Files.writeString(dir.resolve("c.txt"), "some text\n");
        Path tok = Files.writeString(dir.resolve("tok.json"), "{}");
        try (RunDirectory held = RunDirectory.open(out)) {
            Result r = nestlm("pretrain", "--preset", "tiny", "--corpus", corpus.toString(), "--tokenizer", tok.toString(),
                    "--tokens", "100000", "--out", out.toString());
            assertEquals(2, r.code(), r.err());
            assertTrue(r.err().contains("error: " + out + " is in use by process " + ProcessHandle.current().pid()), r.err());
        }
    }

    @Test
    void budgetCommandsPrintNoLibtorchWarning() throws Exception {
        Result r = nestlm("score", "--model", elastic.toString(), "--budget", "60%", "--ids", "1,5,9,33");
        assertEquals(0, r.code(), r.err());
        assertFalse(r.err().contains("Warning:"), r.err());
    }
}
