// A probe for the Mamba-2 conv in training (docs/PERFORMANCE.md, *Where a step spends its time*). Not part of the
// build: it times forward and backward of the depthwise causal conv plus SiLU at the `small` preset's shapes
// (batch 8, 640 channels, 256 positions, kernel 4) in three formulations, alternating, and prints each one's loss
// and gradient sums (equal up to rounding) and its median and minimum milliseconds over 20 iterations:
//   cur   - K-1 zeros concatenated in front of the channels-first input, libtorch's conv1d (what Mamba2Mixer does);
//   pad   - conv1d with its own padding of K-1 on both sides, the first L outputs kept;
//   shift - channels-last, the sum of K shifted slices times the kernel's taps.
//
//   mvn -q package -DskipTests && java -Dai.djl.pytorch.num_threads=2 -cp "target/lib/*" tools/ConvProbe.java
//
// Run it with the launcher's environment (OPT_OUT_TRACKING=true DJL_OFFLINE=true, see ./nestlm).
import ai.djl.engine.Engine;
import ai.djl.ndarray.*;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.*;
import ai.djl.nn.convolutional.Conv1d;
import ai.djl.training.GradientCollector;
import java.util.*;

public class ConvProbe {
    static NDArray silu(NDArray x) { return x.mul(ai.djl.nn.Activation.sigmoid(x)); }
    public static void main(String[] a) {
        int b = 8, c = 640, len = 256, k = 4;
        Engine.getInstance().setRandomSeed(1);
        String[] variants = a.length > 0 ? a : new String[] {"cur", "pad", "shift"};
        try (NDManager root = NDManager.newBaseManager()) {
            NDArray xbc0 = root.randomNormal(new Shape(b, len, c));
            NDArray w = root.randomNormal(new Shape(c, 1, k)); w.setRequiresGradient(true);
            NDArray bias = root.randomNormal(new Shape(c)); bias.setRequiresGradient(true);
            NDArray r = root.randomNormal(new Shape(b, len, c));
            Map<String, List<Double>> times = new LinkedHashMap<>();
            Map<String, Float> sums = new LinkedHashMap<>();
            for (int it = 0; it < 25; it++) {
                for (String v : variants) {
                    try (NDManager m = root.newSubManager()) {
                        NDArray xbc = xbc0.duplicate(); xbc.setRequiresGradient(true);
                        long t0 = System.nanoTime();
                        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                            NDArray y;
                            switch (v) {
                                case "cur" -> {
                                    NDArray win = m.zeros(new Shape(b, c, k - 1)).concat(xbc.transpose(0, 2, 1), 2);
                                    y = silu(Conv1d.conv1d(win, w, bias, new Shape(1), new Shape(0), new Shape(1), c).singletonOrThrow()).transpose(0, 2, 1);
                                }
                                case "pad" -> {
                                    NDArray out = Conv1d.conv1d(xbc.transpose(0, 2, 1), w, bias, new Shape(1), new Shape(k - 1), new Shape(1), c).singletonOrThrow();
                                    y = silu(out.get(new NDIndex(":, :, :{}", len))).transpose(0, 2, 1);
                                }
                                case "shift" -> {
                                    NDArray win = m.zeros(new Shape(b, k - 1, c)).concat(xbc, 1);   // [b, K-1+L, C]
                                    NDArray wk = w.reshape(c, k).transpose();                   // [K, C]
                                    NDArray acc = null;
                                    for (int j = 0; j < k; j++) {
                                        NDArray term = win.get(new NDIndex(":, {}:{}", j, j + len)).mul(wk.get(j));
                                        acc = acc == null ? term : acc.add(term);
                                    }
                                    y = silu(acc.add(bias));
                                }
                                default -> throw new IllegalArgumentException(v);
                            }
                            NDArray loss = y.mul(r).sum();
                            gc.backward(loss);
                            if (it == 0) sums.put(v, loss.getFloat());
                        }
                        float g = xbc.getGradient().sum().getFloat() + w.getGradient().sum().getFloat();
                        long t1 = System.nanoTime();
                        if (it == 0) sums.put(v + " grad", g);
                        if (it >= 5) times.computeIfAbsent(v, q -> new ArrayList<>()).add((t1 - t0) / 1e6);
                        w.getGradient().subi(w.getGradient()); bias.getGradient().subi(bias.getGradient());
                    }
                }
            }
            System.out.println(sums);
            times.forEach((v, l) -> { Collections.sort(l); System.out.printf("%-6s median %.2f ms  min %.2f%n", v, l.get(l.size() / 2), l.get(0)); });
        }
    }
}
