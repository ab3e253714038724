package dev.workflowworker.api.spi;

import dev.workflowworker.api.WorkflowEvent;

import java.util.Map;
import java.util.Objects;

/**
 * One delivery of a stream entry to a consumer. A delivery stays pending (invisible to other
 * consumers) until its consumer completes, reschedules, dead-letters or releases it, or until it
 * is claimed as stalled.
 *
 * @param id          the transport's id of the entry (a stream entry id on Redis)
 * @param event       the decoded event, or null when the entry could not be decoded
 * @param attempt     the processing attempt this delivery is for, starting at 1
 * @param fields      the raw wire fields of the entry, kept for the dead-letter record; may be empty
 * @param decodeError why the entry could not be decoded, or null when {@code event} is present
 */
public record Delivery(String id, WorkflowEvent event, int attempt, Map<String, String> fields, String decodeError) {

    /**
     * Validates the components.
     *
     * @param id          the transport's id of the entry (a stream entry id on Redis)
     * @param event       the decoded event, or null when the entry could not be decoded
     * @param attempt     the processing attempt this delivery is for, starting at 1
     * @param fields      the raw wire fields of the entry, kept for the dead-letter record; null or
     *                    empty when the transport has none
     * @param decodeError why the entry could not be decoded, or null when {@code event} is present
     * @throws IllegalArgumentException if neither or both of {@code event} and {@code decodeError}
     *     are given, or {@code attempt} is below 1
     */
    public Delivery {
        Objects.requireNonNull(id, "id");
        if ((event == null) == (decodeError == null)) {
            throw new IllegalArgumentException("exactly one of event and decodeError must be set");
        }
        if (attempt < 1) {
            throw new IllegalArgumentException("attempt must be >= 1: " + attempt);
        }
        fields = fields == null ? Map.of() : fields;
    }

    /**
     * A delivery of a well-formed event.
     *
     * @param id      the entry id
     * @param event   the event
     * @param attempt the attempt, from 1
     * @param fields  the raw fields, or an empty map
     * @return the delivery
     */
    public static Delivery of(String id, WorkflowEvent event, int attempt, Map<String, String> fields) {
        return new Delivery(id, event, attempt, fields, null);
    }

    /**
     * A delivery of an entry that could not be decoded; it is dead-lettered with {@code reason}.
     *
     * @param id      the entry id
     * @param fields  the raw fields
     * @param attempt the attempt, from 1
     * @param reason  a precise reason, stored as the dead letter's {@code error_message}
     * @return the delivery
     */
    public static Delivery malformed(String id, Map<String, String> fields, int attempt, String reason) {
        return new Delivery(id, null, attempt, fields, Objects.requireNonNull(reason, "reason"));
    }

    /** {@return true when the entry could not be decoded} */
    public boolean isMalformed() {
        return event == null;
    }

    /**
     * {@return the event id, from the event or the raw {@code event_id} field, or null if neither}
     */
    public String eventId() {
        return event != null ? event.eventId() : fields.get("event_id");
    }
}
