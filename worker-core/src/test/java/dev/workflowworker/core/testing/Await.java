package dev.workflowworker.core.testing;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Waits for a condition with a deadline, so tests never sleep a guessed time for an outcome and
 * fail with a description instead of hanging. The one wait helper of every module's tests
 * (worker-core's test-jar).
 */
public final class Await {

    private Await() {
    }

    /**
     * Polls {@code condition} every few milliseconds until it holds.
     *
     * @param timeout     the deadline
     * @param condition   the condition
     * @param description what is awaited, for the failure message; read only on failure, so it
     *                    may describe the state seen then
     * @throws AssertionError if the condition does not hold in time
     */
    public static void until(Duration timeout, BooleanSupplier condition, Supplier<String> description) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("timed out after " + timeout.toMillis() + " ms waiting for: "
                        + description.get());
            }
            try {
                Thread.sleep(2);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while waiting for: " + description.get(), e);
            }
        }
    }

    /**
     * Polls {@code condition} every few milliseconds until it holds.
     *
     * @param timeout     the deadline
     * @param condition   the condition
     * @param description what is awaited, for the failure message
     * @throws AssertionError if the condition does not hold in time
     */
    public static void until(Duration timeout, BooleanSupplier condition, String description) {
        until(timeout, condition, () -> description);
    }
}
