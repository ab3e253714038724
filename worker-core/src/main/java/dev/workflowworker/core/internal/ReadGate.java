package dev.workflowworker.core.internal;

/** Whether a worker may read new events: open, paused on request, or closed for good. */
final class ReadGate {

    private final Object monitor = new Object();
    private volatile boolean paused;
    private volatile boolean closed;

    boolean isOpen() {
        return !paused && !closed;
    }

    boolean isClosed() {
        return closed;
    }

    boolean isPaused() {
        return paused;
    }

    void pause(boolean pause) {
        synchronized (monitor) {
            paused = pause;
            monitor.notifyAll();
        }
    }

    void close() {
        synchronized (monitor) {
            closed = true;
            monitor.notifyAll();
        }
    }

    /** Waits while paused, at most {@code maxMillis}; returns early when resumed or closed. */
    void awaitResume(long maxMillis) throws InterruptedException {
        synchronized (monitor) {
            if (paused && !closed) {
                monitor.wait(Math.max(1, maxMillis));
            }
        }
    }

    /** Sleeps up to {@code millis}, returning early when closed. */
    void sleep(long millis) throws InterruptedException {
        synchronized (monitor) {
            if (!closed) {
                monitor.wait(Math.max(1, millis));
            }
        }
    }
}
