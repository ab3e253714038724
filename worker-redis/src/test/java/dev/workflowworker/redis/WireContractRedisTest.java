package dev.workflowworker.redis;

import dev.workflowworker.api.DeadLetter;
import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.api.ErrorCategory;
import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.wire.DeadLetterFormat;
import dev.workflowworker.core.wire.WireFormat;
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

/**
 * The public wire contract against what the Redis transport really writes to and reads from a
 * Redis server: entries are read back with raw XRANGE, so field order and values are Redis's own.
 */
@ExtendWith(RedisServerExtension.class)
class WireContractRedisTest {

    private static final String STREAM = "workflow:events:global";
    private static final Instant AT = Instant.parse("2025-03-01T23:00:00.250Z");

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

    private void start(RedisServer redis) {
        transport = RedisEventTransport.create(redis.options().partitions(0).build());
        client = redis.client();
    }

    private static WorkflowEvent fullEvent() {
        return WorkflowEvent.builder("TICKET_CREATED").eventId("ev-1").executionId("x-1").eventName("Ticket created")
                .tenant("acme").timestamp(AT).fromState("new").toState("open").userId("u-1")
                .payload(Map.of("ticket_id", "T-1")).headers(Map.of("traceparent", "00-abc")).build();
    }

    @Test
    void publishWritesExactlyTheContractFieldsInOrder(RedisServer redis) {
        start(redis);
        WorkflowEvent full = fullEvent();
        WorkflowEvent bare = WorkflowEvent.builder("PING").eventId("ev-2").timestamp(AT).build();
        transport.publish(full);
        transport.publish(bare);

        List<Map<String, String>> entries = xrange(STREAM);

        assertEquals(2, entries.size());
        assertEquals(WireFormat.EVENT_FIELDS, new ArrayList<>(entries.get(0).keySet()));
        assertEquals(WireFormat.defaults().encode(full, 1), entries.get(0));
        assertEquals(WireFormat.EVENT_FIELDS, new ArrayList<>(entries.get(1).keySet()));
        assertEquals(WireFormat.defaults().encode(bare, 1), entries.get(1));
        for (String optional : List.of(WireFormat.EXECUTION_ID, WireFormat.EVENT_NAME, WireFormat.TENANT,
                WireFormat.FROM_STATE, WireFormat.TO_STATE, WireFormat.USER_ID, WireFormat.HEADERS_JSON)) {
            assertEquals("", entries.get(1).get(optional), optional);
        }
    }

    @Test
    void aRetryComesBackWithTheAttemptField(RedisServer redis) throws Exception {
        start(redis);
        transport.publish(fullEvent());
        EventTransport.Consumer c = transport.openConsumer("c1");
        Delivery first = poll(c);
        c.retryAt(first, Instant.now().minusMillis(1), 2);
        assertEquals(1, transport.moveDueRetries());

        List<Map<String, String>> entries = xrange(STREAM);
        Map<String, String> retry = entries.get(entries.size() - 1);
        List<String> expected = new ArrayList<>(WireFormat.EVENT_FIELDS);
        expected.add(WireFormat.ATTEMPT);
        assertEquals(expected, new ArrayList<>(retry.keySet()));
        assertEquals(WireFormat.defaults().encode(fullEvent(), 2), retry);
        Delivery again = poll(c);
        assertEquals(2, again.attempt());
        assertEquals(fullEvent(), again.event());
    }

    @Test
    void deadLetterWritesExactlyTheContractFieldsInOrder(RedisServer redis) throws Exception {
        start(redis);
        transport.publish(fullEvent());
        EventTransport.Consumer c = transport.openConsumer("c1");
        Delivery d = poll(c);
        DeadLetter letter = new DeadLetter(ErrorCategory.PERMANENT, "no such ticket", "stack\n  at x", 3, "w-1",
                AT.plusSeconds(5));
        c.deadLetter(d, letter);

        List<Map<String, String>> dead = xrange(STREAM + ":dlq");

        assertEquals(1, dead.size());
        assertEquals(DeadLetterFormat.FIELDS, new ArrayList<>(dead.get(0).keySet()));
        assertEquals(DeadLetterFormat.encode(d.id(), WireFormat.defaults().encode(fullEvent(), 1), letter, STREAM),
                dead.get(0));
    }

    @Test
    void anEntryAThirdPartyWritesWithTheContractIsReadAsTheSameEvent(RedisServer redis) throws Exception {
        start(redis);
        List<String> args = new ArrayList<>(List.of(STREAM, "*"));
        WireFormat.defaults().encode(fullEvent(), 3).forEach((name, value) -> {
            args.add(name);
            args.add(value);
        });
        client.sendCommand(Protocol.Command.XADD, args.toArray(new String[0]));

        Delivery d = poll(transport.openConsumer("c1"));

        assertFalse(d.isMalformed(), d.decodeError());
        assertEquals(fullEvent(), d.event());
        assertEquals(3, d.attempt());
    }

    private static Delivery poll(EventTransport.Consumer c) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (System.nanoTime() < deadline) {
            List<Delivery> got = c.read(1, Duration.ofMillis(200));
            if (!got.isEmpty()) {
                return got.get(0);
            }
        }
        throw new AssertionError("nothing delivered within 5 s");
    }

    /** Raw XRANGE: a client's map type could reorder the fields, and order is part of what is checked. */
    private List<Map<String, String>> xrange(String stream) {
        List<?> reply = (List<?>) client.sendCommand(Protocol.Command.XRANGE, stream, "-", "+");
        List<Map<String, String>> out = new ArrayList<>();
        for (Object e : reply) {
            List<?> raw = (List<?>) ((List<?>) e).get(1);
            Map<String, String> fields = new LinkedHashMap<>();
            for (int i = 0; i + 1 < raw.size(); i += 2) {
                fields.put(text(raw.get(i)), text(raw.get(i + 1)));
            }
            out.add(fields);
        }
        return out;
    }

    private static String text(Object o) {
        return new String((byte[]) o, StandardCharsets.UTF_8);
    }
}
