package org.nestlm.cli;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * Runs a command line as a user would, capturing its exit code, stdout and stderr: in this JVM ({@link #run}), or in
 * a fresh one ({@link #fork}) where process history matters (garbage collector, heap, allocator settings).
 */
public final class CliRun {

    private CliRun() {
    }

    /** Exit code, stdout and stderr of one command line. */
    public record Run(int code, String out, String err) {
    }

    public static Run run(String... args) {
        return runWithInput("", args);
    }

    /** The same with {@code stdin} as standard input (chat). System streams are process-wide, hence synchronized. */
    public static synchronized Run runWithInput(String stdin, String... args) {
        PrintStream oldOut = System.out, oldErr = System.err;
        InputStream oldIn = System.in;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            System.setIn(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)));
            int code = Main.run(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
            System.setIn(oldIn);
        }
    }

    /** The words that start {@code nestlm args} in a new JVM on this test's class path (for {@link #fork}, mpirun). */
    public static java.util.List<String> javaCommand(java.util.List<String> jvmOptions, String... args) {
        java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of(
                java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-Dai.djl.offline=true", "-DOPT_OUT_TRACKING=true"));
        cmd.addAll(jvmOptions);
        cmd.addAll(java.util.List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(java.util.List.of(args));
        return cmd;
    }

    /**
     * The command line in a new JVM on this test's class path, with extra JVM options and environment variables
     * (telemetry off as in every JVM the project starts). A process still running after {@code timeoutSeconds} is
     * killed and reported as exit code -1.
     */
    public static Run fork(java.util.List<String> jvmOptions, java.util.Map<String, String> env, long timeoutSeconds,
                           String... args) throws java.io.IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(javaCommand(jvmOptions, args));
        pb.environment().putAll(env);
        pb.environment().put("OPT_OUT_TRACKING", "true");
        pb.environment().put("DJL_OFFLINE", "true");
        java.nio.file.Path err = java.nio.file.Files.createTempFile("nestlm-fork", ".err");
        java.nio.file.Path out = java.nio.file.Files.createTempFile("nestlm-fork", ".out");
        try {
            Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            int code;
            if (p.waitFor(timeoutSeconds, java.util.concurrent.TimeUnit.SECONDS)) {
                code = p.exitValue();
            } else {
                p.destroyForcibly().waitFor();
                code = -1;
            }
            return new Run(code, java.nio.file.Files.readString(out), java.nio.file.Files.readString(err));
        } finally {
            java.nio.file.Files.deleteIfExists(out);
            java.nio.file.Files.deleteIfExists(err);
        }
    }
}
