package dev.workflowworker.redis;

import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.wire.DeadLetterFormat;
import dev.workflowworker.redis.testsupport.RedisServer;
import dev.workflowworker.redis.testsupport.RedisServerExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.RedisClient;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Entries written by the Alga PSA Workflow Worker Service or by hand with {@code XADD}, good and bad. */
@ExtendWith(RedisServerExtension.class)
class WireInteropTest {

    private static final String STREAM = "workflow:events:global";
    private RedisEventTransport transport;
    private RedisClient client;

    @AfterEach
    void close() {
        if (transport != null) {
            transport.close();
        }
        if (client != null) {
            client.close();
        }
    }

    private EventTransport.Consumer start(RedisServer redis, int maxPayloadBytes) {
        transport = RedisEventTransport.create(redis.options().partitions(0).maxPayloadBytes(maxPayloadBytes).build());
        client = redis.client();
        return transport.openConsumer("c1");
    }

    private void xadd(String... fieldsAndValues) {
        String[] args = new String[fieldsAndValues.length + 2];
        args[0] = STREAM;
        args[1] = "*";
        System.arraycopy(fieldsAndValues, 0, args, 2, fieldsAndValues.length);
        client.sendCommand(Protocol.Command.XADD, args);
    }

    private static Delivery only(EventTransport.Consumer c) throws InterruptedException {
        List<Delivery> got = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (got.isEmpty() && System.nanoTime() < deadline) {
            got.addAll(c.read(10, Duration.ofMillis(200)));
        }
        assertEquals(1, got.size());
        return got.get(0);
    }

    @Test
    void seedFormatEntryWithEmptyOptionalFieldsIsDecoded(RedisServer redis) throws Exception {
        EventTransport.Consumer c = start(redis, 1024 * 1024);
        xadd("event_id", "9f1c", "execution_id", "", "event_name", "Ticket Created", "event_type", "TICKET_CREATED",
                "tenant", "acme", "timestamp", "2025-03-01T23:00:00.000Z", "from_state", "", "to_state", "",
                "user_id", "", "payload_json", "{\"ticket_id\":\"T-1\",\"priority\":3,\"tags\":[\"a\"]}");

        Delivery d = only(c);

        assertFalse(d.isMalformed(), d.decodeError());
        WorkflowEvent e = d.event();
        assertEquals("9f1c", e.eventId());
        assertNull(e.executionId());
        assertEquals("9f1c", e.lockKey());
        assertEquals("Ticket Created", e.eventName());
        assertEquals("TICKET_CREATED", e.eventType());
        assertEquals("acme", e.tenant());
        assertEquals(Instant.parse("2025-03-01T23:00:00Z"), e.timestamp());
        assertNull(e.fromState());
        assertEquals("T-1", e.payload().get("ticket_id"));
        assertEquals(3, e.payload().get("priority"));
        assertEquals(1, d.attempt());
    }

    @Test
    void publishedEntryUsesTheSeedWireFormat(RedisServer redis) {
        start(redis, 1024 * 1024);
        transport.publish(WorkflowEvent.builder("INVOICE_DUE").eventId("inv-1").payload(Map.of("amount", 10)).build());
        Map<String, String> f = client.xrange(STREAM, (redis.clients.jedis.StreamEntryID) null, null).get(0).getFields();
        assertEquals("inv-1", f.get("event_id"));
        assertEquals("INVOICE_DUE", f.get("event_type"));
        assertEquals("", f.get("execution_id"));
        assertEquals("", f.get("from_state"));
        assertEquals("{\"amount\":10}", f.get("payload_json"));
    }

    @Test
    void entryWithoutEventIdIsMalformedNamingTheField(RedisServer redis) throws Exception {
        EventTransport.Consumer c = start(redis, 1024 * 1024);
        xadd("event_type", "T", "payload_json", "{}");
        Delivery d = only(c);
        assertTrue(d.isMalformed());
        assertEquals("missing required field 'event_id'", d.decodeError());
        assertEquals("T", d.fields().get("event_type"));
    }

