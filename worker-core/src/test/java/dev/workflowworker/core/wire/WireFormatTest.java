package dev.workflowworker.core.wire;

import dev.workflowworker.api.DeadLetter;
import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.api.ErrorCategory;
import dev.workflowworker.api.WorkflowEvent;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WireFormatTest {

    private final WireFormat wire = WireFormat.withMaxPayloadBytes(1000);

    private static Map<String, String> seedEntry() {
        Map<String, String> f = new HashMap<>();
        f.put("event_id", "e-1");
        f.put("execution_id", "x-1");
        f.put("event_name", "Ticket created");
        f.put("event_type", "TICKET_CREATED");
        f.put("tenant", "acme");
        f.put("timestamp", "2025-03-01T23:00:00.000Z");
        f.put("from_state", "");
        f.put("to_state", "");
        f.put("user_id", "");
        f.put("payload_json", "{\"ticket_id\":\"t-1\",\"n\":[1,2,{\"a\":null}]}");
        return f;
    }

    @Test
    void fieldNamesAreTheSeedSystemsAndNeverChange() {
        // Literals on purpose: a renamed constant would silently break every stream already written.
        assertEquals(List.of("event_id", "execution_id", "event_name", "event_type", "tenant", "timestamp",
                "from_state", "to_state", "user_id", "payload_json", "headers_json"), WireFormat.EVENT_FIELDS);
        assertEquals("attempt", WireFormat.ATTEMPT);
        assertEquals("due_at", WireFormat.DUE_AT);
        assertEquals(List.of("original_message", "error_message", "error_stack", "source_stream", "original_id",
                "moved_at", "error_category", "attempts", "worker_id"), DeadLetterFormat.FIELDS);
        assertEquals(List.of(WireFormat.EVENT_ID, WireFormat.EXECUTION_ID, WireFormat.EVENT_NAME,
                WireFormat.EVENT_TYPE, WireFormat.TENANT, WireFormat.TIMESTAMP, WireFormat.FROM_STATE,
                WireFormat.TO_STATE, WireFormat.USER_ID, WireFormat.PAYLOAD_JSON, WireFormat.HEADERS_JSON),
                WireFormat.EVENT_FIELDS);
        assertEquals(List.of(DeadLetterFormat.ORIGINAL_MESSAGE, DeadLetterFormat.ERROR_MESSAGE,
                DeadLetterFormat.ERROR_STACK, DeadLetterFormat.SOURCE_STREAM, DeadLetterFormat.ORIGINAL_ID,
                DeadLetterFormat.MOVED_AT, DeadLetterFormat.ERROR_CATEGORY, DeadLetterFormat.ATTEMPTS,
                DeadLetterFormat.WORKER_ID), DeadLetterFormat.FIELDS);
    }

    @Test
    void encodeWritesTheContractFieldsInOrderAndAttemptOnlyForRetries() {
        WorkflowEvent e = WorkflowEvent.builder("T").build();
        assertEquals(WireFormat.EVENT_FIELDS, new ArrayList<>(wire.encode(e, 1).keySet()));
        List<String> retry = new ArrayList<>(WireFormat.EVENT_FIELDS);
        retry.add(WireFormat.ATTEMPT);
        assertEquals(retry, new ArrayList<>(wire.encode(e, 2).keySet()));
        assertThrows(IllegalArgumentException.class, () -> wire.encode(e, 0));
    }

    @Test
    void absentOptionalFieldsAreWrittenAsEmptyStrings() {
        Instant at = Instant.parse("2025-03-01T23:00:00Z");
        Map<String, String> f = wire.encode(WorkflowEvent.builder("T").eventId("e").timestamp(at).build(), 1);
        Map<String, String> expected = new LinkedHashMap<>();
        expected.put("event_id", "e");
        expected.put("execution_id", "");
        expected.put("event_name", "");
        expected.put("event_type", "T");
        expected.put("tenant", "");
        expected.put("timestamp", "2025-03-01T23:00:00Z");
        expected.put("from_state", "");
        expected.put("to_state", "");
        expected.put("user_id", "");
        expected.put("payload_json", "{}");
        expected.put("headers_json", "");
        assertEquals(expected, f);
    }

    @Test
    void missingAndEmptyOptionalFieldsReadTheSame() {
        Instant before = Instant.now();
        Delivery missing = wire.decode("1-0", Map.of("event_id", "e", "event_type", "T"));
        Instant after = Instant.now();
        Map<String, String> empty = new HashMap<>();
        for (String name : WireFormat.EVENT_FIELDS) {
            empty.put(name, "");
        }
        empty.put("event_id", "e");
        empty.put("event_type", "T");
        empty.put("attempt", "");
        Delivery blank = wire.decode("1-0", empty);
        for (Delivery d : List.of(missing, blank)) {
            assertFalse(d.isMalformed(), d.decodeError());
            WorkflowEvent e = d.event();
            assertNull(e.executionId());
            assertNull(e.eventName());
            assertNull(e.tenant());
            assertNull(e.fromState());
            assertNull(e.toState());
            assertNull(e.userId());
            assertEquals(Map.of(), e.payload());
            assertEquals(Map.of(), e.headers());
            assertEquals(1, d.attempt());
        }
        Instant read = missing.event().timestamp();
        assertFalse(read.isBefore(before) || read.isAfter(after), "a missing timestamp is the time of decoding");
    }

    @Test
    void decodesTheSeedFormat() {
        Delivery d = wire.decode("1-0", seedEntry());
        assertFalse(d.isMalformed(), d.decodeError());
        WorkflowEvent e = d.event();
        assertEquals("1-0", d.id());
        assertEquals("e-1", e.eventId());
        assertEquals("x-1", e.executionId());
        assertEquals("TICKET_CREATED", e.eventType());
        assertEquals(Instant.parse("2025-03-01T23:00:00Z"), e.timestamp());
        assertNull(e.fromState());
        assertNull(e.userId());
        assertEquals("t-1", e.payload().get("ticket_id"));
        assertEquals(1, d.attempt());
        assertEquals(seedEntry(), d.fields());
    }

    @Test
    void unknownFieldsAreIgnoredAndKept() {
        Map<String, String> f = seedEntry();
        f.put("producer", "billing");
        Delivery d = wire.decode("1-0", f);
        assertFalse(d.isMalformed(), d.decodeError());
        assertEquals("billing", d.fields().get("producer"));
    }

    @Test
    void encodeDecodeRoundTrips() {
        WorkflowEvent e = WorkflowEvent.builder("T").executionId("x").tenant("t").fromState("a").toState("b")
                .userId("u").payload(Map.of("k", List.of(1, "two"))).headers(Map.of("traceparent", "00-1")).build();
        Map<String, String> f = wire.encode(e, 3);
        assertEquals("3", f.get("attempt"));
        Delivery d = wire.decode("9-0", f);
        assertEquals(e, d.event());
        assertEquals(3, d.attempt());
    }

    @Test
    void acceptsOffsetTimestamps() {
        Map<String, String> f = seedEntry();
        f.put("timestamp", "2025-03-01T23:00:00+01:00");
        assertEquals(Instant.parse("2025-03-01T22:00:00Z"), wire.decode("1-0", f).event().timestamp());
    }

    @Test
    void malformedEntriesGetPreciseOneLineReasons() {
        assertReason(without("event_id"), "missing required field 'event_id'");
        assertReason(with("event_id", " "), "required field 'event_id' is empty");
        assertReason(without("event_type"), "missing required field 'event_type'");
        assertReason(with("payload_json", "{not json"), "invalid field 'payload_json'");
        assertReason(with("payload_json", "[1,2]"), "invalid field 'payload_json': expected a JSON object, got an array");
        assertReason(with("payload_json", "{\"a\":1,\"a\":2}"), "Duplicate field 'a'");
        assertReason(with("payload_json", "{\"a\":1} {}"), "invalid field 'payload_json'");
        assertReason(with("payload_json", "{\"a\":NaN}"), "invalid field 'payload_json'");
        assertReason(with("timestamp", "yesterday"), "invalid field 'timestamp': expected ISO-8601, got 'yesterday'");
        assertReason(with("attempt", "-2"), "invalid field 'attempt'");
        assertReason(with("attempt", "two"), "invalid field 'attempt'");
        assertReason(with("headers_json", "{\"a\":1}"), "value of 'a' must be a string");
        assertReason(with("payload_json", "{\"x\":\"" + "y".repeat(2000) + "\"}"), "over the limit of 1000 bytes");
        assertReason(with("payload_json", "[".repeat(900)), "expected a JSON object");
        assertReason(with("payload_json", "{\"a\":" + "[".repeat(900) + "}"), "nesting depth");
        assertReason(with("timestamp", "not\na\ntime " + "z".repeat(5000)), "invalid field 'timestamp'");
    }

    @Test
    void dueAtIsEpochMillisOrAnIso8601InstantFrom1970ToYear9999() {
        assertEquals(-1, WireFormat.dueAtMillis(null));
        assertEquals(-1, WireFormat.dueAtMillis(""));
        assertEquals(0, WireFormat.dueAtMillis("0"));
        assertEquals(1767225600000L, WireFormat.dueAtMillis("1767225600000"));
        assertEquals(1767225600000L, WireFormat.dueAtMillis("2026-01-01T00:00:00Z"));
        assertEquals(1767225600123L, WireFormat.dueAtMillis("2026-01-01T01:00:00.123+01:00"));
        assertEquals(253402300799999L, WireFormat.dueAtMillis("253402300799999"));
        assertEquals(253402300799999L, WireFormat.dueAtMillis("9999-12-31T23:59:59.999Z"));
        Map<String, String> refused = new LinkedHashMap<>();
        refused.put("soon", "expected epoch milliseconds or an ISO-8601 instant, got 'soon'");
        refused.put("-1", "'-1' is negative");
        refused.put("-99999999999999999999", "is negative");
        refused.put("253402300800000", "is after year 9999 (253402300799999 is the latest)");
        refused.put("99999999999999999999", "is after year 9999");
        refused.put("+10000-01-01T00:00:00Z", "is after year 9999");
        refused.put("1969-12-31T23:59:59.999Z", "is before 1970");
        refused.put(" 1767225600000", "expected epoch milliseconds");
        refused.put("1.5e12", "expected epoch milliseconds");
        refused.forEach((value, reason) -> {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> WireFormat.dueAtMillis(value), value);
            assertTrue(e.getMessage().startsWith("invalid field 'due_at': ") && e.getMessage().contains(reason),
                    e.getMessage());
            assertReason(with("due_at", value), e.getMessage());
        });
        assertFalse(wire.decode("1-0", with("due_at", "1767225600000")).isMalformed());
        assertFalse(wire.decode("1-0", with("due_at", "")).isMalformed());
    }

    @Test
    void anInvalidAttemptIsReportedOnAFirstAttemptDelivery() {
        Delivery d = wire.decode("1-0", with("attempt", "0"));
        assertTrue(d.isMalformed());
        assertEquals(1, d.attempt());
        assertEquals("e-1", d.eventId());
    }

    @Test
    void encodingRefusesWhatItCannotWrite() {
        WorkflowEvent tooBig = WorkflowEvent.builder("T").payload(Map.of("x", "é".repeat(600))).build();
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> wire.encode(tooBig, 1));
        assertTrue(ex.getMessage().contains("payload_json is 1208 bytes, over the limit of 1000 bytes"),
                ex.getMessage());
        WorkflowEvent unwritable = WorkflowEvent.builder("T").payload(Map.of("x", new Object())).build();
        ex = assertThrows(IllegalArgumentException.class, () -> wire.encode(unwritable, 1));
        assertTrue(ex.getMessage().startsWith("payload is not serialisable as JSON"), ex.getMessage());
    }

    @Test
    void payloadLimitCountsUtf8BytesAndIsTheSameBothWays() {
        WireFormat small = WireFormat.withMaxPayloadBytes(20);
        // {"x":"..."} is 8 bytes around the string; é is 2 bytes, € 3, an emoji 4.
        for (String fits : List.of("a".repeat(12), "é".repeat(6), "€".repeat(4), "\uD83D\uDE00".repeat(3))) {
            WorkflowEvent e = WorkflowEvent.builder("T").payload(Map.of("x", fits)).build();
            Map<String, String> f = small.encode(e, 1);
            Delivery d = small.decode("1-0", f);
            assertFalse(d.isMalformed(), fits + ": " + d.decodeError());
            assertEquals(e, d.event());
        }
        for (String over : List.of("a".repeat(13), "é".repeat(6) + "a", "€".repeat(4) + "a",
                "\uD83D\uDE00".repeat(3) + "a")) {
            WorkflowEvent e = WorkflowEvent.builder("T").payload(Map.of("x", over)).build();
            assertThrows(IllegalArgumentException.class, () -> small.encode(e, 1), over);
            Map<String, String> f = Map.of("event_id", "e", "event_type", "T",
                    "payload_json", "{\"x\":\"" + over + "\"}");
            Delivery d = small.decode("1-0", f);
            assertTrue(d.isMalformed(), over);
            assertTrue(d.decodeError().startsWith("payload_json is 21 bytes, over the limit of 20 bytes")
                    || d.decodeError().startsWith("payload_json is 22 bytes, over the limit of 20 bytes"),
                    d.decodeError());
        }
    }

    @Test
    void headersHaveTheSameLimitBothWays() {
        WireFormat small = WireFormat.withMaxPayloadBytes(20);
        // {"k":"..."} is 8 bytes around the value
        WorkflowEvent fits = WorkflowEvent.builder("T").headers(Map.of("k", "é".repeat(6))).build();
        assertEquals(fits, small.decode("1-0", small.encode(fits, 1)).event());
        WorkflowEvent over = WorkflowEvent.builder("T").headers(Map.of("k", "é".repeat(7))).build();
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> small.encode(over, 1));
        assertTrue(ex.getMessage().contains("headers_json is 22 bytes, over the limit of 20 bytes"), ex.getMessage());
        Delivery d = small.decode("1-0", Map.of("event_id", "e", "event_type", "T",
                "headers_json", "{\"k\":\"" + "é".repeat(7) + "\"}"));
        assertEquals("headers_json is 22 bytes, over the limit of 20 bytes", d.decodeError());
    }

    @Test
    void nestingIsBoundedAtTheDocumentedDepth() {
        int arrays = WireFormat.MAX_NESTING_DEPTH - 1; // the payload object itself is the first level
        String deepest = "{\"a\":" + "[".repeat(arrays) + "]".repeat(arrays) + "}";
        WireFormat large = WireFormat.defaults();
        assertFalse(large.decode("1-0", Map.of("event_id", "e", "event_type", "T", "payload_json", deepest))
                .isMalformed());
        String tooDeep = "{\"a\":" + "[".repeat(arrays + 1) + "]".repeat(arrays + 1) + "}";
        Delivery d = large.decode("1-0", Map.of("event_id", "e", "event_type", "T", "payload_json", tooDeep));
        assertTrue(d.isMalformed());
        assertTrue(d.decodeError().contains("nesting depth"), d.decodeError());
    }

    @Test
    void theLimitIsChosenPerFormat() {
        assertEquals(1024 * 1024, WireFormat.DEFAULT_MAX_PAYLOAD_BYTES);
        assertEquals(WireFormat.DEFAULT_MAX_PAYLOAD_BYTES, WireFormat.defaults().maxPayloadBytes());
        assertSame(WireFormat.defaults(), WireFormat.withMaxPayloadBytes(WireFormat.DEFAULT_MAX_PAYLOAD_BYTES));
        assertEquals(1000, wire.maxPayloadBytes());
        assertThrows(IllegalArgumentException.class, () -> WireFormat.withMaxPayloadBytes(0));
    }

    @Test
    void deadLetterFieldsCarryTheOriginalEntryAndTheReason() {
        Map<String, String> original = new LinkedHashMap<>();
        original.put("event_id", "");
        original.put("event_type", "T");
        original.put("note", "a \"quoted\" value");
        DeadLetter letter = new DeadLetter(ErrorCategory.PERMANENT, "required field 'event_id' is empty", null, 0,
                null, Instant.parse("2025-03-01T23:00:00Z"));

        Map<String, String> f = DeadLetterFormat.encode("5-1", original, letter, "workflow:events:global");

        assertEquals(DeadLetterFormat.FIELDS, new ArrayList<>(f.keySet()));
        assertEquals("{\"event_id\":\"\",\"event_type\":\"T\",\"note\":\"a \\\"quoted\\\" value\"}",
                f.get("original_message"));
        assertEquals(DeadLetterFormat.originalMessage(original), f.get("original_message"));
        assertEquals("required field 'event_id' is empty", f.get("error_message"));
        assertEquals("", f.get("error_stack"));
        assertEquals("workflow:events:global", f.get("source_stream"));
        assertEquals("5-1", f.get("original_id"));
        assertEquals("2025-03-01T23:00:00.000Z", f.get("moved_at"), "milliseconds, always three digits");
        assertEquals("permanent", f.get("error_category"));
        assertEquals("0", f.get("attempts"));
        assertEquals("", f.get("worker_id"));
        assertEquals("{}", DeadLetterFormat.originalMessage(Map.of()));
    }

    private static Map<String, String> without(String field) {
        Map<String, String> f = seedEntry();
        f.remove(field);
        return f;
    }

    private static Map<String, String> with(String field, String value) {
        Map<String, String> f = seedEntry();
        f.put(field, value);
        return f;
    }

    private void assertReason(Map<String, String> fields, String expected) {
        Delivery d = wire.decode("1-0", fields);
        assertTrue(d.isMalformed(), "expected malformed: " + fields);
        assertTrue(d.decodeError().contains(expected), "reason '" + d.decodeError() + "' lacks '" + expected + "'");
        assertTrue(d.decodeError().length() < 400, "reason too long: " + d.decodeError().length());
        assertFalse(d.decodeError().contains("\n"), "reason spans lines: " + d.decodeError());
        assertEquals(fields, d.fields());
    }
}
