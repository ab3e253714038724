package dev.workflowworker.core.testing;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Waits for a condition with a deadline; fails with a description instead of hanging. */
public final class Await {

    private Await() {
    }

    public static void until(Duration timeout, BooleanSupplier condition, Supplier<String> description) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout.toMillis() + " ms waiting for: "
                        + description.get());
            }
            Thread.onSpinWait();
            try {
                Thread.sleep(2);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while waiting for: " + description.get());
            }
        }
    }

    public static void until(Duration timeout, BooleanSupplier condition, String description) {
        until(timeout, condition, () -> description);
    }
}
