package org.nestlm;

import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.nestlm.util.DjlRuntime;

/**
 * Base of tests that compute with DJL: telemetry off before any DJL class loads, and one NDManager per test class
 * (opened before the subclass's {@code @BeforeAll}, closed after its {@code @AfterAll}).
 */
public abstract class DjlTestBase {

    static {
        DjlRuntime.configure();
    }

    protected static NDManager manager;

    @BeforeAll
    static void openDjlManager() {
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    static void closeDjlManager() {
        manager.close();
    }
}
