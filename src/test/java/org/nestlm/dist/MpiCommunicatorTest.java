package org.nestlm.dist;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The communicators: one process without MPI, and Open MPI's through FFM in a 2-rank {@code mpirun} job on this host
 * ({@link MpiChecks} on each rank), including a rank that stops taking part (the others' watchdog ends the job).
 */
class MpiCommunicatorTest {

    @TempDir
    Path dir;

    @Test
    void aProcessWithoutAnMpiLauncherIsOneRank() {
        assertFalse(World.launchedByMpi(Map.of("PATH", "/usr/bin")));
        assertTrue(World.launchedByMpi(Map.of("OMPI_COMM_WORLD_SIZE", "2")));
        assertTrue(World.launchedByMpi(Map.of("PMIX_RANK", "0")));
        Communicator one = SingleProcess.INSTANCE;
        assertEquals(0, one.rank());
        assertEquals(1, one.size());
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocateFrom(ValueLayout.JAVA_FLOAT, 1.5f, -2f);
            one.allreduce(s, Communicator.Type.FLOAT, Communicator.Op.SUM);
            assertEquals(1.5f, s.getAtIndex(ValueLayout.JAVA_FLOAT, 0));
            assertThrows(IllegalArgumentException.class, () -> one.allreduce(arena.allocate(6), Communicator.Type.FLOAT,
                    Communicator.Op.SUM));
        }
        assertEquals(2.5, one.sum(2.5));
        one.requireSame("anything", 7);
        assertTrue(one.rootDecides(true));
        assertFalse(one.rootDecides(false));
    }

    @Test
    void theWatchdogLimitIsReadFromTheEnvironment() {
        assertEquals(MpiCommunicator.DEFAULT_TIMEOUT_S, MpiCommunicator.timeoutSeconds(Map.of()));
        assertEquals(0, MpiCommunicator.timeoutSeconds(Map.of(MpiCommunicator.TIMEOUT_ENV, "0")));
        assertEquals(90, MpiCommunicator.timeoutSeconds(Map.of(MpiCommunicator.TIMEOUT_ENV, " 90 ")));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> MpiCommunicator.timeoutSeconds(Map.of(MpiCommunicator.TIMEOUT_ENV, "ten")));
        assertTrue(e.getMessage().contains(MpiCommunicator.TIMEOUT_ENV), e.getMessage());
    }

    @Test
    void collectivesOfTwoRanksThroughOpenMpi() throws Exception {
        MpiJobs.requireMpirun();
        MpiJobs.Result r = MpiJobs.exec(MpiJobs.mpirun(2, java("collectives")), dir.resolve("out.txt"), 120, Map.of());
        assertEquals(0, r.code(), r.output());
        assertTrue(r.output().contains("ok rank 0 of 2") && r.output().contains("ok rank 1 of 2"), r.output());
    }

    @Test
    void sumsOfThreeRanksComeInRankOrder() throws Exception {
        MpiJobs.requireMpirun();
        MpiJobs.Result r = MpiJobs.exec(MpiJobs.mpirun(3, java("rankorder")), dir.resolve("out.txt"), 120, Map.of());
        assertEquals(0, r.code(), r.output());
        assertTrue(r.output().contains("ok rank 2 of 3"), r.output());
    }

    @Test
    void aRankThatStopsTakingPartEndsTheJob() throws Exception {
        MpiJobs.requireMpirun();
        long t0 = System.nanoTime();
        MpiJobs.Result r = MpiJobs.exec(MpiJobs.mpirun(2, java("stuck")), dir.resolve("out.txt"), 120,
                Map.of(MpiCommunicator.TIMEOUT_ENV, "2"));
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertNotEquals(0, r.code(), r.output());
        assertTrue(r.output().contains("rank 0 of 2 waited more than 2 s in MPI_Barrier"), r.output());
        assertTrue(seconds < 55, "the job ended after " + seconds + " s, not when the watchdog fired");
    }

    /** A barrier on one rank met by an all-reduce on the other: both stop at once, each naming its own call. */
    @Test
    void ranksOutOfStepStopWithAMessage() throws Exception {
        MpiJobs.requireMpirun();
        MpiJobs.Result r = MpiJobs.exec(MpiJobs.mpirun(2, java("diverge")), dir.resolve("out.txt"), 120,
                Map.of(MpiCommunicator.TIMEOUT_ENV, "100"));
        assertNotEquals(0, r.code(), r.output());
        assertFalse(r.output().contains("ok rank"), r.output());
        assertTrue(r.output().contains("the 2 ranks are out of step: rank ") && r.output().contains("collective #1, MPI_"),
                r.output());
        assertTrue(r.output().contains("MpiChecks.main"), "names where the collective was called:\n" + r.output());
    }

    /** A rank that ends while another still calls a collective: MPI_Finalize is checked like the collectives. */
    @Test
    void aRankThatEndsWhileAnotherWaitsStopsTheJob() throws Exception {
        MpiJobs.requireMpirun();
        MpiJobs.Result r = MpiJobs.exec(MpiJobs.mpirun(2, java("early")), dir.resolve("out.txt"), 120,
                Map.of(MpiCommunicator.TIMEOUT_ENV, "100"));
        assertNotEquals(0, r.code(), r.output());
        assertTrue(r.output().contains("MPI_Finalize of 0 bytes") || r.output().contains("MPI_Barrier of 0 bytes"), r.output());
        assertTrue(r.output().contains("are out of step"), r.output());
    }

    private static List<String> java(String mode) {
        List<String> c = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), MpiChecks.class.getName(),
                mode));
        return c;
    }
}
