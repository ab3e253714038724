package dev.workflowworker.core.internal;

import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.api.WorkflowEvent;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WireCodecTest {

    private final WireCodec codec = new WireCodec(1000);

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
    void decodesTheSeedFormatWithEmptyOptionalsAsAbsent() {
        Delivery d = codec.decode("1-0", seedEntry());
        assertFalse(d.isMalformed(), d.decodeError());
        WorkflowEvent e = d.event();
        assertEquals("e-1", e.eventId());
        assertEquals("x-1", e.executionId());
        assertEquals("TICKET_CREATED", e.eventType());
        assertEquals(Instant.parse("2025-03-01T23:00:00Z"), e.timestamp());
        assertNull(e.fromState());
        assertNull(e.userId());
        assertEquals("t-1", e.payload().get("ticket_id"));
        assertEquals(1, d.attempt());
    }

    @Test
    void encodeDecodeRoundTrips() {
        WorkflowEvent e = WorkflowEvent.builder("T").executionId("x").tenant("t").fromState("a").toState("b")
                .userId("u").payload(Map.of("k", List.of(1, "two"))).headers(Map.of("traceparent", "00-1")).build();
        Map<String, String> f = codec.encode(e, 3);
        assertEquals("", codec.encode(WorkflowEvent.builder("T").build(), 1).get("execution_id"));
        assertEquals("3", f.get("attempt"));
        Delivery d = codec.decode("9-0", f);
        assertEquals(e, d.event());
        assertEquals(3, d.attempt());
    }

    @Test
    void acceptsOffsetTimestamps() {
        Map<String, String> f = seedEntry();
        f.put("timestamp", "2025-03-01T23:00:00+01:00");
        assertEquals(Instant.parse("2025-03-01T22:00:00Z"), codec.decode("1-0", f).event().timestamp());
    }

    @Test
    void malformedEntriesGetPreciseReasons() {
        assertReason(without("event_id"), "missing required field 'event_id'");
        assertReason(with("event_id", " "), "required field 'event_id' is empty");
        assertReason(without("event_type"), "missing required field 'event_type'");
        assertReason(with("payload_json", "{not json"), "invalid field 'payload_json'");
        assertReason(with("payload_json", "[1,2]"), "invalid field 'payload_json': expected a JSON object, got an array");
        assertReason(with("payload_json", "{\"a\":1,\"a\":2}"), "Duplicate field 'a'");
        assertReason(with("timestamp", "yesterday"), "invalid field 'timestamp': expected ISO-8601, got 'yesterday'");
        assertReason(with("attempt", "-2"), "invalid field 'attempt'");
        assertReason(with("headers_json", "{\"a\":1}"), "value of 'a' must be a string");
        assertReason(with("payload_json", "{\"x\":\"" + "y".repeat(2000) + "\"}"), "over the limit of 1000 bytes");
        assertReason(with("payload_json", "[".repeat(900)), "expected a JSON object");
        assertReason(with("payload_json", "{\"a\":" + "[".repeat(900) + "}"), "nesting depth");
    }

    @Test
    void publishOverTheLimitFailsClearly() {
        WorkflowEvent e = WorkflowEvent.builder("T").payload(Map.of("x", "é".repeat(600))).build();
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> codec.encode(e, 1));
        assertTrue(ex.getMessage().contains("over the limit of 1000 bytes"), ex.getMessage());
    }

    @Test
    void utf8LengthCountsMultiByteCharacters() {
        assertEquals(3, WireCodec.utf8Length("abc"));
        assertEquals(2, WireCodec.utf8Length("é"));
        assertEquals(3, WireCodec.utf8Length("€"));
        assertEquals(4, WireCodec.utf8Length("\uD83D\uDE00"));
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
        Delivery d = codec.decode("1-0", fields);
        assertTrue(d.isMalformed(), "expected malformed: " + fields);
        assertTrue(d.decodeError().contains(expected), "reason '" + d.decodeError() + "' lacks '" + expected + "'");
        assertTrue(d.decodeError().length() < 400, "reason too long: " + d.decodeError().length());
    }
}
