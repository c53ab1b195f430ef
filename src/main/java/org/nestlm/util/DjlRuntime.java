package org.nestlm.util;

/**
 * Process-wide settings that must be in place before any DJL class loads: DJL's offline mode and tracking
 * opt-out (otherwise engine start-up and every tokenizer creation call home to 169.254.169.254), and a
 * thread count for libtorch that does not oversubscribe small machines.
 */
public final class DjlRuntime {

    private DjlRuntime() {
    }

    /** Idempotent; call first thing in every entry point (CLI main, test bases). */
    public static void configure() {
        System.setProperty("ai.djl.offline", "true");
        System.setProperty("offline", "true");
        System.setProperty("OPT_OUT_TRACKING", "true");
        int cores = Runtime.getRuntime().availableProcessors();
        if (System.getProperty("ai.djl.pytorch.num_threads") == null) {
            System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(cores));
        }
        if (System.getProperty("ai.djl.pytorch.num_interop_threads") == null) {
            System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
        }
    }
}
