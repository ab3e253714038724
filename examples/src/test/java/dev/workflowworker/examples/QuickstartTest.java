package dev.workflowworker.examples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class QuickstartTest {

    @Test
    void quickstartEndsEveryEventAndPrintsHealthAndDeadLetters() throws Exception {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int code = Quickstart.run(Map.of(), new PrintStream(buf, true, StandardCharsets.UTF_8));
        String out = buf.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, out);
        String json = out.substring(out.indexOf("health (GET /api/health/worker):") + 33, out.indexOf("dead letters ("));
        JsonNode health = new ObjectMapper().readTree(json);
        assertEquals(Quickstart.OK_EVENTS + Quickstart.TRANSIENT_EVENTS + Quickstart.RECOVERABLE_EVENTS,
                health.get("eventsSucceeded").asInt());
        assertEquals(health.get("eventsSucceeded").asInt() + health.get("eventsFailed").asInt(),
                health.get("eventsProcessed").asInt());
        assertTrue(out.contains("no action registered for event type 'SPACESHIP_LAUNCHED'"), out);
        assertTrue(out.contains("invalid field 'payload_json'"), out);
        assertTrue(out.contains("progress:"), out);
        assertTrue(out.startsWith("running in memory (set REDIS_URL to run on Redis Streams)"), out);
    }

    @Test
    void streamOrGroupWithoutRedisUrlIsAConfigurationError() throws Exception {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int code = Quickstart.run(Map.of("WORKER_STREAM", "mine"), new PrintStream(buf, true, StandardCharsets.UTF_8));
        String out = buf.toString(StandardCharsets.UTF_8);
        assertEquals(2, code, out);
        assertTrue(out.contains("WORKER_STREAM=mine needs REDIS_URL"), out);
    }
}
