package dev.workflowworker.core.internal;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.wire.WireFormat;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Map;

import static dev.workflowworker.core.wire.WireFormat.ATTEMPT;
import static dev.workflowworker.core.wire.WireFormat.DUE_AT;
import static dev.workflowworker.core.wire.WireFormat.EVENT_ID;
import static dev.workflowworker.core.wire.WireFormat.EVENT_NAME;
import static dev.workflowworker.core.wire.WireFormat.EVENT_TYPE;
import static dev.workflowworker.core.wire.WireFormat.EXECUTION_ID;
import static dev.workflowworker.core.wire.WireFormat.FROM_STATE;
import static dev.workflowworker.core.wire.WireFormat.HEADERS_JSON;
import static dev.workflowworker.core.wire.WireFormat.MAX_NESTING_DEPTH;
import static dev.workflowworker.core.wire.WireFormat.PAYLOAD_JSON;
import static dev.workflowworker.core.wire.WireFormat.TENANT;
import static dev.workflowworker.core.wire.WireFormat.TIMESTAMP;
import static dev.workflowworker.core.wire.WireFormat.TO_STATE;
import static dev.workflowworker.core.wire.WireFormat.USER_ID;

/**
 * The implementation of {@link WireFormat}: see there for the contract. Kept apart so the public
 * type carries only what a transport needs, and the hand-tuned parsing here can change freely.
 *
 * <p>The JSON mapper has no default typing, so type hints such as {@code "@class"} in a payload
 * are plain data.
 */
public final class WireCodec {

    /** The latest due time the fixed-width {@code due-at} header holds: 9999-12-31T23:59:59.999Z. */
    public static final long LATEST_DUE_MILLIS = 253_402_300_799_999L;
    private static final TypeReference<LinkedHashMap<String, Object>> MAP = new TypeReference<>() { };
    private static final ObjectMapper MAPPER = newMapper();
    /** Resolved once: looking the type up on every read showed in profiles. */
    private static final com.fasterxml.jackson.databind.ObjectReader MAP_READER = MAPPER.readerFor(MAP);

    private final int maxPayloadBytes;

    /** @param maxPayloadBytes the largest accepted {@code payload_json}, in UTF-8 bytes */
    public WireCodec(int maxPayloadBytes) {
        if (maxPayloadBytes < 1) {
            throw new IllegalArgumentException("maxPayloadBytes must be >= 1: " + maxPayloadBytes);
        }
        this.maxPayloadBytes = maxPayloadBytes;
    }

    /** @return the mapper of payloads: no default typing, bounded nesting, strict duplicate detection */
    static ObjectMapper mapper() {
        return MAPPER;
    }

    private static ObjectMapper newMapper() {
        JsonMapper mapper = JsonMapper.builder()
                .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
                .disable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
                .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                // "{} trailing" is not a JSON object; Jackson accepts it unless told otherwise.
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .build();
        mapper.getFactory().setStreamReadConstraints(StreamReadConstraints.builder()
                .maxNestingDepth(MAX_NESTING_DEPTH)
                .build());
        return mapper;
    }

    /** @return the payload limit in bytes */
    public int maxPayloadBytes() {
        return maxPayloadBytes;
    }

