package dev.workflowworker.api;

import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;

/**
 * An immutable workflow event, as it travels on the stream.
 *
 * <p>The fields mirror the event schema of the Alga PSA Workflow Worker Service, so events it
 * publishes can be consumed here; the project's {@code docs/ARCHITECTURE.md} ("The wire
 * contract") lists them. Wire names (the field names of a Redis stream entry) are given on each component.
 * Optional string fields are {@code null} when absent; on the wire they travel as {@code ''}.
 *
 * @param eventId     wire {@code event_id}: unique id, the idempotency key; never blank
 * @param executionId wire {@code execution_id}: the workflow execution, used as lock key; may be null
 * @param eventName   wire {@code event_name}: human-readable name; may be null
 * @param eventType   wire {@code event_type}: what {@code ActionRuntime} routes on; never blank
 * @param tenant      wire {@code tenant}: tenant id; may be null
 * @param timestamp   wire {@code timestamp} (ISO-8601): when the event was created; never null
 * @param fromState   wire {@code from_state}; may be null
 * @param toState     wire {@code to_state}; may be null
 * @param userId      wire {@code user_id}; may be null
 * @param payload     wire {@code payload_json}: a JSON object; never null, unmodifiable at top level
 * @param headers     wire {@code headers_json}: string map (trace context, source); never null, unmodifiable
 */
public record WorkflowEvent(
        String eventId,
        String executionId,
        String eventName,
        String eventType,
        String tenant,
        Instant timestamp,
        String fromState,
        String toState,
        String userId,
        Map<String, Object> payload,
        Map<String, String> headers) {

    /**
     * Validates and defensively copies the components.
     *
     * @param eventId     the unique id; not blank
     * @param executionId the workflow execution; null or empty when none
     * @param eventName   the human-readable name; null or empty when none
     * @param eventType   the event type; not blank
     * @param tenant      the tenant id; null or empty when none
     * @param timestamp   when the event was created; not null
     * @param fromState   the state before the transition; null or empty when none
     * @param toState     the state after the transition; null or empty when none
     * @param userId      the acting user; null or empty when none
     * @param payload     the payload, copied; null when empty
     * @param headers     the headers, copied; null when none
     * @throws IllegalArgumentException if {@code eventId} or {@code eventType} is blank
     * @throws NullPointerException     if {@code timestamp} is null
     */
    public WorkflowEvent {
        if (eventId == null || eventId.isBlank()) {
            throw new IllegalArgumentException("eventId must not be blank");
        }
        if (eventType == null || eventType.isBlank()) {
            throw new IllegalArgumentException("eventType must not be blank");
        }
        Objects.requireNonNull(timestamp, "timestamp");
        executionId = blankToNull(executionId);
        eventName = blankToNull(eventName);
        tenant = blankToNull(tenant);
        fromState = blankToNull(fromState);
        toState = blankToNull(toState);
        userId = blankToNull(userId);
        // JSON payloads may hold null values, which Map.copyOf rejects.
        payload = payload == null || payload.isEmpty()
                ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(payload));
        headers = headers == null || headers.isEmpty() ? Map.of() : Map.copyOf(headers);
    }

    /**
     * The key this event is locked under: its execution id, or its event id when it has none.
     * Two events with the same lock key are never processed at the same time.
     *
     * @return the lock key, never null
     */
    public String lockKey() {
        return executionId != null ? executionId : eventId;
    }

    /**
     * A deterministic idempotency key for side effects: {@code executionId:eventId}, or the
     * event id alone when there is no execution id. The same event always yields the same key.
     *
     * @return the idempotency key
     */
    public String idempotencyKey() {
        return executionId != null ? executionId + ":" + eventId : eventId;
    }

    /**
     * Starts a builder for an event of the given type, with a random event id and the current time.
     *
     * @param eventType the event type; must not be blank
     * @return a new builder
     */
    public static Builder builder(String eventType) {
        return new Builder().eventType(eventType);
    }

    /**
     * Starts a builder pre-filled with this event's components.
     *
     * @return a new builder
     */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.eventId = eventId;
        b.executionId = executionId;
        b.eventName = eventName;
        b.eventType = eventType;
        b.tenant = tenant;
        b.timestamp = timestamp;
        b.fromState = fromState;
        b.toState = toState;
        b.userId = userId;
        b.payload = payload;
        b.headers = headers;
        return b;
    }

    private static String blankToNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }

    /** Builds {@link WorkflowEvent}s; not thread-safe. */
    public static final class Builder {
        private String eventId;
        private String executionId;
        private String eventName;
        private String eventType;
        private String tenant;
        private Instant timestamp;
        private String fromState;
        private String toState;
        private String userId;
        private Map<String, Object> payload = Map.of();
        private Map<String, String> headers = Map.of();

        private Builder() {
        }

        /**
         * Sets the event id.
         *
         * @param v the event id; a random UUID is used when never set
         * @return this builder
         */
        public Builder eventId(String v) {
            this.eventId = v;
            return this;
        }

        /**
         * Sets the execution id.
         *
         * @param v the execution id (lock key)
         * @return this builder
         */
        public Builder executionId(String v) {
            this.executionId = v;
            return this;
        }

        /**
         * Sets the event name.
         *
         * @param v the event name
         * @return this builder
         */
        public Builder eventName(String v) {
            this.eventName = v;
            return this;
        }

        /**
         * Sets the event type.
         *
         * @param v the event type
         * @return this builder
         */
        public Builder eventType(String v) {
            this.eventType = v;
            return this;
        }

        /**
         * Sets the tenant.
         *
         * @param v the tenant
         * @return this builder
         */
        public Builder tenant(String v) {
            this.tenant = v;
            return this;
        }

        /**
         * Sets the creation time.
         *
         * @param v the creation time; now when never set
         * @return this builder
         */
        public Builder timestamp(Instant v) {
            this.timestamp = v;
            return this;
        }

        /**
         * Sets the state before the transition.
         *
         * @param v the state before the transition
         * @return this builder
         */
        public Builder fromState(String v) {
            this.fromState = v;
            return this;
        }

        /**
         * Sets the state after the transition.
         *
         * @param v the state after the transition
         * @return this builder
         */
        public Builder toState(String v) {
            this.toState = v;
            return this;
        }

        /**
         * Sets the acting user.
         *
         * @param v the acting user
         * @return this builder
         */
        public Builder userId(String v) {
            this.userId = v;
            return this;
        }

        /**
         * Sets the payload.
         *
         * @param v the JSON-object payload
         * @return this builder
         */
        public Builder payload(Map<String, ?> v) {
            this.payload = v == null ? Map.of() : new LinkedHashMap<>(v);
            return this;
        }

        /**
         * Sets the headers.
         *
         * @param v string headers such as trace context
         * @return this builder
         */
        public Builder headers(Map<String, String> v) {
            this.headers = v;
            return this;
        }

        /**
         * Builds the event.
         *
         * @return the event
         * @throws IllegalArgumentException if the event type is blank
         */
        public WorkflowEvent build() {
            return new WorkflowEvent(
                    eventId != null ? eventId : UUID.randomUUID().toString(),
                    executionId, eventName, eventType, tenant,
                    timestamp != null ? timestamp : Instant.now(),
                    fromState, toState, userId, payload, headers);
        }
    }
}
