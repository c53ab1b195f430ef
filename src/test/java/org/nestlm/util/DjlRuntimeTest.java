package org.nestlm.util;

import ai.djl.engine.Engine;
import org.nestlm.model.Tensors;
import ai.djl.ndarray.NDManager;
import ai.djl.util.Utils;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The DJL engine starts with telemetry off: no call home to 169.254.169.254, no tracking. */
class DjlRuntimeTest {

    static {
        DjlRuntime.configure();
    }

    @Test
    void configureSetsOfflineAndOptOutProperties() {
        DjlRuntime.configure();
        assertEquals("true", System.getProperty("ai.djl.offline"));
        assertEquals("true", System.getProperty("OPT_OUT_TRACKING"));
    }

    @Test
    void engineStartsOfflineWithTrackingOptedOut() {
        // Exactly the two switches DJL's Ec2Utils.callHome consults before any network request.
        assertTrue(Utils.isOfflineMode(), "DJL offline mode must be on in every JVM");
        assertTrue(Boolean.parseBoolean(Utils.getEnvOrSystemProperty("OPT_OUT_TRACKING")), "tracking opt-out must be on");
        Engine engine = Engine.getInstance();
        assertEquals("PyTorch", engine.getEngineName());
        try (NDManager m = NDManager.newBaseManager()) {
            assertEquals(6f, Tensors.of(m, new float[] {1, 2, 3}).sum().getFloat());
        }
    }
}
