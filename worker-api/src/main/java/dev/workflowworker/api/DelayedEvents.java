package dev.workflowworker.api;

import java.time.Duration;
import java.time.Instant;

/**
 * Events published now to be processed later: each waits outside the stream until its due time,
 * then joins its execution's order behind the events already there, as if published at that
 * moment. Until then it can be cancelled or moved, by event id. Due times are read on the
 * transport's clock (Redis {@code TIME} on Redis), not the publisher's.
 *
 * <p>The event gets a {@value #DUE_AT_HEADER} header with its due time (as moved by
 * {@link #reschedule}). A delayed event is stored as durably as the stream's entries and survives restarts of the
 * workers. Publishing an event id that is already waiting changes nothing and answers the same id,
 * so a producer may retry a publish whose answer it lost.
 */
public interface DelayedEvents {

    /**
     * The header a delayed event (and a schedule's occurrence) carries with its due time, as an
     * ISO-8601 instant, so that how late it started can be measured wherever it runs.
     */
    String DUE_AT_HEADER = "due-at";

    /**
     * Publishes {@code event} to be processed at {@code dueAt}; a due time in the past means now.
     *
     * @param event the event; its id is how it is cancelled or moved
     * @param dueAt when it is due
     * @return the event's id
     * @throws IllegalArgumentException if the event is over the payload limit, or {@code dueAt}
     *                                  is after 9999-12-31T23:59:59.999Z
     */
    String publishAt(WorkflowEvent event, Instant dueAt);

    /**
     * Publishes {@code event} to be processed {@code delay} from now, on the transport's clock.
     *
     * @param event the event
     * @param delay how long it waits; zero or negative means now
     * @return the event's id
     * @throws IllegalArgumentException if the event is over the payload limit, or the delay
     *                                  reaches past 9999-12-31T23:59:59.999Z
     */
    String publishAfter(WorkflowEvent event, Duration delay);

    /**
     * Cancels a waiting event.
     *
     * @param eventId the event's id
     * @return true if it was still waiting and now never runs; false if it was already due (and
     *     moved into the stream) or unknown
     */
    boolean cancel(String eventId);

    /**
     * Moves a waiting event to another due time; a due time in the past means now.
     *
     * @param eventId the event's id
     * @param dueAt   its new due time
     * @return true if it was still waiting; false if it was already due or unknown
     */
    boolean reschedule(String eventId, Instant dueAt);

    /** {@return how many events are waiting for their due time} */
    long waiting();
}