    /**
     * Encodes an event for the stream.
     *
     * @param event   the event
     * @param attempt the attempt the entry is for; written only when above 1
     * @return the wire fields, in a stable order
     * @throws IllegalArgumentException if the payload or headers exceed the size limit or the payload
     *     is not serialisable
     */
    public Map<String, String> encode(WorkflowEvent event, int attempt) {
        Map<String, String> f = new LinkedHashMap<>(16);
        f.put(EVENT_ID, event.eventId());
        f.put(EXECUTION_ID, orEmpty(event.executionId()));
        f.put(EVENT_NAME, orEmpty(event.eventName()));
        f.put(EVENT_TYPE, event.eventType());
        f.put(TENANT, orEmpty(event.tenant()));
        f.put(TIMESTAMP, event.timestamp().toString());
        f.put(FROM_STATE, orEmpty(event.fromState()));
        f.put(TO_STATE, orEmpty(event.toState()));
        f.put(USER_ID, orEmpty(event.userId()));
        String payload = toJson(event.payload(), "payload");
        int size = utf8Length(payload);
        if (size > maxPayloadBytes) {
            throw new IllegalArgumentException("event " + event.eventId() + ": payload_json is " + size
                    + " bytes, over the limit of " + maxPayloadBytes + " bytes");
        }
        f.put(PAYLOAD_JSON, payload);
        String headers = event.headers().isEmpty() ? "" : toJson(event.headers(), "headers");
        // Refused here rather than dead-lettered by every reader: decode applies the same limit.
        int headersSize = utf8Length(headers);
        if (headersSize > maxPayloadBytes) {
            throw new IllegalArgumentException("event " + event.eventId() + ": headers_json is " + headersSize
                    + " bytes, over the limit of " + maxPayloadBytes + " bytes");
        }
        f.put(HEADERS_JSON, headers);
        if (attempt > 1) {
            f.put(ATTEMPT, Integer.toString(attempt));
        }
        return f;
    }

    /**
     * Decodes a stream entry. Never throws.
     *
     * @param id     the entry id
     * @param fields the wire fields
     * @return a delivery of the event, or a malformed delivery with a precise reason
     */
    public Delivery decode(String id, Map<String, String> fields) {
        int attempt = 1;
        String attemptText = fields.get(ATTEMPT);
        if (attemptText != null && !attemptText.isEmpty()) {
            try {
                attempt = Integer.parseInt(attemptText);
            } catch (NumberFormatException e) {
                attempt = 0;
            }
            if (attempt < 1) {
                return Delivery.malformed(id, fields, 1,
                        "invalid field 'attempt': expected a positive integer, got '" + clip(attemptText) + "'");
            }
        }
        try {
            return Delivery.of(id, decodeEvent(fields), attempt, fields);
        } catch (MalformedEntryException e) {
            return Delivery.malformed(id, fields, attempt, e.getMessage());
        }
    }

    private WorkflowEvent decodeEvent(Map<String, String> f) throws MalformedEntryException {
        String eventId = required(f, EVENT_ID);
        String eventType = required(f, EVENT_TYPE);
        Instant timestamp = timestamp(f.get(TIMESTAMP));
        Map<String, Object> payload = payload(f.get(PAYLOAD_JSON));
        Map<String, String> headers = headers(f.get(HEADERS_JSON));
        String due = f.get(DUE_AT);
        if (due != null && !due.isEmpty()) {
            // Read by the partitioned router, which routes an entry it cannot read at once: the
            // reader dead-letters it rather than run a delayed event early.
            dueAt(due);
        }
        return new WorkflowEvent(eventId, f.get(EXECUTION_ID), f.get(EVENT_NAME), eventType, f.get(TENANT),
                timestamp, f.get(FROM_STATE), f.get(TO_STATE), f.get(USER_ID), payload, headers);
    }

    private static String required(Map<String, String> f, String name) throws MalformedEntryException {
        String v = f.get(name);
        if (v == null) {
            throw new MalformedEntryException("missing required field '" + name + "'");
        }
        if (v.isBlank()) {
            throw new MalformedEntryException("required field '" + name + "' is empty");
        }
        return v;
    }

    private static Instant timestamp(String text) throws MalformedEntryException {
        // Hand-written entries may omit it; the event then dates from when it was read.
        if (text == null || text.isEmpty()) {
            return Instant.now();
        }
        Instant fast = fastUtcInstant(text);
        if (fast != null) {
            return fast;
        }
        try {
            return Instant.parse(text);
        } catch (DateTimeParseException e) {
            try {
                return OffsetDateTime.parse(text).toInstant();
            } catch (DateTimeParseException e2) {
                throw new MalformedEntryException(
                        "invalid field 'timestamp': expected ISO-8601, got '" + clip(text) + "'");
            }
        }
    }

