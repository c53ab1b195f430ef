package org.nestlm.dist;

import java.util.Map;

/**
 * The communicator of this process, chosen once: Open MPI when an MPI launcher started the process (Open MPI's
 * {@code mpirun} sets {@code OMPI_COMM_WORLD_SIZE}; PMIx launchers such as {@code srun --mpi=pmix} set
 * {@code PMIX_RANK}), a {@link SingleProcess} otherwise, without loading anything native.
 */
public final class World {

    private static Communicator world;

    private World() {
    }

    /** Whether {@code env} (the process environment) comes from an MPI launcher. */
    public static boolean launchedByMpi(Map<String, String> env) {
        return env.containsKey("OMPI_COMM_WORLD_SIZE") || env.containsKey("PMIX_RANK");
    }

    /** This process's communicator; initialises MPI on first use when launched by MPI. */
    public static synchronized Communicator communicator() {
        if (world == null) {
            world = launchedByMpi(System.getenv()) ? MpiCommunicator.init() : SingleProcess.INSTANCE;
        }
        return world;
    }

    /**
     * Ends this process's part of the job before the JVM exits with {@code exitCode}: {@code MPI_Finalize} after
     * success; after a failure {@code MPI_Abort}, which stops every other rank too instead of leaving them waiting in
     * a collective for this one (and makes {@code mpirun} exit with the code); likewise when {@code MPI_Finalize} finds
     * the ranks out of step. Nothing when MPI was never used.
     */
    public static synchronized void exit(int exitCode) {
        if (world instanceof MpiCommunicator mpi) {
            if (exitCode == 0) {
                try {
                    mpi.finish();
                    return;
                } catch (RuntimeException e) {
                    System.err.println("error: " + e.getMessage());   // another rank still waits in a collective
                    exitCode = 1;
                }
            }
            mpi.abort(exitCode);
        }
    }
}
