package dev.workflowworker.api;

/**
 * Observes processing. Callbacks run on the worker's threads and must be fast and thread-safe.
 * A listener that throws is logged and otherwise ignored: it never breaks a worker.
 */
public interface WorkerListener {

    /**
     * Called just before the handler runs for an attempt.
     *
     * @param context the event and its lease
     */
    default void onEventStarted(EventContext context) {
    }

    /**
     * Called once per outcome of a delivery.
     *
     * @param outcome what happened
     */
    default void onOutcome(EventOutcome outcome) {
    }

    /**
     * Called when a worker changes lifecycle state or is replaced by the health monitor.
     *
     * @param workerId the worker
     * @param state    its new state
     */
    default void onWorkerState(String workerId, WorkerState state) {
    }
}