    /**
     * Reads a {@code due_at} value: decimal epoch milliseconds or an ISO-8601 instant, within years
     * 1970 to 9999 (what the fixed-width {@code due-at} header holds).
     *
     * @param text the value
     * @return epoch milliseconds, or -1 when {@code text} is null or empty (no due time)
     * @throws IllegalArgumentException naming the field and why, as a dead letter's reason
     */
    public static long dueAtMillis(String text) {
        if (text == null || text.isEmpty()) {
            return -1;
        }
        try {
            return dueAt(text);
        } catch (MalformedEntryException e) {
            throw new IllegalArgumentException(e.getMessage());
        }
    }

    private static long dueAt(String text) throws MalformedEntryException {
        long ms;
        if (isInteger(text)) {
            try {
                ms = Long.parseLong(text);
            } catch (NumberFormatException e) {
                ms = text.charAt(0) == '-' ? -1 : Long.MAX_VALUE;
            }
            if (ms < 0) {
                throw new MalformedEntryException("invalid field 'due_at': '" + clip(text)
                        + "' is negative; epoch milliseconds from 0 (1970) are due times");
            }
        } else {
            Instant at = fastUtcInstant(text);
            if (at == null) {
                try {
                    at = Instant.parse(text);
                } catch (DateTimeParseException e) {
                    try {
                        at = OffsetDateTime.parse(text).toInstant();
                    } catch (DateTimeParseException e2) {
                        throw new MalformedEntryException("invalid field 'due_at': expected epoch milliseconds or an "
                                + "ISO-8601 instant, got '" + clip(text) + "'");
                    }
                }
            }
            if (at.isBefore(Instant.EPOCH)) {
                throw new MalformedEntryException("invalid field 'due_at': '" + clip(text) + "' is before 1970");
            }
            ms = at.isAfter(Instant.ofEpochMilli(LATEST_DUE_MILLIS)) ? Long.MAX_VALUE : at.toEpochMilli();
        }
        if (ms > LATEST_DUE_MILLIS) {
            throw new MalformedEntryException("invalid field 'due_at': '" + clip(text)
                    + "' is after year 9999 (" + LATEST_DUE_MILLIS + " is the latest)");
        }
        return ms;
    }

