package org.nestlm.dist;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Starts this very command again as an {@code mpirun -np N} job on this host (for {@code --ranks N}): the same JVM,
 * JVM options and arguments, less the {@code --ranks} option. As root, Open MPI refuses to start unless told that
 * this is meant; the consent is given for this job only, in its environment.
 */
public final class MpiRun {

    private MpiRun() {
    }

    /**
     * Runs the job to its end, output inherited.
     *
     * @param option the option to drop from the arguments ({@code --ranks}), with its value
     * @return mpirun's exit code
     */
    public static int relaunch(int ranks, String option) throws IOException, InterruptedException {
        ProcessHandle.Info info = ProcessHandle.current().info();
        String java = info.command().orElseThrow(() -> new IllegalStateException("cannot see this process's command line"));
        String[] args = info.arguments().orElseThrow(() -> new IllegalStateException("cannot see this process's arguments"));
        List<String> cmd = new ArrayList<>(List.of("mpirun", "-np", Integer.toString(ranks), java));
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals(option)) {
                i++;                                  // and its value
            } else if (!args[i].startsWith(option + "=")) {
                cmd.add(args[i]);
            }
        }
        ProcessBuilder pb = new ProcessBuilder(cmd).inheritIO();
        if ("root".equals(System.getProperty("user.name"))) {
            pb.environment().put("OMPI_ALLOW_RUN_AS_ROOT", "1");
            pb.environment().put("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
        }
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new IllegalStateException("mpirun not found: install Open MPI ('apt-get install openmpi-bin "
                    + "libopenmpi-dev') to run on several ranks", e);
        }
        return p.waitFor();
    }
}
