package dev.workflowworker.api;

import java.time.Instant;
import java.util.Map;

/**
 * What a handler knows about the event it is processing and the lease it holds.
 *
 * <p>A context is valid only for the duration of one handler call. Long-running handlers should
 * check {@link #isCancelled()} between steps and stop early when it turns true: the lease on the
 * event's lock key was lost (another worker may now hold it) or the service is shutting down.
 */
public interface EventContext {

    /** {@return the event being processed} */
    WorkflowEvent event();

    /** {@return the event's payload, never null} */
    default Map<String, Object> payload() {
        return event().payload();
    }

    /**
     * Converts the payload to a typed value (a record or bean) with the engine's JSON mapper.
     * No polymorphic type handling is applied: the payload is treated as plain data.
     *
     * @param type the target type
     * @param <T>  the target type
     * @return the converted payload
     * @throws PermanentWorkflowException if the payload does not fit the type
     */
    <T> T payloadAs(Class<T> type);

    /** {@return the processing attempt, 1 for the first delivery, incremented by every retry} */
    int attempt();

    /**
     * The fencing token of the lease held on the event's lock key. It strictly increases every
     * time the lock is acquired for that key, so a downstream system can reject writes carrying
     * a token lower than one it has already seen.
     *
     * @return the fencing token
     */
    long fencingToken();

    /**
     * A deterministic key for making side effects idempotent: {@code executionId:eventId}.
     *
     * @return the same key for every delivery of the same event
     */
    default String idempotencyKey() {
        return event().idempotencyKey();
    }

    /** {@return the id of the worker processing the event} */
    String workerId();

    /**
     * {@return true once the lease was lost, the service is shutting down or the deadline passed;
     *     a handler should stop as soon as it can}
     */
    boolean isCancelled();

    /**
     * Throws when {@link #isCancelled()} is true, for handlers that prefer to bail out by exception.
     *
     * @throws CancelledException if the context is cancelled
     */
    default void throwIfCancelled() {
        if (isCancelled()) {
            throw new CancelledException("processing of event " + event().eventId() + " was cancelled");
        }
    }

    /** {@return the instant by which the handler should have finished} */
    Instant deadline();

    /**
     * Thrown by {@link #throwIfCancelled()}. The engine never counts it as a failure of the event
     * when the cancellation came from a lost lease or a shutdown: the event is handed back.
     */
    final class CancelledException extends TransientWorkflowException {
        private static final long serialVersionUID = 1L;

        /**
         * Creates the exception with a detail message.
         *
         * @param message what was cancelled
         */
        public CancelledException(String message) {
            super(message);
        }
    }
}
