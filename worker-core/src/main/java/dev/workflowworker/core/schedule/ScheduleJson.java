package dev.workflowworker.core.schedule;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;

/**
 * A schedule as one JSON object, the form transports store it in and tools show it in: every
 * setting by its builder name, durations as ISO-8601 ({@code PT1M}), instants as ISO-8601 UTC.
 * Reading goes through {@link Schedule.Builder}, so a stored schedule is checked like a new one.
 */
public final class ScheduleJson {

    private static final ObjectMapper JSON = new ObjectMapper();

    private ScheduleJson() {
    }

    /**
     * {@return the schedule as JSON}
     *
     * @param s a schedule
     */
    public static String write(Schedule s) {
        ObjectNode o = JSON.createObjectNode();
        o.put("id", s.id());
        if (s.cron() != null) {
            o.put("cron", s.cron());
        } else {
            o.put("every", s.interval().toString());
        }
        o.put("zone", s.zone().getId());
        o.put("eventType", s.eventType());
        putIfSet(o, "eventName", s.eventName());
        putIfSet(o, "executionId", s.executionId());
        putIfSet(o, "tenant", s.tenant());
        if (!s.payload().isEmpty()) {
            o.set("payload", JSON.valueToTree(s.payload()));
        }
        putIfSet(o, "start", s.start() == null ? null : s.start().toString());
        putIfSet(o, "end", s.end() == null ? null : s.end().toString());
        if (s.limit() > 0) {
            o.put("limit", s.limit());
        }
        o.put("jitter", s.jitter().toString());
        o.put("misfire", s.misfire().name());
        o.put("misfireThreshold", s.misfireThreshold().toString());
        o.put("catchUpWindow", s.catchUpWindow().toString());
        o.put("overlap", s.overlap().name());
        o.put("gap", s.gap().name());
        o.put("paused", s.paused());
        putIfSet(o, "managedBy", s.managedBy());
        return o.toString();
    }

    /**
     * Reads a schedule written by {@link #write}.
     *
     * @param json the JSON text
     * @return the schedule
     * @throws IllegalArgumentException if it is not such a schedule, naming what is wrong
     */
    public static Schedule read(String json) {
        JsonNode o;
        try {
            o = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("a schedule is not JSON: " + e.getOriginalMessage(), e);
        }
        if (o == null || !o.isObject()) {
            throw new IllegalArgumentException("a schedule must be a JSON object");
        }
        String id = text(o, "id");
        Schedule.Builder b = o.hasNonNull("cron") ? Schedule.cron(id, text(o, "cron"))
                : Schedule.every(id, duration(o, "every"));
        if (o.hasNonNull("zone")) {
            b.zone(text(o, "zone"));
        }
        b.eventType(text(o, "eventType"));
        b.eventName(text(o, "eventName"));
        b.executionId(text(o, "executionId"));
        b.tenant(text(o, "tenant"));
        if (o.hasNonNull("payload")) {
            @SuppressWarnings("unchecked")
            Map<String, Object> payload = JSON.convertValue(o.get("payload"), Map.class);
            b.payload(payload);
        }
        if (o.hasNonNull("start")) {
            b.start(instant(o, "start"));
        }
        if (o.hasNonNull("end")) {
            b.end(instant(o, "end"));
        }
        if (o.hasNonNull("limit")) {
            b.limit(o.get("limit").asLong());
        }
        if (o.hasNonNull("jitter")) {
            b.jitter(duration(o, "jitter"));
        }
        if (o.hasNonNull("misfire")) {
            b.misfire(enumOf(Schedule.Misfire.class, o, "misfire"));
        }
        if (o.hasNonNull("misfireThreshold")) {
            b.misfireThreshold(duration(o, "misfireThreshold"));
        }
        if (o.hasNonNull("catchUpWindow")) {
            b.catchUpWindow(duration(o, "catchUpWindow"));
        }
        if (o.hasNonNull("overlap")) {
            b.overlap(enumOf(Schedule.Overlap.class, o, "overlap"));
        }
        if (o.hasNonNull("gap")) {
            b.gap(enumOf(Schedule.Gap.class, o, "gap"));
        }
        b.paused(o.path("paused").asBoolean(false));
        b.managedBy(text(o, "managedBy"));
        return b.build();
    }

    private static void putIfSet(ObjectNode o, String field, String value) {
        if (value != null) {
            o.put(field, value);
        }
    }

    private static String text(JsonNode o, String field) {
        JsonNode v = o.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }

    private static Duration duration(JsonNode o, String field) {
        String v = text(o, field);
        try {
            return v == null ? null : Duration.parse(v);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("schedule field '" + field + "' is not an ISO-8601 duration: " + v, e);
        }
    }

    private static Instant instant(JsonNode o, String field) {
        String v = text(o, field);
        try {
            return Instant.parse(v);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("schedule field '" + field + "' is not an ISO-8601 instant: " + v, e);
        }
    }

    private static <E extends Enum<E>> E enumOf(Class<E> type, JsonNode o, String field) {
        String v = text(o, field);
        try {
            return Enum.valueOf(type, v);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("schedule field '" + field + "' is not one of "
                    + java.util.Arrays.toString(type.getEnumConstants()) + ": " + v, e);
        }
    }
}
