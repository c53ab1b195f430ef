package org.nestlm.serve;

import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.fail;

/** Bounded polling for server tests: a state another thread reaches, never a timed assertion on speed. */
final class Awaits {

    private Awaits() {
    }

    /** Polls {@code condition} until it holds; fails naming {@code what} after 30 s. */
    static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting until " + what);
            }
            Thread.sleep(2);
        }
    }
}
