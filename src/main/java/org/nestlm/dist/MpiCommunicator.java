package org.nestlm.dist;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * {@code MPI_COMM_WORLD} of Open MPI. Initialised with {@code MPI_THREAD_FUNNELED}: collectives come from the thread
 * that initialised MPI (libtorch's own worker threads never call MPI). The error handler stays MPI's default,
 * {@code MPI_ERRORS_ARE_FATAL}: a failed collective, or a rank that died, ends the whole job through {@code mpirun}
 * rather than leaving the other ranks waiting. A rank that lives but stops taking part (stuck) is caught by a
 * watchdog: a collective that has not returned after {@value #TIMEOUT_ENV} seconds (default
 * {@value #DEFAULT_TIMEOUT_S}; 0 = never) ends this process with a message, and {@code mpirun} the job.
 */
public final class MpiCommunicator implements Communicator {

    /** Elements per native call: MPI counts are C ints. */
    static final int MAX_COUNT = 1 << 30;
    static final String TIMEOUT_ENV = "NESTLM_MPI_TIMEOUT_S";
    static final long DEFAULT_TIMEOUT_S = 3600;
    /** Exit code of a rank ended by the watchdog. */
    static final int TIMEOUT_EXIT = 3;

    private final OpenMpi mpi;
    private final int rank, size;
    private final Thread owner;
    private boolean finalized;
    private volatile long waitingSince;      // System.nanoTime() when the current collective began; 0 outside one
    private volatile String waitingIn = "";

    private MpiCommunicator(OpenMpi mpi, int rank, int size, long timeoutSeconds) {
        this.mpi = mpi;
        this.rank = rank;
        this.size = size;
        this.owner = Thread.currentThread();
        if (timeoutSeconds > 0) {
            Thread w = new Thread(() -> watch(timeoutSeconds), "mpi-watchdog");
            w.setDaemon(true);
            w.start();
        }
    }

    /** Ends the process when one collective has lasted longer than {@code timeoutSeconds}. */
    private void watch(long timeoutSeconds) {
        long limit = timeoutSeconds * 1_000_000_000L;
        while (true) {
            try {
                Thread.sleep(Math.min(1000, timeoutSeconds * 100));
            } catch (InterruptedException e) {
                return;
            }
            long since = waitingSince;
            if (since != 0 && System.nanoTime() - since > limit) {
                System.err.printf("error: rank %d of %d waited more than %d s in %s: another rank is stuck or gone; ending "
                        + "the job (%s=%d; 0 waits forever)%n", rank, size, timeoutSeconds, waitingIn, TIMEOUT_ENV, timeoutSeconds);
                System.err.flush();
                Runtime.getRuntime().halt(TIMEOUT_EXIT);
            }
        }
    }

    /** The watchdog's limit from {@value #TIMEOUT_ENV}. */
    static long timeoutSeconds(java.util.Map<String, String> env) {
        String v = env.get(TIMEOUT_ENV);
        if (v == null || v.isBlank()) {
            return DEFAULT_TIMEOUT_S;
        }
        try {
            long s = Long.parseLong(v.trim());
            if (s < 0) {
                throw new NumberFormatException();
            }
            return s;
        } catch (NumberFormatException e) {
            throw new IllegalStateException(TIMEOUT_ENV + " must be a whole number of seconds (0 = no limit), got '" + v + "'");
        }
    }

    /** {@code MPI_Init_thread} (without argc/argv: {@code mpirun} passes what MPI needs in the environment). */
    static MpiCommunicator init() {
        long timeout = timeoutSeconds(System.getenv());
        OpenMpi mpi = OpenMpi.load();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment provided = arena.allocate(JAVA_INT);
            check(mpi, "MPI_Init_thread", (int) mpi.initThread.invokeExact(MemorySegment.NULL, MemorySegment.NULL,
                    OpenMpi.THREAD_FUNNELED, provided));
            if (provided.get(JAVA_INT, 0) < OpenMpi.THREAD_FUNNELED) {
                throw new IllegalStateException("MPI provides thread level " + provided.get(JAVA_INT, 0)
                        + ", below MPI_THREAD_FUNNELED");
            }
            MemorySegment r = arena.allocate(JAVA_INT), s = arena.allocate(JAVA_INT);
            check(mpi, "MPI_Comm_rank", (int) mpi.commRank.invokeExact(mpi.commWorld, r));
            check(mpi, "MPI_Comm_size", (int) mpi.commSize.invokeExact(mpi.commWorld, s));
            return new MpiCommunicator(mpi, r.get(JAVA_INT, 0), s.get(JAVA_INT, 0), timeout);
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("MPI_Init_thread: " + t, t);
        }
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public void allreduce(MemorySegment buffer, Type type, Op op) {
        requireUsable(buffer);
        if (buffer.byteSize() % type.bytes != 0) {
            throw new IllegalArgumentException("a buffer of " + buffer.byteSize() + " bytes is not a whole number of " + type);
        }
        long n = buffer.byteSize() / type.bytes;
        MemorySegment dtype = mpi.type(type), mop = mpi.op(op);
        for (long first = 0; first < n; first += MAX_COUNT) {
            int count = (int) Math.min(MAX_COUNT, n - first);
            MemorySegment part = buffer.asSlice(first * type.bytes, (long) count * type.bytes);
            collective("MPI_Allreduce", () -> (int) mpi.allreduce.invokeExact(OpenMpi.IN_PLACE, part, count, dtype, mop,
                    mpi.commWorld));
        }
    }

    @Override
    public void broadcast(MemorySegment buffer, int root) {
        requireUsable(buffer);
        if (root < 0 || root >= size) {
            throw new IllegalArgumentException("root " + root + " of " + size + " ranks");
        }
        for (long first = 0; first < buffer.byteSize(); first += MAX_COUNT) {
            int count = (int) Math.min(MAX_COUNT, buffer.byteSize() - first);
            MemorySegment part = buffer.asSlice(first, count);
            collective("MPI_Bcast", () -> (int) mpi.bcast.invokeExact(part, count, mpi.typeByte, root, mpi.commWorld));
        }
    }

    @Override
    public void barrier() {
        requireUsable(null);
        collective("MPI_Barrier", () -> (int) mpi.barrier.invokeExact(mpi.commWorld));
    }

    @Override
    public void abort(int code) {
        try {
            int ignored = (int) mpi.abort.invokeExact(mpi.commWorld, code);
        } catch (Throwable t) {
            // MPI_Abort does not return; if it could not even be called, leave as a failed process, which mpirun also
            // turns into the end of the job
        }
        Runtime.getRuntime().halt(code);
    }

    /** {@code MPI_Finalize}: after it no collective may be called. */
    void finish() {
        if (!finalized) {
            collective("MPI_Finalize", () -> (int) mpi.finalizeCall.invokeExact());
            finalized = true;
        }
    }

    private void requireUsable(MemorySegment buffer) {
        if (finalized) {
            throw new IllegalStateException("MPI is finalized");
        }
        if (Thread.currentThread() != owner) {
            throw new IllegalStateException("MPI collectives must come from the thread that initialised MPI ("
                    + owner.getName() + "), not " + Thread.currentThread().getName());
        }
        if (buffer != null && buffer.isNative() == false) {
            throw new IllegalArgumentException("MPI buffers must be off-heap segments");
        }
    }

    /** A native call that returns an MPI error code. */
    @FunctionalInterface
    private interface NativeCall {
        int invoke() throws Throwable;
    }

    /** Runs one collective under the watchdog; a non-zero code becomes an exception with MPI's message. */
    private void collective(String name, NativeCall call) {
        waitingIn = name;
        waitingSince = Math.max(1, System.nanoTime());
        try {
            check(mpi, name, call.invoke());
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(name + ": " + t, t);
        } finally {
            waitingSince = 0;
        }
    }

    private static void check(OpenMpi mpi, String name, int code) {
        if (code != 0) {
            throw new IllegalStateException(name + " failed: " + mpi.message(code));
        }
    }
}
