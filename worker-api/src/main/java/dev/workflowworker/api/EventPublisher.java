package dev.workflowworker.api;

import java.util.ArrayList;
import java.util.List;

/** Publishes events onto the stream the workers consume. Thread-safe. */
public interface EventPublisher {

    /**
     * Publishes one event.
     *
     * @param event the event
     * @return the transport's id of the new entry
     * @throws IllegalArgumentException if the event exceeds the transport's size limit
     * @throws IllegalStateException    if the transport is closed or unreachable
     */
    String publish(WorkflowEvent event);

    /**
     * Publishes several events; transports may batch the round trips.
     *
     * <p>Not all-or-nothing: when it throws, some of the events may have been published already
     * (those before the failure, or on a store of several nodes those of the nodes that
     * answered). A transport that knows which says so in its exception; publishing the events
     * again may publish some twice; a transport recognises a second copy by its event id for as
     * long as it remembers the first (a bounded window of completions: see the transport's docs).
     *
     * @param events the events, in order
     * @return the ids of the new entries, in the same order
     * @throws RuntimeException if the transport is closed ({@link IllegalStateException}) or
     *     unreachable (a {@link TransientWorkflowException})
     */
    default List<String> publishAll(List<WorkflowEvent> events) {
        List<String> ids = new ArrayList<>(events.size());
        for (WorkflowEvent event : events) {
            ids.add(publish(event));
        }
        return ids;
    }
}