    /** @return whether {@code t} is an optional minus sign and at least one ASCII digit */
    private static boolean isInteger(String t) {
        int from = t.charAt(0) == '-' ? 1 : 0;
        if (from == t.length()) {
            return false;
        }
        for (int i = from; i < t.length(); i++) {
            char c = t.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return true;
    }

    /**
     * The common shape {@code yyyy-MM-ddTHH:mm:ss[.fraction]Z} parsed by hand: the general parser
     * showed in profiles. Anything else (offsets, odd widths, out-of-range fields) returns null and
     * goes to the general parser, which also produces the error message.
     */
    static Instant fastUtcInstant(String t) {
        int n = t.length();
        if (n < 20 || n > 30 || t.charAt(4) != '-' || t.charAt(7) != '-' || t.charAt(10) != 'T'
                || t.charAt(13) != ':' || t.charAt(16) != ':' || t.charAt(n - 1) != 'Z') {
            return null;
        }
        int year = digits(t, 0, 4);
        int month = digits(t, 5, 2);
        int day = digits(t, 8, 2);
        int hour = digits(t, 11, 2);
        int minute = digits(t, 14, 2);
        int second = digits(t, 17, 2);
        if ((year | month | day | hour | minute | second) < 0 || month < 1 || month > 12 || day < 1
                || day > java.time.YearMonth.of(year, month).lengthOfMonth() || hour > 23 || minute > 59
                || second > 59) {
            return null;
        }
        int nanos = 0;
        if (n > 20) {
            int fracLen = n - 21;
            if (t.charAt(19) != '.' || fracLen < 1 || fracLen > 9) {
                return null;
            }
            int frac = digits(t, 20, fracLen);
            if (frac < 0) {
                return null;
            }
            nanos = frac;
            for (int i = fracLen; i < 9; i++) {
                nanos *= 10;
            }
        }
        long days = java.time.LocalDate.of(year, month, day).toEpochDay();
        return Instant.ofEpochSecond(days * 86_400L + hour * 3600L + minute * 60L + second, nanos);
    }

    /** @return the decimal value of {@code len} ASCII digits at {@code from}, or -1 */
    private static int digits(String t, int from, int len) {
        int v = 0;
        for (int i = from; i < from + len; i++) {
            char c = t.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            v = v * 10 + (c - '0');
        }
        return v;
    }

    private Map<String, Object> payload(String json) throws MalformedEntryException {
        if (json == null || json.isEmpty()) {
            return Map.of();
        }
        // Cheap upper bound first so a huge payload is rejected without encoding it.
        if (json.length() > maxPayloadBytes || utf8Length(json) > maxPayloadBytes) {
            throw new MalformedEntryException("payload_json is " + utf8Length(json)
                    + " bytes, over the limit of " + maxPayloadBytes + " bytes");
        }
        return object(json, PAYLOAD_JSON);
    }

    private Map<String, String> headers(String json) throws MalformedEntryException {
        if (json == null || json.isEmpty()) {
            return Map.of();
        }
        if (json.length() > maxPayloadBytes || utf8Length(json) > maxPayloadBytes) {
            throw new MalformedEntryException("headers_json is " + utf8Length(json)
                    + " bytes, over the limit of " + maxPayloadBytes + " bytes");
        }
        Map<String, Object> raw = object(json, HEADERS_JSON);
        Map<String, String> headers = new LinkedHashMap<>(raw.size());
        for (Map.Entry<String, Object> e : raw.entrySet()) {
            if (!(e.getValue() instanceof String s)) {
                throw new MalformedEntryException("invalid field 'headers_json': value of '" + clip(e.getKey())
                        + "' must be a string");
            }
            headers.put(e.getKey(), s);
        }
        return headers;
    }

    private static Map<String, Object> object(String json, String field) throws MalformedEntryException {
        String trimmed = json.stripLeading();
        if (!trimmed.startsWith("{")) {
            throw new MalformedEntryException("invalid field '" + field + "': expected a JSON object, got "
                    + describeJsonStart(trimmed));
        }
        try {
            if (trimmed.length() == 2 && trimmed.charAt(1) == '}') {
                return Map.of();
            }
            return MAP_READER.readValue(json);
        } catch (JsonProcessingException e) {
            throw new MalformedEntryException("invalid field '" + field + "': " + clip(e.getOriginalMessage()));
        } catch (RuntimeException | StackOverflowError e) {
            throw new MalformedEntryException("invalid field '" + field + "': " + e.getClass().getSimpleName());
        }
    }

    private static String describeJsonStart(String s) {
        if (s.isEmpty()) {
            return "only whitespace";
        }
        char c = s.charAt(0);
        if (c == '[') {
            return "an array";
        }
        if (c == '"') {
            return "a string";
        }
        return "'" + clip(s) + "'";
    }

    private static String toJson(Object value, String what) {
        if (value instanceof Map<?, ?> m && m.isEmpty()) {
            return "{}"; // most payloads of control events; skips a generator and its buffers
        }
        try {
            return MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(what + " is not serialisable as JSON: " + e.getOriginalMessage(), e);
        }
    }

    /**
     * The JSON object of an entry's fields, stored as a dead letter's {@code original_message}.
     *
     * @param fields the wire fields
     * @return the JSON text
     */
    public static String originalMessage(Map<String, String> fields) {
        return toJson(fields, "fields");
    }

    private static String orEmpty(String s) {
        return s == null ? "" : s;
    }

    /** Keeps reasons readable when the offending value is huge or multi-line. */
    static String clip(String s) {
        if (s == null) {
            return "";
        }
        String oneLine = s.replace('\n', ' ').replace('\r', ' ');
        return oneLine.length() <= 120 ? oneLine : oneLine.substring(0, 120) + "...";
    }

    static int utf8Length(String s) {
        int n = s.length();
        // ASCII fast path: most payloads are ASCII and need no encoding to be measured.
        int bytes = 0;
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                bytes++;
            } else if (c < 0x800) {
                bytes += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                bytes += 4;
                i++;
            } else {
                bytes += 3;
            }
        }
        return bytes;
    }

    private static final class MalformedEntryException extends Exception {
        private static final long serialVersionUID = 1L;

        MalformedEntryException(String message) {
            super(message, null, false, false);
        }
    }

}
