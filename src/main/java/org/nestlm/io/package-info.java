/**
 * Checkpoint input and output without DJL: memory-mapped safetensors reading ({@link org.nestlm.io.SafetensorsFile},
 * {@link org.nestlm.io.TensorStore} for whole, possibly sharded checkpoints), canonical and atomic writing
 * ({@link org.nestlm.io.SafetensorsWriter}, {@link org.nestlm.io.AtomicFiles}), and the bf16/f16 conversions
 * ({@link org.nestlm.io.FloatFormats}).
 *
 * <p>Format: {@code [u64 LE N][N bytes JSON header][data]}, see {@code docs/ARCHITECTURE.md} §3.1. Every read is
 * validated up front; faults surface as {@link org.nestlm.io.CheckpointFormatException} naming the file, the fault
 * and the tensor.
 */
package org.nestlm.io;

