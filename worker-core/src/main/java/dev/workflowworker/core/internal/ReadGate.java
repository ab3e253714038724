package dev.workflowworker.core.internal;

import dev.workflowworker.api.WorkerState;

/**
 * Whether a worker may read new events, as its lifecycle state says: open when running, paused,
 * or closed in every other state. It keeps no state of its own, so a worker cannot read while its
 * state says otherwise.
 */
final class ReadGate {

    private final Lifecycle<WorkerState> state;

    ReadGate(Lifecycle<WorkerState> state) {
        this.state = state;
    }

    boolean isOpen() {
        return state.get() == WorkerState.RUNNING;
    }

    boolean isClosed() {
        return !state.get().isLive();
    }

    boolean isPaused() {
        return state.get() == WorkerState.PAUSED;
    }

    /** Waits while paused, at most {@code maxMillis}; returns early when resumed or closed. */
    void awaitResume(long maxMillis) throws InterruptedException {
        state.awaitWhile(s -> s == WorkerState.PAUSED, maxMillis);
    }

    /** Sleeps up to {@code millis}, returning early when closed. */
    void sleep(long millis) throws InterruptedException {
        state.awaitWhile(WorkerState::isLive, millis);
    }
}
