package org.nestlm.dist;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Open MPI's C API ({@code mpi.h} of Open MPI 4, {@code libmpi.so.40}) through {@code java.lang.foreign}. Handles
 * such as {@code MPI_COMM_WORLD}, {@code MPI_FLOAT} and {@code MPI_SUM} are, in Open MPI, the addresses of global
 * objects ({@code ompi_mpi_comm_world}, {@code ompi_mpi_float}, {@code ompi_mpi_op_sum}); they are looked up by name.
 * {@code MPI_IN_PLACE} is the address 1. Every function returns an error code, {@code MPI_SUCCESS} = 0.
 */
final class OpenMpi {

    static final String LIBRARY = "libmpi.so.40";
    static final int THREAD_FUNNELED = 1;    // enum: SINGLE, FUNNELED, SERIALIZED, MULTIPLE
    static final int MAX_ERROR_STRING = 256;
    static final MemorySegment IN_PLACE = MemorySegment.ofAddress(1);

    private static final int RTLD_NOW = 2, RTLD_GLOBAL = 0x100;

    final MethodHandle initThread, initialized, finalized, commRank, commSize, allreduce, iallreduce, test, bcast, abort,
            finalizeCall, errorString;
    final MemorySegment commWorld, opSum, opMin, opMax, typeFloat, typeDouble, typeLong, typeByte;

    private OpenMpi(SymbolLookup lib) {
        Linker linker = Linker.nativeLinker();
        initThread = fn(linker, lib, "MPI_Init_thread", JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS);
        initialized = fn(linker, lib, "MPI_Initialized", JAVA_INT, ADDRESS);
        finalized = fn(linker, lib, "MPI_Finalized", JAVA_INT, ADDRESS);
        commRank = fn(linker, lib, "MPI_Comm_rank", JAVA_INT, ADDRESS, ADDRESS);
        commSize = fn(linker, lib, "MPI_Comm_size", JAVA_INT, ADDRESS, ADDRESS);
        // (sendbuf, recvbuf, count, datatype, op, comm)
        allreduce = fn(linker, lib, "MPI_Allreduce", JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS);
        // (sendbuf, recvbuf, count, datatype, op, comm, MPI_Request *request); MPI_Request is a pointer in Open MPI
        iallreduce = fn(linker, lib, "MPI_Iallreduce", JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS);
        // (MPI_Request *request, int *flag, MPI_Status *status); MPI_STATUS_IGNORE is the null pointer in Open MPI
        test = fn(linker, lib, "MPI_Test", JAVA_INT, ADDRESS, ADDRESS, ADDRESS);
        // (buffer, count, datatype, root, comm)
        bcast = fn(linker, lib, "MPI_Bcast", JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS);
        abort = fn(linker, lib, "MPI_Abort", JAVA_INT, ADDRESS, JAVA_INT);
        finalizeCall = fn(linker, lib, "MPI_Finalize", JAVA_INT);
        errorString = fn(linker, lib, "MPI_Error_string", JAVA_INT, JAVA_INT, ADDRESS, ADDRESS);
        commWorld = global(lib, "ompi_mpi_comm_world");
        opSum = global(lib, "ompi_mpi_op_sum");
        opMin = global(lib, "ompi_mpi_op_min");
        opMax = global(lib, "ompi_mpi_op_max");
        typeFloat = global(lib, "ompi_mpi_float");
        typeDouble = global(lib, "ompi_mpi_double");
        typeLong = global(lib, "ompi_mpi_int64_t");
        typeByte = global(lib, "ompi_mpi_byte");
    }

    /**
     * Loads the library. It is opened with {@code RTLD_GLOBAL} first: Open MPI loads its transports as plug-ins that
     * resolve symbols of {@code libmpi} and {@code libopen-pal} from the global namespace, which a plain
     * {@link SymbolLookup#libraryLookup} ({@code RTLD_LOCAL}) would hide from them.
     *
     * @throws IllegalStateException naming the Debian packages when the library is not installed
     */
    static OpenMpi load() {
        Linker linker = Linker.nativeLinker();
        MethodHandle dlopen = linker.downcallHandle(linker.defaultLookup().find("dlopen").orElseThrow(),
                FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment handle = (MemorySegment) dlopen.invokeExact(arena.allocateFrom(LIBRARY), RTLD_NOW | RTLD_GLOBAL);
            if (handle.address() == 0) {
                throw new IllegalStateException("this process was started by an MPI launcher but Open MPI's " + LIBRARY
                        + " cannot be loaded; install it with 'apt-get install openmpi-bin libopenmpi-dev' (Debian "
                        + "package libopenmpi3) or run without mpirun");
            }
        } catch (IllegalStateException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("dlopen(" + LIBRARY + "): " + t, t);
        }
        return new OpenMpi(SymbolLookup.libraryLookup(LIBRARY, Arena.global()));
    }

    private static MethodHandle fn(Linker linker, SymbolLookup lib, String name, java.lang.foreign.MemoryLayout ret,
                                   java.lang.foreign.MemoryLayout... args) {
        MemorySegment addr = lib.find(name).orElseThrow(() -> new IllegalStateException(LIBRARY + " has no " + name
                + "; Open MPI 4 (Debian libopenmpi3) is expected"));
        return linker.downcallHandle(addr, FunctionDescriptor.of(ret, args));
    }

    private static MemorySegment global(SymbolLookup lib, String name) {
        return lib.find(name).orElseThrow(() -> new IllegalStateException(LIBRARY + " has no global '" + name
                + "': not Open MPI (MPICH and others encode MPI handles differently); Open MPI 4 is expected"));
    }

    MemorySegment type(Communicator.Type t) {
        return switch (t) {
            case FLOAT -> typeFloat;
            case DOUBLE -> typeDouble;
            case LONG -> typeLong;
        };
    }

    MemorySegment op(Communicator.Op o) {
        return switch (o) {
            case SUM -> opSum;
            case MIN -> opMin;
            case MAX -> opMax;
        };
    }

    /** MPI's text for an error code. */
    String message(int code) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment text = arena.allocate(MAX_ERROR_STRING);
            MemorySegment len = arena.allocate(JAVA_INT);
            if ((int) errorString.invokeExact(code, text, len) != 0) {
                return "MPI error " + code;
            }
            return text.getString(0);
        } catch (Throwable t) {
            return "MPI error " + code;
        }
    }
}
