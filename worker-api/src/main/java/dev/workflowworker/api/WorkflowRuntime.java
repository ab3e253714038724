package dev.workflowworker.api;

/**
 * The SPI a host implements to plug its own workflow engine into the workers.
 *
 * <p>The engine calls {@link #process} once per delivery while holding the lock for the event's
 * lock key. Returning normally means success: the event is acknowledged and marked processed.
 * Throwing means failure; the exception is classified (see {@link ErrorClassifier}) to decide
 * between an immediate retry, a delayed retry and the dead-letter stream.
 *
 * <p>Implementations must be thread-safe: many events are processed concurrently.
 */
@FunctionalInterface
public interface WorkflowRuntime {

    /**
     * Processes one event.
     *
     * @param context the event and its lease
     * @throws Exception any failure; see the class documentation for how it is handled
     */
    void process(EventContext context) throws Exception;
}