    @Test
    void invalidPayloadJsonIsMalformedNamingTheField(RedisServer redis) throws Exception {
        EventTransport.Consumer c = start(redis, 1024 * 1024);
        xadd("event_id", "e1", "event_type", "T", "payload_json", "{not json");
        Delivery d = only(c);
        assertTrue(d.isMalformed());
        assertTrue(d.decodeError().startsWith("invalid field 'payload_json'"), d.decodeError());
        assertEquals("e1", d.eventId());
    }

    @Test
    void payloadOverTheLimitIsMalformedOnRead(RedisServer redis) throws Exception {
        EventTransport.Consumer c = start(redis, 100);
        xadd("event_id", "big", "event_type", "T", "payload_json", "{\"x\":\"" + "a".repeat(200) + "\"}");
        Delivery d = only(c);
        assertTrue(d.isMalformed());
        assertEquals("payload_json is 208 bytes, over the limit of 100 bytes", d.decodeError());
    }

    @Test
    void payloadOverTheLimitIsRefusedOnPublish(RedisServer redis) {
        start(redis, 100);
        WorkflowEvent big = WorkflowEvent.builder("T").payload(Map.of("x", "a".repeat(200))).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> transport.publish(big));
        assertTrue(e.getMessage().contains("over the limit of 100 bytes"), e.getMessage());
        assertEquals(0, client.exists(STREAM) ? client.xlen(STREAM) : 0);
    }

    @Test
    void binaryGarbageIsMalformedAndDoesNotStopTheConsumer(RedisServer redis) throws Exception {
        EventTransport.Consumer c = start(redis, 1024 * 1024);
        byte[] garbage = {(byte) 0xC3, (byte) 0x28, (byte) 0xFF, 0x00, (byte) 0x80};
        client.sendCommand(Protocol.Command.XADD, bytes(STREAM), bytes("*"), bytes("event_id"), bytes("g1"),
                bytes("event_type"), bytes("T"), bytes("payload_json"), garbage);
        client.sendCommand(Protocol.Command.XADD, bytes(STREAM), bytes("*"), garbage, garbage);
        xadd("event_id", "fine", "event_type", "T", "payload_json", "{}");

        List<Delivery> got = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (got.size() < 3 && System.nanoTime() < deadline) {
            got.addAll(c.read(10, Duration.ofMillis(200)));
        }

        assertEquals(3, got.size());
        assertEquals("field 'payload_json' is not valid UTF-8 (5 bytes)", got.get(0).decodeError());
        assertEquals("g1", got.get(0).eventId());
        assertTrue(got.get(1).decodeError().startsWith("field name '"), got.get(1).decodeError());
        assertTrue(got.get(1).decodeError().endsWith("is not valid UTF-8"), got.get(1).decodeError());
        assertFalse(got.get(2).isMalformed());
        assertEquals("fine", got.get(2).eventId());
    }

    @Test
    void malformedEntryIsDeadLetteredWithItsReasonAndOriginalFields(RedisServer redis) throws Exception {
        EventTransport.Consumer c = start(redis, 1024 * 1024);
        xadd("event_id", "", "event_type", "T");
        Delivery d = only(c);
        c.deadLetter(d, new dev.workflowworker.api.DeadLetter(dev.workflowworker.api.ErrorCategory.PERMANENT,
                d.decodeError(), "", 0, "w1", Instant.now()));
        Map<String, String> f = client.xrange(STREAM + ":dlq", (redis.clients.jedis.StreamEntryID) null, null)
                .get(0).getFields();
        assertEquals("required field 'event_id' is empty", f.get("error_message"));
        assertEquals("0", f.get("attempts"));
        Map<String, String> original = new LinkedHashMap<>();
        original.put("event_id", "");
        original.put("event_type", "T");
        assertEquals(DeadLetterFormat.originalMessage(original), f.get("original_message"));
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
