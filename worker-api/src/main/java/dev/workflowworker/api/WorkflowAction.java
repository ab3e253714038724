package dev.workflowworker.api;

import java.util.Set;

/**
 * A host's custom action, run for events of the type it is registered under.
 *
 * <p>Actions must be thread-safe and should be idempotent (use
 * {@link EventContext#idempotencyKey()} or {@link EventContext#fencingToken()} for side effects),
 * because delivery is at-least-once.
 */
@FunctionalInterface
public interface WorkflowAction {

    /**
     * Runs the action.
     *
     * @param context the event and its lease
     * @throws Exception any failure; classified like any runtime failure
     */
    void execute(EventContext context) throws Exception;

    /**
     * Payload fields that must be present (and not null) before the action runs. A missing field
     * is a permanent error naming the field, so the event is dead-lettered without running.
     *
     * @return the required top-level payload field names; empty by default
     */
    default Set<String> requiredFields() {
        return Set.of();
    }
}
