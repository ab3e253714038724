package dev.workflowworker.core.testing;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Malformed and hostile stream entries, each with the reason it must be dead-lettered with.
 * Transport-agnostic: every transport's test runs the same table, so all of them reject the
 * same entries the same way.
 */
public final class BadInputCatalogue {

    /** The event type whose action reads a typed payload and requires {@code ticket_id}. */
    public static final String TYPED = "TICKET_TYPED";

    /**
     * @param name           what is wrong
     * @param fields         the raw wire fields
     * @param expectedReason a fragment the dead letter's error_message must contain
     */
    public record Case(String name, Map<String, String> fields, String expectedReason) {
        @Override
        public String toString() {
            return name;
        }
    }

    private BadInputCatalogue() {
    }

    public static Map<String, String> valid(String eventId) {
        Map<String, String> f = new LinkedHashMap<>();
        f.put("event_id", eventId);
        f.put("execution_id", "exec-" + eventId);
        f.put("event_name", "bad input");
        f.put("event_type", TYPED);
        f.put("tenant", "acme");
        f.put("timestamp", "2025-03-01T23:00:00.000Z");
        f.put("from_state", "");
        f.put("to_state", "");
        f.put("user_id", "");
        f.put("payload_json", "{\"ticket_id\":\"T-1\",\"priority\":1}");
        return f;
    }

    private static Case with(List<Case> out, String name, String field, String value, String reason) {
        Map<String, String> f = valid("bad-" + out.size());
        if (value == null) {
            f.remove(field);
        } else {
            f.put(field, value);
        }
        Case c = new Case(name, f, reason);
        out.add(c);
        return c;
    }

    /** @return the catalogue; every case yields a dead letter whose message contains its reason */
    public static List<Case> cases() {
        List<Case> c = new ArrayList<>();
        with(c, "missing event_id", "event_id", null, "missing required field 'event_id'");
        with(c, "empty event_id", "event_id", "", "required field 'event_id' is empty");
        with(c, "blank event_id", "event_id", "   ", "required field 'event_id' is empty");
        with(c, "missing event_type", "event_type", null, "missing required field 'event_type'");
        with(c, "empty event_type", "event_type", "", "required field 'event_type' is empty");
        with(c, "payload not JSON", "payload_json", "{ticket_id: T-1", "invalid field 'payload_json'");
        with(c, "payload truncated", "payload_json", "{\"ticket_id\":\"T-1\"", "invalid field 'payload_json'");
        with(c, "payload is an array", "payload_json", "[1,2,3]", "expected a JSON object, got an array");
        with(c, "payload is a string", "payload_json", "\"hello\"", "expected a JSON object, got a string");
        with(c, "payload is a number", "payload_json", "42", "expected a JSON object, got '42'");
        with(c, "payload is null", "payload_json", "null", "expected a JSON object, got 'null'");
        with(c, "payload with trailing garbage", "payload_json", "{\"ticket_id\":\"T-1\"} extra",
                "invalid field 'payload_json'");
        with(c, "payload with NaN", "payload_json", "{\"ticket_id\":\"T-1\",\"x\":NaN}", "invalid field 'payload_json'");
        with(c, "payload with duplicate keys", "payload_json", "{\"ticket_id\":\"a\",\"ticket_id\":\"b\"}",
                "Duplicate field 'ticket_id'");
        with(c, "payload nested 10,000 levels", "payload_json",
                "{\"a\":" + "[".repeat(10_000) + "]".repeat(10_000) + "}", "nesting depth");
        with(c, "payload of 5 MiB", "payload_json",
                "{\"blob\":\"" + "x".repeat(5 * 1024 * 1024) + "\"}", "over the limit of 1048576 bytes");
        with(c, "timestamp not ISO-8601", "timestamp", "last tuesday", "invalid field 'timestamp'");
        with(c, "attempt not a number", "attempt", "three", "invalid field 'attempt'");
        with(c, "attempt zero", "attempt", "0", "invalid field 'attempt'");
        with(c, "due_at not a time", "due_at", "in an hour", "invalid field 'due_at'");
        with(c, "due_at negative", "due_at", "-1", "invalid field 'due_at'");
        with(c, "due_at after year 9999", "due_at", "+10000-01-01T00:00:00Z", "invalid field 'due_at'");
        with(c, "headers not an object", "headers_json", "[\"traceparent\"]", "invalid field 'headers_json'");
        with(c, "header value not a string", "headers_json", "{\"traceparent\":1}", "must be a string");
        with(c, "event_type with newline", "event_type", "TICKET\nCREATED",
                "no action registered for event type 'TICKET\nCREATED'");
        with(c, "event_type with glob characters", "event_type", "TICKET_*?[a-z]",
                "no action registered for event type 'TICKET_*?[a-z]'");
        with(c, "polymorphic type hint is plain data", "payload_json",
                "{\"@class\":\"java.lang.ProcessBuilder\",\"command\":[\"touch\",\"/tmp/pwned\"]}",
                "missing required payload field 'ticket_id'");
        with(c, "payload field of the wrong type", "payload_json", "{\"ticket_id\":\"T-1\",\"priority\":\"high\"}",
                "does not match Ticket");
        return c;
    }

    /** Entries that look odd but are valid: they must be processed, not dead-lettered. */
    public static List<Map<String, String>> oddButValid() {
        List<Map<String, String>> out = new ArrayList<>();
        Map<String, String> braces = valid("{tenant-1}:evt *1");
        braces.put("execution_id", "{exec}*[1] ?x");
        out.add(braces);
        Map<String, String> unicode = valid("ünï-cødé-\uD83D\uDE00");
        unicode.put("payload_json", "{\"ticket_id\":\"T-\u00e9\u20ac\",\"priority\":2,\"note\":\"\\u0000\"}");
        out.add(unicode);
        Map<String, String> extra = valid("extra-fields");
        extra.put("some_future_field", "ignored");
        out.add(extra);
        Map<String, String> pastDue = valid("past-due");
        pastDue.put("due_at", "0"); // due at once, wherever a due time is read
        out.add(pastDue);
        Map<String, String> noDue = valid("empty-due");
        noDue.put("due_at", "");
        out.add(noDue);
        Map<String, String> noTimestamp = valid("no-timestamp");
        noTimestamp.remove("timestamp");
        out.add(noTimestamp);
        return out;
    }
}
