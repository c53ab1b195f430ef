package org.nestlm.dist;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Tests' way to start {@code mpirun} jobs on this host. */
public final class MpiJobs {

    private MpiJobs() {
    }

    /** Exit code and merged output of a finished command. */
    public record Result(int code, String output) {
    }

    /**
     * Skips the calling test class where Open MPI is not installed, unless {@code NESTLM_REQUIRE_MPI=1} (CI) makes
     * that a failure.
     */
    public static void requireMpirun() throws InterruptedException {
        boolean mpi;
        try {
            Process p = new ProcessBuilder("mpirun", "--version").redirectErrorStream(true).start();
            mpi = p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            mpi = false;
        }
        if (!mpi && "1".equals(System.getenv("NESTLM_REQUIRE_MPI"))) {
            fail("mpirun not found: install openmpi-bin libopenmpi-dev (.ci/run does)");
        }
        assumeTrue(mpi, "Open MPI (mpirun) not installed");
    }

    /** {@code mpirun -np ranks command} on this host (oversubscribed: more ranks than cores is allowed). */
    public static List<String> mpirun(int ranks, List<String> command) {
        List<String> c = new ArrayList<>(List.of("mpirun", "--oversubscribe", "-np", Integer.toString(ranks)));
        c.addAll(command);
        return c;
    }

    /**
     * Runs to completion (output to {@code file}, returned), failing the test after {@code timeoutSeconds} (a hang).
     * As root, Open MPI needs explicit consent, given here in the job's environment only.
     */
    public static Result exec(List<String> command, Path file, long timeoutSeconds, Map<String, String> env)
            throws Exception {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(file.toFile());
        pb.environment().put("OPT_OUT_TRACKING", "true");
        pb.environment().put("DJL_OFFLINE", "true");
        pb.environment().put("OMP_WAIT_POLICY", "PASSIVE");
        pb.environment().put("OMPI_ALLOW_RUN_AS_ROOT", "1");
        pb.environment().put("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
        pb.environment().putAll(env);
        Process p = pb.start();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            fail("no result after " + timeoutSeconds + " s (a hang): " + String.join(" ", command) + "\n"
                    + Files.readString(file));
        }
        return new Result(p.exitValue(), Files.readString(file));
    }
}
