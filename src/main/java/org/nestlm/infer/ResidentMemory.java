package org.nestlm.infer;

import org.nestlm.model.Checkpoint;
import org.nestlm.io.TensorEntry;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * How much of the weights is resident: the mapped bytes of a checkpoint that are in physical memory
 * ({@link MemorySegment#isLoaded}, i.e. mincore), and the process's resident set ({@code VmRSS} from
 * /proc/self/status, Linux only). Serving several nested sizes from one mapping makes the first grow only
 * to the largest size's weights; separate sliced checkpoints would add up.
 */
public final class ResidentMemory {

    /** Pages are checked in slices of this size (isLoaded answers for a whole segment). */
    private static final long PAGE_SLICE = 64 << 10;

    private ResidentMemory() {
    }

    /** Mapped weight bytes of {@code ckpt} currently in physical memory (page granularity, 64 KiB slices). */
    public static long residentWeightBytes(Checkpoint ckpt) {
        long resident = 0;
        for (TensorEntry e : ckpt.store().tensors().values()) {
            MemorySegment s = e.data();
            for (long off = 0; off < s.byteSize(); off += PAGE_SLICE) {
                long len = Math.min(PAGE_SLICE, s.byteSize() - off);
                try {
                    if (s.asSlice(off, len).isLoaded()) {
                        resident += len;
                    }
                } catch (UnsupportedOperationException | IllegalStateException ex) {
                    return -1;   // not a mapped segment
                }
            }
        }
        return resident;
    }

    /** The process's resident set size in bytes, or −1 where /proc is not available. */
    public static long processRss() {
        try {
            List<String> lines = Files.readAllLines(Path.of("/proc/self/status"));
            for (String l : lines) {
                if (l.startsWith("VmRSS:")) {
                    return Long.parseLong(l.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return -1;
    }
}
