package org.nestlm.dist;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * {@code MPI_COMM_WORLD} of Open MPI. Initialised with {@code MPI_THREAD_FUNNELED}: collectives come from the thread
 * that initialised MPI (libtorch's own worker threads never call MPI). The error handler stays MPI's default,
 * {@code MPI_ERRORS_ARE_FATAL}: a failed collective, or a rank that died, ends the whole job through {@code mpirun}
 * rather than leaving the other ranks waiting. A rank that lives but stops taking part (stuck) is caught by a
 * watchdog: a collective that has not returned after {@value #TIMEOUT_ENV} seconds (default
 * {@value #DEFAULT_TIMEOUT_S}; 0 = never) ends this process with a message, and {@code mpirun} the job.
 *
 * <p>Ranks out of step (one calls a collective the others do not, so that a barrier of one meets an all-reduce of
 * another, which MPI leaves undefined: a hang, or buffers silently mixed) are caught before the collective runs:
 * every collective is preceded by an all-reduce of its signature (its number in this process's sequence of
 * collectives, its kind, element type and operator or root, its size in bytes: 6 longs, the same call on every rank
 * whatever the collective). Where the signatures differ, every rank learns it from that same call and fails with a
 * message naming its own collective and where it was called from. {@code MPI_Finalize} is signed too, so a rank that
 * ends while another still waits in a collective is caught as well. The signature is where the ranks meet, and it is
 * awaited without spinning (see {@link #awaitAllreduce}); a barrier is the signature alone.
 */
public final class MpiCommunicator implements Communicator {

    /** Elements per native call: MPI counts are C ints. */
    static final int MAX_COUNT = 1 << 30;
    static final String TIMEOUT_ENV = "NESTLM_MPI_TIMEOUT_S";
    static final long DEFAULT_TIMEOUT_S = 3600;
    /** Exit code of a rank ended by the watchdog. */
    static final int TIMEOUT_EXIT = 3;
    /** Collective kinds in a signature. */
    private static final int ALLREDUCE = 1, BCAST = 2, BARRIER = 3, FINALIZE = 4;
    private static final String[] KIND_NAMES = {"", "MPI_Allreduce", "MPI_Bcast", "MPI_Barrier", "MPI_Finalize"};

    private final OpenMpi mpi;
    private final int rank, size;
    private final Thread owner;
    private boolean finalized;
    private volatile long waitingSince;      // System.nanoTime() when the current collective began; 0 outside one
    private volatile String waitingIn = "";
    /** Collectives this process has called (its position in the job's sequence of collectives). */
    private long sequence;

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
        agree(ALLREDUCE, type.ordinal() * 4 + op.ordinal(), buffer.byteSize());
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
        agree(BCAST, root, buffer.byteSize());
        for (long first = 0; first < buffer.byteSize(); first += MAX_COUNT) {
            int count = (int) Math.min(MAX_COUNT, buffer.byteSize() - first);
            MemorySegment part = buffer.asSlice(first, count);
            collective("MPI_Bcast", () -> (int) mpi.bcast.invokeExact(part, count, mpi.typeByte, root, mpi.commWorld));
        }
    }

    @Override
    public void barrier() {
        requireUsable(null);
        agree(BARRIER, 0, 0);   // an all-reduce: no rank leaves it before every rank has entered it, as a barrier

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
            agree(FINALIZE, 0, 0);
            collective("MPI_Finalize", () -> (int) mpi.finalizeCall.invokeExact());
            finalized = true;
        }
    }

    /**
     * Checks, with one all-reduce of 6 longs (the signature's maximum over ranks and, complemented, its minimum), that
     * every rank is about to call the same collective: the same number in its sequence, kind, detail (element type
     * and operator, or root) and size in bytes.
     *
     * @throws IllegalStateException on every rank when they differ, after a line on stderr naming this rank's call
     */
    private void agree(int kind, int detail, long bytes) {
        long seq = ++sequence;
        long[] sig = {seq, ((long) kind << 32) | detail, bytes};
        long[] max = new long[3], min = new long[3];
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(JAVA_LONG, 6);
            for (int i = 0; i < 3; i++) {
                s.setAtIndex(JAVA_LONG, i, sig[i]);
                s.setAtIndex(JAVA_LONG, 3 + i, ~sig[i]);
            }
            collective(KIND_NAMES[kind], () -> awaitAllreduce(arena, s, 6));
            for (int i = 0; i < 3; i++) {
                max[i] = s.getAtIndex(JAVA_LONG, i);
                min[i] = ~s.getAtIndex(JAVA_LONG, 3 + i);
            }
        }
        if (java.util.Arrays.equals(max, min)) {
            return;
        }
        String message = String.format(java.util.Locale.ROOT, "the %d ranks are out of step: rank %d is at its collective "
                        + "#%d, %s of %d bytes, called at %s, but the others are not (collective numbers %d..%d%s%s); a rank "
                        + "took a path the others did not", size, rank, seq, KIND_NAMES[kind], bytes, caller(), min[0], max[0],
                max[1] != min[1] ? ", different kinds" : "", max[2] != min[2] ? ", sizes " + min[2] + ".." + max[2] + " bytes" : "");
        System.err.println("error: " + message);
        System.err.flush();
        throw new IllegalStateException(message);
    }

    /**
     * {@code MPI_Iallreduce} (MAX over longs, in place) completed by polling {@code MPI_Test}: for a millisecond at full
     * speed, then once a millisecond, asleep in between. A blocking collective would poll at full speed for as long as
     * the slowest rank takes, a core taken from the ranks still working (rank 0 alone evaluating while the others
     * wait, on a machine with a core per rank); the signature is where the ranks meet, so the collective after it
     * finds them all there.
     *
     * @return MPI's error code
     */
    private int awaitAllreduce(Arena arena, MemorySegment buffer, int count) throws Throwable {
        MemorySegment request = arena.allocate(ADDRESS), flag = arena.allocate(JAVA_INT);
        int code = (int) mpi.iallreduce.invokeExact(OpenMpi.IN_PLACE, buffer, count, mpi.typeLong, mpi.opMax, mpi.commWorld,
                request);
        long spinUntil = System.nanoTime() + 1_000_000;
        boolean interrupted = false;
        while (code == 0) {
            code = (int) mpi.test.invokeExact(request, flag, MemorySegment.NULL);
            if (code != 0 || flag.get(JAVA_INT, 0) != 0) {
                break;
            }
            if (System.nanoTime() < spinUntil) {
                Thread.onSpinWait();
            } else {
                try {
                    Thread.sleep(1);
                } catch (InterruptedException e) {
                    interrupted = true;                 // the request must complete before its buffer is freed
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        return code;
    }

    /** The first frame outside the communicator classes: where the collective was called from. */
    private static String caller() {
        String self = MpiCommunicator.class.getName(), api = Communicator.class.getName(), world = World.class.getName();
        return StackWalker.getInstance().walk(frames -> frames
                .filter(f -> !f.getClassName().startsWith(self) && !f.getClassName().equals(api) && !f.getClassName().equals(world))
                .findFirst().map(StackWalker.StackFrame::toStackTraceElement).map(Object::toString).orElse("?"));
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
