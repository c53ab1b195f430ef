/**
 * Data-parallel execution: a {@link org.nestlm.dist.Communicator} (rank, size, in-place all-reduce, broadcast,
 * barrier) with two implementations, {@link org.nestlm.dist.SingleProcess} (one rank: every collective is the
 * identity, nothing native is loaded) and {@link org.nestlm.dist.MpiCommunicator} (Open MPI's C API, bound with
 * {@code java.lang.foreign} to {@code libmpi.so.40} by {@link org.nestlm.dist.OpenMpi}).
 *
 * <p>{@link org.nestlm.dist.World#communicator()} picks one per process: MPI when the process was started by
 * {@code mpirun} (or another PMIx launcher), one rank otherwise. Nothing in this package depends on the rest of the
 * project; training code receives a communicator and reduces its gradients with it.
 */
package org.nestlm.dist;
