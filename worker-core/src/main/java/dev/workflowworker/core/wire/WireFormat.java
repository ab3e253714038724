package dev.workflowworker.core.wire;

import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.internal.WireCodec;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The fields of a stream entry that carries one {@link WorkflowEvent}, and the codec between the
 * two. Instances are immutable and thread-safe; they differ only in their payload limit.
 *
 * <h2>Fields</h2>
 * An entry is a flat map of string names to string values (a Redis stream entry, for instance).
 * {@link #encode encode} writes the fields of {@link #EVENT_FIELDS}, in that order, then
 * {@link #ATTEMPT} when the attempt is above 1:
 * <table class="striped">
 * <caption>Event fields</caption>
 * <thead><tr><th>field</th><th>value</th><th>when absent or {@code ''}</th></tr></thead>
 * <tbody>
 * <tr><td>{@value #EVENT_ID}</td><td>the event id, the idempotency key</td><td>malformed</td></tr>
 * <tr><td>{@value #EXECUTION_ID}</td><td>the workflow execution, the lock key</td><td>null</td></tr>
 * <tr><td>{@value #EVENT_NAME}</td><td>a human-readable name</td><td>null</td></tr>
 * <tr><td>{@value #EVENT_TYPE}</td><td>what handlers are routed on</td><td>malformed</td></tr>
 * <tr><td>{@value #TENANT}</td><td>the tenant id</td><td>null</td></tr>
 * <tr><td>{@value #TIMESTAMP}</td><td>ISO-8601; written in UTC as {@link java.time.Instant#toString()}
 *     does, read with any offset</td><td>the time of decoding</td></tr>
 * <tr><td>{@value #FROM_STATE}</td><td>the state the execution leaves</td><td>null</td></tr>
 * <tr><td>{@value #TO_STATE}</td><td>the state the execution enters</td><td>null</td></tr>
 * <tr><td>{@value #USER_ID}</td><td>the user who caused the event</td><td>null</td></tr>
 * <tr><td>{@value #PAYLOAD_JSON}</td><td>a JSON object; {@code {}} when the payload is empty</td>
 *     <td>an empty payload</td></tr>
 * <tr><td>{@value #HEADERS_JSON}</td><td>a JSON object of string values; {@code ''} when there are no
 *     headers</td><td>no headers</td></tr>
 * <tr><td>{@value #ATTEMPT}</td><td>a positive decimal integer: the attempt a scheduled retry is
 *     for; not written for the first</td><td>attempt 1</td></tr>
 * <tr><td>{@value #DUE_AT}</td><td>for producers writing entries themselves: when the event is due,
 *     as decimal epoch milliseconds or an ISO-8601 instant, from 1970 to year 9999 (see
 *     {@link #dueAtMillis}); never written by {@link #encode encode}. Outside that range or
 *     unreadable: malformed</td><td>due at once</td></tr>
 * </tbody>
 * </table>
 *
 * <p><b>Absent optional fields</b> are written as the empty string {@code ''}, as the seed system
 * wrote them, never left out; on reading, a missing field and {@code ''} mean the same. The
 * exceptions are {@link #ATTEMPT}, which only a retry writes, and {@link #DUE_AT}, which only a
 * foreign producer writes. Fields not named here are ignored by {@link #decode decode} and kept,
 * with all others, in {@link Delivery#fields()}, so a transport that re-publishes an entry can
 * keep what a foreign producer added.
 *
 * <h2>Limits</h2>
 * <ul>
 * <li>{@value #PAYLOAD_JSON} and {@value #HEADERS_JSON} may each be at most
 *     {@link #maxPayloadBytes()} long, counted in UTF-8 bytes ({@value #DEFAULT_MAX_PAYLOAD_BYTES}
 *     unless {@link #withMaxPayloadBytes(int) chosen}). Encoding refuses a larger one; decoding
 *     reports it as malformed. Encoder and decoder apply the same rule, so what one side writes the
 *     other side with the same limit reads.</li>
 * <li>JSON may nest at most {@value #MAX_NESTING_DEPTH} levels deep.</li>
 * <li>JSON objects with a duplicate key, trailing content or non-numeric numbers ({@code NaN}) are
 *     malformed. The JSON is read as plain data: type hints such as {@code "@class"} have no
 *     effect.</li>
 * </ul>
 *
 * <h2>Errors</h2>
 * {@link #encode encode} throws {@link IllegalArgumentException} for an event it cannot write:
 * nothing is written then. {@link #decode decode} never throws: an entry that is not a valid event
 * becomes a {@linkplain Delivery#malformed malformed delivery} whose
 * {@link Delivery#decodeError() decodeError} names the offending field in one line of at most a
 * few hundred characters (for example {@code missing required field 'event_id'} or
 * {@code invalid field 'payload_json': ...}). A transport is expected to dead-letter such a delivery
 * with that reason as its {@link DeadLetterFormat#ERROR_MESSAGE error_message} rather than drop it
 * or retry it.
 *
 * @see DeadLetterFormat
 */
public final class WireFormat {

    /** Required: the unique event id, the idempotency key. */
    public static final String EVENT_ID = "event_id";
    /** Optional: the workflow execution the event belongs to, the lock key. */
    public static final String EXECUTION_ID = "execution_id";
    /** Optional: a human-readable event name. */
    public static final String EVENT_NAME = "event_name";
    /** Required: the event type that handlers are routed on. */
    public static final String EVENT_TYPE = "event_type";
    /** Optional: the tenant id. */
    public static final String TENANT = "tenant";
    /** Optional: when the event was created, ISO-8601. */
    public static final String TIMESTAMP = "timestamp";
    /** Optional: the state the execution leaves. */
    public static final String FROM_STATE = "from_state";
    /** Optional: the state the execution enters. */
    public static final String TO_STATE = "to_state";
    /** Optional: the user who caused the event. */
    public static final String USER_ID = "user_id";
    /** Optional: the payload, a JSON object. */
    public static final String PAYLOAD_JSON = "payload_json";
    /** Optional: the headers (trace context, source), a JSON object of strings. */
    public static final String HEADERS_JSON = "headers_json";
    /**
     * Optional, this library's addition to the seed format: the attempt number of a redelivery
     * scheduled by a retry. Absent on the first delivery.
     */
    public static final String ATTEMPT = "attempt";
    /**
     * Optional, this library's addition to the seed format: when an event written to a
     * partitioned stream's single stream is due. The partitioned router keeps such an event in its
     * partition's delayed store until then, as {@code DelayedEvents.publishAt} does; a decoder only
     * checks that the value is readable (see {@link #dueAtMillis}).
     */
    public static final String DUE_AT = "due_at";

    /** The fields every encoded entry has, in the order {@link #encode encode} writes them. */
    public static final List<String> EVENT_FIELDS = List.of(EVENT_ID, EXECUTION_ID, EVENT_NAME, EVENT_TYPE, TENANT,
            TIMESTAMP, FROM_STATE, TO_STATE, USER_ID, PAYLOAD_JSON, HEADERS_JSON);

    /** The payload limit of {@link #defaults()}, in UTF-8 bytes: 1 MiB. */
    public static final int DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;
    /** How deep JSON in {@value #PAYLOAD_JSON} and {@value #HEADERS_JSON} may nest. */
    public static final int MAX_NESTING_DEPTH = 200;

    private static final WireFormat DEFAULTS = new WireFormat(DEFAULT_MAX_PAYLOAD_BYTES);

    private final WireCodec codec;

    private WireFormat(int maxPayloadBytes) {
        this.codec = new WireCodec(maxPayloadBytes);
    }

    /**
     * The format with the default payload limit of {@value #DEFAULT_MAX_PAYLOAD_BYTES} bytes.
     *
     * @return the shared instance
     */
    public static WireFormat defaults() {
        return DEFAULTS;
    }

    /**
     * The format with another payload limit. Producers and consumers of one stream should agree on
     * it: a consumer reports an entry over its own limit as malformed.
     *
     * @param maxPayloadBytes the largest {@value #PAYLOAD_JSON} and {@value #HEADERS_JSON}, in UTF-8
     *                        bytes; at least 1
     * @return the format
     * @throws IllegalArgumentException if {@code maxPayloadBytes} is below 1
     */
    public static WireFormat withMaxPayloadBytes(int maxPayloadBytes) {
        return maxPayloadBytes == DEFAULT_MAX_PAYLOAD_BYTES ? DEFAULTS : new WireFormat(maxPayloadBytes);
    }

    /**
     * The size limit of {@value #PAYLOAD_JSON} and of {@value #HEADERS_JSON}.
     *
     * @return the limit in UTF-8 bytes
     */
    public int maxPayloadBytes() {
        return codec.maxPayloadBytes();
    }

    /**
     * Encodes an event as the fields of one entry.
     *
     * @param event   the event
     * @param attempt the attempt the entry is for, from 1; {@value #ATTEMPT} is written only above 1
     * @return the fields, in a stable order: those of {@link #EVENT_FIELDS}, then {@value #ATTEMPT}
     *     if written; a new mutable map
     * @throws IllegalArgumentException if the payload or the headers are over {@link #maxPayloadBytes()},
     *     the payload cannot be written as JSON, or {@code attempt} is below 1
     * @throws NullPointerException     if {@code event} is null
     */
    public Map<String, String> encode(WorkflowEvent event, int attempt) {
        Objects.requireNonNull(event, "event");
        if (attempt < 1) {
            throw new IllegalArgumentException("attempt must be >= 1: " + attempt);
        }
        return codec.encode(event, attempt);
    }

    /**
     * Decodes the fields of one entry. Never throws for any content of {@code fields}.
     *
     * @param id     the transport's id of the entry, carried into the delivery
     * @param fields the fields as read; kept as the delivery's {@link Delivery#fields() fields}
     * @return a delivery of the event with the attempt of {@value #ATTEMPT} (1 when absent), or, when
     *     the entry is not a valid event, a {@linkplain Delivery#malformed malformed delivery} whose
     *     {@link Delivery#decodeError() decodeError} says why
     * @throws NullPointerException if {@code id} or {@code fields} is null
     */
    public Delivery decode(String id, Map<String, String> fields) {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(fields, "fields");
        return codec.decode(id, fields);
    }

    /**
     * Reads a {@value #DUE_AT} value: decimal epoch milliseconds ({@code 1767225600000}) or an
     * ISO-8601 instant ({@code 2026-01-01T00:00:00Z}, any offset), from 1970 to
     * 9999-12-31T23:59:59.999Z, the range the fixed-width {@code due-at} header holds.
     *
     * @param value the field's value
     * @return epoch milliseconds, or -1 when {@code value} is null or {@code ''} (no due time)
     * @throws IllegalArgumentException if the value is unreadable, negative, before 1970 or after
     *     year 9999; the message is the reason {@link #decode decode} gives such an entry
     */
    public static long dueAtMillis(String value) {
        return WireCodec.dueAtMillis(value);
    }

    @Override
    public String toString() {
        return "WireFormat[maxPayloadBytes=" + maxPayloadBytes() + "]";
    }
}
