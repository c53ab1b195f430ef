package org.nestlm.serve;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The HTTP server's process-wide limits: set by default, a value given before is kept, nonsense refused. */
class ServerLimitsTest {

    @Test
    void defaultsAreSetUnlessGivenBefore() {
        String t = System.getProperty(ServerLimits.REQUEST_TIMEOUT_PROPERTY), c = System.getProperty(ServerLimits.MAX_CONNECTIONS_PROPERTY);
        try {
            System.clearProperty(ServerLimits.REQUEST_TIMEOUT_PROPERTY);
            System.setProperty(ServerLimits.MAX_CONNECTIONS_PROPERTY, "7");
            ServerLimits.apply();
            assertEquals(Integer.toString(ServerLimits.DEFAULT_REQUEST_TIMEOUT_SECONDS), System.getProperty(ServerLimits.REQUEST_TIMEOUT_PROPERTY));
            assertEquals("7", System.getProperty(ServerLimits.MAX_CONNECTIONS_PROPERTY));
            assertThrows(IllegalArgumentException.class, () -> ServerLimits.configure(0, 10));
            assertThrows(IllegalArgumentException.class, () -> ServerLimits.configure(10, 0));
        } finally {
            restore(ServerLimits.REQUEST_TIMEOUT_PROPERTY, t);
            restore(ServerLimits.MAX_CONNECTIONS_PROPERTY, c);
        }
    }

    private static void restore(String key, String value) {
        if (value == null) {
            System.clearProperty(key);
        } else {
            System.setProperty(key, value);
        }
    }
}
