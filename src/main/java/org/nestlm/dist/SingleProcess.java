package org.nestlm.dist;

import java.lang.foreign.MemorySegment;

/** One rank: collectives leave their buffers as they are, so a training loop runs exactly as without a job. */
public record SingleProcess() implements Communicator {

    public static final SingleProcess INSTANCE = new SingleProcess();

    @Override
    public int rank() {
        return 0;
    }

    @Override
    public int size() {
        return 1;
    }

    @Override
    public void allreduce(MemorySegment buffer, Type type, Op op) {
        if (buffer.byteSize() % type.bytes != 0) {
            throw new IllegalArgumentException("a buffer of " + buffer.byteSize() + " bytes is not a whole number of " + type);
        }
    }

    @Override
    public void broadcast(MemorySegment buffer, int root) {
        if (root != 0) {
            throw new IllegalArgumentException("root " + root + " of a single rank");
        }
    }

    @Override
    public void barrier() {
    }

    @Override
    public void abort(int code) {
        System.exit(code);
    }
}
