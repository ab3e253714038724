package dev.workflowworker.redis;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.workflowworker.api.HealthStatus;
import dev.workflowworker.core.ActionRuntime;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.core.testing.BadInputCatalogue;
import dev.workflowworker.core.testing.Await;
import dev.workflowworker.redis.testsupport.RedisServer;
import dev.workflowworker.redis.testsupport.RedisServerExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.StreamEntryID;
import redis.clients.jedis.resps.StreamEntry;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The bad-input catalogue on real Redis, plus what only a byte-level transport can receive: invalid UTF-8. */
@ExtendWith(RedisServerExtension.class)
class BadInputCatalogueRedisTest {

    private static final String STREAM = "workflow:events:global";
    private static final String DLQ = STREAM + ":dlq";

    record Ticket(String ticketId, int priority) {
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static void xaddRaw(RedisClient c, List<byte[]> fieldsAndValues) {
        List<byte[]> args = new ArrayList<>();
        args.add(b(STREAM));
        args.add(b("*"));
        args.addAll(fieldsAndValues);
        c.sendCommand(Protocol.Command.XADD, args.toArray(new byte[0][]));
    }

    private static List<byte[]> fields(Map<String, String> f, String caseId) {
        List<byte[]> out = new ArrayList<>();
        f.forEach((k, v) -> {
            out.add(b(k));
            out.add(b(v));
        });
        out.add(b("case"));
        out.add(b(caseId));
        return out;
    }

    @Test
    void everyHostileEntryIsDeadLetteredWithItsReasonWhileTheWorkerCarriesOnWithBoundedHeap(RedisServer redis)
            throws Exception {
        Map<String, String> expected = new HashMap<>();
        Set<String> processed = ConcurrentHashMap.newKeySet();
        RedisEventTransport transport = RedisEventTransport.create(redis.options().partitions(0).build());
        try (WorkerService s = WorkerService.builder().transport(transport).workerCount(2)
                .pollInterval(Duration.ofMillis(100))
                .runtime(ActionRuntime.builder().on(BadInputCatalogue.TYPED, ctx -> {
                    ctx.payloadAs(Ticket.class);
                    processed.add(ctx.event().eventId());
                }, "ticket_id").build()).build();
             RedisClient c = redis.client()) {
            s.start();
            System.gc();
            long heapBefore = usedHeap();
            int rounds = 3;
            for (int round = 0; round < rounds; round++) {
                List<BadInputCatalogue.Case> cases = BadInputCatalogue.cases();
                for (int i = 0; i < cases.size(); i++) {
                    String id = round + "-" + i;
                    expected.put(id, cases.get(i).expectedReason());
                    xaddRaw(c, fields(cases.get(i).fields(), id));
                }
                // Only a byte-level transport sees these: invalid UTF-8 and binary garbage.
                Map<String, String> valid = BadInputCatalogue.valid("utf8-" + round);
                List<byte[]> badPayload = fields(valid, round + "-utf8-payload");
                badPayload.set(badPayload.indexOf(findValue(badPayload, "payload_json")),
                        new byte[] {'{', '"', 'a', '"', ':', '"', (byte) 0xC3, 0x28, '"', '}'});
                xaddRaw(c, badPayload);
                expected.put(round + "-utf8-payload", "field 'payload_json' is not valid UTF-8");
                List<byte[]> badType = fields(BadInputCatalogue.valid("utf8t-" + round), round + "-utf8-type");
                badType.set(badType.indexOf(findValue(badType, "event_type")), new byte[] {(byte) 0xFF, (byte) 0xFE});
                xaddRaw(c, badType);
                expected.put(round + "-utf8-type", "field 'event_type' is not valid UTF-8");
                byte[] garbage = new byte[64];
                new java.util.Random(round).nextBytes(garbage);
                xaddRaw(c, List.of(garbage, garbage, b("case"), b(round + "-garbage")));
                expected.put(round + "-garbage", "");
            }
            for (Map<String, String> odd : BadInputCatalogue.oddButValid()) {
                xaddRaw(c, fields(odd, "odd"));
            }
            Await.until(Duration.ofSeconds(60), () -> c.exists(DLQ) && c.xlen(DLQ) == expected.size()
                            && processed.size() == BadInputCatalogue.oddButValid().size(),
                    "every hostile entry dead-lettered and valid ones processed");

            ObjectMapper json = new ObjectMapper();
            List<StreamEntry> dlq = c.xrange(DLQ, (StreamEntryID) null, null);
            Map<String, String> reasonByCase = new HashMap<>();
            for (StreamEntry e : dlq) {
                String caseId = json.readTree(e.getFields().get("original_message")).path("case").asText();
                reasonByCase.put(caseId, e.getFields().get("error_message"));
                assertEquals("permanent", e.getFields().get("error_category"), e.getFields().toString());
            }
            expected.forEach((caseId, reason) -> {
                String actual = reasonByCase.get(caseId);
                assertTrue(actual != null, "no dead letter for case " + caseId);
                assertTrue(actual.contains(reason), "case " + caseId + ": '" + actual + "' lacks '" + reason + "'");
                assertTrue(!actual.isBlank() && actual.length() < 500, "case " + caseId + " reason: " + actual);
            });
            assertEquals(2, s.health().workerCount());
            assertTrue(s.health().workers().stream().allMatch(w -> w.status() != HealthStatus.UNHEALTHY),
                    s.health().toJson());
            // 3 rounds pushed > 15 MiB of hostile payload through the worker; none of it may be retained.
            System.gc();
            long grown = usedHeap() - heapBefore;
            assertTrue(grown < 32L * 1024 * 1024, "heap grew by " + grown / 1024 + " KiB");
        }
    }

    private static byte[] findValue(List<byte[]> fieldsAndValues, String field) {
        for (int i = 0; i + 1 < fieldsAndValues.size(); i += 2) {
            if (new String(fieldsAndValues.get(i), StandardCharsets.UTF_8).equals(field)) {
                return fieldsAndValues.get(i + 1);
            }
        }
        throw new IllegalArgumentException(field);
    }

    private static long usedHeap() {
        Runtime r = Runtime.getRuntime();
        return r.totalMemory() - r.freeMemory();
    }
}
