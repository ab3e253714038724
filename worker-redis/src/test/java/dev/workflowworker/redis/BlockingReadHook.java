package dev.workflowworker.redis;

import dev.workflowworker.redis.internal.partitioned.PartitionProbe;

import java.util.concurrent.atomic.AtomicReference;

/**
 * A probe that runs an armed action once, on the reader's thread, when the reader has looked for
 * wakes for the last time and has not sent its blocking XREAD yet.
 */
final class BlockingReadHook implements PartitionProbe {

    private final AtomicReference<Runnable> armed = new AtomicReference<>();

    /** Runs {@code action} before the reader's next blocking XREAD. */
    void arm(Runnable action) {
        armed.set(action);
    }

    /** {@return whether the armed action has run} */
    boolean ran() {
        return armed.get() == null;
    }

    @Override
    public void beforeBlockingRead() {
        Runnable r = armed.getAndSet(null);
        if (r != null) {
            r.run();
        }
    }
}
