package org.nestlm.train;

import ai.djl.ndarray.NDArray;
import org.nestlm.model.NemotronH;
import org.nestlm.model.Param;

import java.nio.charset.StandardCharsets;

/**
 * A 64-bit hash of what a data-parallel run must agree on across ranks before its first step: the settings, the
 * model's configuration, the first and last steps, the token streams and the starting weights (FNV-1a over their bytes;
 * a check against accidents, not an adversary).
 */
public final class RunFingerprint {

    private static final long PRIME = 0x100000001b3L;
    private long h = 0xcbf29ce484222325L;

    private RunFingerprint() {
    }

    public static long of(Object settings, NemotronH model, int startStep, int stopStep, TokenSource... data) {
        RunFingerprint f = new RunFingerprint();
        f.text(settings.toString()).text(model.config().toString()).add(startStep).add(stopStep);
        for (TokenSource d : data) {
            f.add(d.size()).add(d.bytes());
            for (int i = 0; i < d.size(); i++) {
                f.add(d.get(i));
            }
        }
        for (Param p : model.parameters().values()) {
            f.text(p.name());
            NDArray v = p.value();
            for (float x : v.toFloatArray()) {
                f.add(Float.floatToRawIntBits(x));
            }
        }
        return f.h;
    }

    private RunFingerprint text(String s) {
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xff)) * PRIME;
        }
        return this;
    }

    private RunFingerprint add(long x) {
        h = (h ^ x) * PRIME;
        return this;
    }
}
