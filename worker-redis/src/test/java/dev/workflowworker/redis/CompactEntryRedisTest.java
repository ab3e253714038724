package dev.workflowworker.redis;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.workflowworker.api.PermanentWorkflowException;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.ActionRuntime;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.core.schedule.Schedule;
import dev.workflowworker.core.testing.Await;
import dev.workflowworker.core.testing.BadInputCatalogue;
import dev.workflowworker.core.wire.WireFormat;
import dev.workflowworker.redis.testsupport.RedisServer;
import dev.workflowworker.redis.testsupport.RedisServerExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.StreamEntryID;
import redis.clients.jedis.resps.StreamEntry;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The compact partition entry (docs/ARCHITECTURE.md, "The wire contract") on a real Redis: every
 * writer of a partition writes it and the handler sees the event it was given; entries of named
 * fields (earlier versions, by hand, extra fields) are read as before; malformed compact entries
 * are dead-lettered with their reason and the bytes written while the worker carries on. What ran
 * is judged from the handlers' own ledger and the partitions' raw entries, read with XRANGE.
 */
@ExtendWith(RedisServerExtension.class)
class CompactEntryRedisTest {

    private static final String STREAM = "workflow:events:global";
    private static final int PARTITIONS = 2;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Every event the handlers saw, by event id, as they saw it. */
    private final Map<String, WorkflowEvent> seen = new ConcurrentHashMap<>();
    /** Event ids whose first run fails for good (dead-lettered), the next one succeeds. */
    private final Set<String> failOnce = ConcurrentHashMap.newKeySet();
    private final List<WorkerService> services = new ArrayList<>();
    private RedisEventTransport transport;

    @AfterEach
    void close() {
        services.forEach(WorkerService::close);
    }

    private WorkerService service(RedisServer redis) {
        RedisEventTransport t = RedisEventTransport.create(redis.options().partitions(PARTITIONS)
                .partitionLeaseTtl(Duration.ofSeconds(2)).trimInterval(Duration.ofHours(1)).build());
        WorkerService s = WorkerService.builder().transport(t)
                .runtime(ActionRuntime.builder().on("STEP", ctx -> {
                    if (failOnce.remove(ctx.event().eventId())) {
                        throw new PermanentWorkflowException("fails once: " + ctx.event().eventId());
                    }
                    seen.put(ctx.event().eventId(), ctx.event());
                }).build())
                .workerCount(2).pollInterval(Duration.ofMillis(100)).build();
        services.add(s);
        transport = t;
        s.start();
        return s;
    }

    private static WorkflowEvent event(String id) {
        return WorkflowEvent.builder("STEP").eventId(id).executionId("exec-" + id).eventName("Step é " + id)
                .tenant("acme").timestamp(Instant.parse("2026-01-02T03:04:05.678Z")).fromState("a").toState("b")
                .userId("u-ü").payload(Map.of("k", "v:1", "emoji", "\uD83D\uDE00", "n", 7))
                .headers(Map.of("traceparent", "00-abc")).build();
    }

    private static String partition(int i) {
        return "{" + STREAM + "#" + i + "}";
    }

    /** Each partition entry's form by its event id: "compact" or the sorted names of its fields. */
    private static Map<String, String> forms(RedisClient c) {
        Map<String, String> out = new LinkedHashMap<>();
        for (int i = 0; i < PARTITIONS; i++) {
            List<?> entries = (List<?>) c.sendCommand(Protocol.Command.XRANGE, partition(i).getBytes(), "-".getBytes(),
                    "+".getBytes());
            for (Object e : entries) {
                List<?> raw = (List<?>) ((List<?>) e).get(1);
                String first = new String((byte[]) raw.get(0), StandardCharsets.UTF_8);
                if (raw.size() == 2 && first.equals("e:1")) {
                    String v = new String((byte[]) raw.get(1), StandardCharsets.UTF_8);
                    int colon = v.indexOf(':');
                    out.put(v.substring(colon + 1, colon + 1 + Integer.parseInt(v.substring(0, colon))), "compact");
                } else {
                    Map<String, String> named = new LinkedHashMap<>();
                    for (int k = 0; k + 1 < raw.size(); k += 2) {
                        named.put(new String((byte[]) raw.get(k), StandardCharsets.UTF_8),
                                new String((byte[]) raw.get(k + 1), StandardCharsets.UTF_8));
                    }
                    out.merge(named.getOrDefault("event_id", "?"), String.join(",", new java.util.TreeSet<>(
                            named.keySet())), (a, b) -> a + "|" + b);
                }
            }
        }
        return out;
    }

    private static void assertSame(WorkflowEvent expected, WorkflowEvent actual) {
        assertTrue(actual != null, "not run: " + expected.eventId());
        assertEquals(expected.eventId(), actual.eventId());
        assertEquals(expected.eventType(), actual.eventType());
        assertEquals(expected.executionId(), actual.executionId());
        assertEquals(expected.eventName(), actual.eventName());
        assertEquals(expected.tenant(), actual.tenant());
        assertEquals(expected.timestamp(), actual.timestamp());
        assertEquals(expected.fromState(), actual.fromState());
        assertEquals(expected.toState(), actual.toState());
        assertEquals(expected.userId(), actual.userId());
        assertEquals(expected.payload(), actual.payload());
        expected.headers().forEach((k, v) -> assertEquals(v, actual.headers().get(k), "header " + k));
    }

    @Test
    void everyWriterOfAPartitionWritesTheCompactFormAndTheHandlerSeesTheEventItWasGiven(RedisServer redis)
            throws Exception {
        WorkerService s = service(redis);
        try (RedisClient c = redis.client()) {
            // publish, one and many
            WorkflowEvent one = event("pub-1");
            transport.publish(one);
            List<WorkflowEvent> many = List.of(event("pub-2"), event("pub-3"));
            transport.publishAll(many);
            // a seed producer writing the eleven fields to the single stream, through the router
            Map<String, String> seedFields = WireFormat.defaults().encode(event("seed-1"), 1);
            c.xadd(STREAM, StreamEntryID.NEW_ENTRY, seedFields);
            // one with a field of its own: routed with its names, the extra field kept
            Map<String, String> extra = new LinkedHashMap<>(WireFormat.defaults().encode(event("seed-extra"), 1));
            extra.put("source", "legacy-crm");
            failOnce.add("seed-extra");
            c.xadd(STREAM, StreamEntryID.NEW_ENTRY, extra);
            // an entry of an earlier version, the eleven named fields written straight into a partition
            c.xadd(partition(1), StreamEntryID.NEW_ENTRY, WireFormat.defaults().encode(event("old-1"), 1));
            // delayed: moved into its partition when due
            WorkflowEvent later = event("delayed-1");
            s.delayed().orElseThrow().publishAfter(later, Duration.ofMillis(200));
            // a schedule's occurrence and a trigger
            s.schedules().orElseThrow().put(Schedule.every("tick", Duration.ofSeconds(1)).eventType("STEP")
                    .executionId("exec-tick").payload(Map.of("k", "v")).build());
            // dead-lettered once, then replayed
            WorkflowEvent replayed = event("replay-1");
            failOnce.add("replay-1");
            transport.publish(replayed);

            RedisDeadLetters dlq = transport.deadLetters();
            Await.until(Duration.ofSeconds(30), () -> dlq.size() == 2, () -> "two dead letters: " + dlq.list(10));
            for (RedisDeadLetters.Entry d : dlq.list(10)) {
                JsonNode original = JSON.readTree(d.originalMessage());
                if (original.path("event_id").asText().equals("seed-extra")) {
                    assertEquals("legacy-crm", original.path("source").asText(), "the extra field travels: " + original);
                } else {
                    // the dead letter of a compact entry names the fields, as one of named fields did
                    assertEquals("replay-1", original.path("event_id").asText(), original.toString());
                    assertEquals(WireFormat.EVENT_FIELDS, fieldNames(original), original.toString());
                    assertEquals("00-abc", JSON.readTree(original.path("headers_json").asText()).path("traceparent")
                            .asText());
                    assertTrue(dlq.replay(d.id()).isPresent());
                }
            }
            Await.until(Duration.ofSeconds(30), () -> seen.containsKey("replay-1") && seen.containsKey("delayed-1")
                    && seen.keySet().stream().anyMatch(id -> id.startsWith("tick:")) && seen.containsKey("seed-1")
                    && seen.containsKey("old-1") && seen.containsKey("pub-3"), () -> "all ran: " + seen.keySet());

            assertSame(one, seen.get("pub-1"));
            many.forEach(e -> assertSame(e, seen.get(e.eventId())));
            assertSame(event("seed-1"), seen.get("seed-1"));
            assertSame(event("old-1"), seen.get("old-1"));
            assertSame(later, seen.get("delayed-1"));
            assertTrue(seen.get("delayed-1").headers().containsKey("due-at"), "the due-at header is back");
            assertSame(replayed, seen.get("replay-1"));
            String tick = seen.keySet().stream().filter(id -> id.startsWith("tick:")).findFirst().orElseThrow();
            assertEquals(Map.of("k", "v"), seen.get(tick).payload());
            assertEquals("exec-tick", seen.get(tick).executionId());
            assertFalse(seen.containsKey("seed-extra"), "the extra-field event failed once and was not replayed");

            Map<String, String> forms = forms(c);
            for (String id : List.of("pub-1", "pub-2", "pub-3", "seed-1", "delayed-1", tick)) {
                assertEquals("compact", forms.get(id), id + " in " + forms);
            }
            // written once by publish, once by the replay: both compact
            assertEquals("compact", forms.get("replay-1"), forms.toString());
            assertEquals(2, countEntries(c, "replay-1"), "the publish and the replay");
            assertEquals(names("source"), forms.get("seed-extra"), "extra fields keep the named form");
            assertEquals(names(), forms.get("old-1"));
        }
    }

    /** A compact value of the eleven wire fields of {@code fields}, built here as the contract says, not by the library. */
    private static byte[] compact(Map<String, byte[]> fields) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (String name : WireFormat.EVENT_FIELDS) {
            byte[] v = fields.get(name);
            out.writeBytes((v.length + ":").getBytes(StandardCharsets.US_ASCII));
            out.writeBytes(v);
        }
        return out.toByteArray();
    }

    private static Map<String, byte[]> wire(String id) {
        Map<String, byte[]> out = new LinkedHashMap<>();
        WireFormat.defaults().encode(event(id), 1).forEach((k, v) -> out.put(k, v.getBytes(StandardCharsets.UTF_8)));
        return out;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static String xadd(RedisClient c, String field, byte[] value) {
        Object id = c.sendCommand(Protocol.Command.XADD, partition(0).getBytes(StandardCharsets.UTF_8),
                "*".getBytes(StandardCharsets.UTF_8), field.getBytes(StandardCharsets.UTF_8), value);
        return new String((byte[]) id, StandardCharsets.UTF_8);
    }

    @Test
    void malformedCompactEntriesAreDeadLetteredWithTheirReasonAndBytesWhileTheWorkerCarriesOn(RedisServer redis)
            throws Exception {
        service(redis);
        byte[] valid = compact(wire("bad"));
        String text = new String(valid, StandardCharsets.UTF_8);
        int payloadAt = 0;
        while (valid[payloadAt] != '{') {
            payloadAt++; // the payload is the first JSON value
        }
        Map<String, String> reasons = new LinkedHashMap<>();
        Map<String, String> kept = new LinkedHashMap<>();
        try (RedisClient c = redis.client()) {
            // truncated inside a value, and at a value's end
            byte[] cut = java.util.Arrays.copyOf(valid, payloadAt + 3);
            String cutId = xadd(c, "e:1", cut);
            reasons.put(cutId, "'payload_json' is");
            kept.put(cutId, new String(cut, StandardCharsets.UTF_8));
            Map<String, byte[]> ten = wire("bad-10");
            byte[] tenValues = compact(ten);
            tenValues = java.util.Arrays.copyOf(tenValues, tenValues.length - ten.get("headers_json").length
                    - (ten.get("headers_json").length + ":").length());
            String tenId = xadd(c, "e:1", tenValues);
            reasons.put(tenId, "ends after 10 of 11 values, before 'headers_json'");
            kept.put(tenId, new String(tenValues, StandardCharsets.UTF_8));
            // trailing bytes, and a twelfth value
            String trailing = xadd(c, "e:1", concat(valid, "x".getBytes(StandardCharsets.UTF_8)));
            reasons.put(trailing, "has 1 bytes after its 11 values");
            kept.put(trailing, text + "x");
            String twelve = xadd(c, "e:1", concat(valid, "2:hi".getBytes(StandardCharsets.UTF_8)));
            reasons.put(twelve, "has 4 bytes after its 11 values");
            // a length that is not one: a letter, a leading zero
            String letter = xadd(c, "e:1", ("x" + text).getBytes(StandardCharsets.UTF_8));
            reasons.put(letter, "the length of 'event_id' at byte 0 is not a decimal length and a colon");
            String zero = xadd(c, "e:1", ("0" + text).getBytes(StandardCharsets.UTF_8));
            reasons.put(zero, "the length of 'event_id' at byte 0 is not a decimal length and a colon");
            // a value that is not UTF-8, well framed
            Map<String, byte[]> badUtf8 = wire("bad-utf8");
            badUtf8.put("payload_json", new byte[] {'{', '"', 'a', '"', ':', '"', (byte) 0xC3, 0x28, '"', '}'});
            reasons.put(xadd(c, "e:1", compact(badUtf8)), "field 'payload_json' is not valid UTF-8 (10 bytes)");
            // well framed, not a valid event: the codec's reasons, as for named fields
            Map<String, byte[]> badJson = wire("bad-json");
            badJson.put("payload_json", "{\"a\":".getBytes(StandardCharsets.UTF_8));
            reasons.put(xadd(c, "e:1", compact(badJson)), "invalid field 'payload_json'");
            Map<String, byte[]> noType = wire("no-type");
            noType.put("event_type", new byte[0]);
            reasons.put(xadd(c, "e:1", compact(noType)), "event_type");
            // a format this version does not read
            String newer = xadd(c, "e:2", valid);
            reasons.put(newer, "entry format 'e:2' is not one this version reads");
            // and the worker carries on: a compact and a named entry after them all
            xadd(c, "e:1", compact(wire("ok-after")));
            c.xadd(partition(0), StreamEntryID.NEW_ENTRY, WireFormat.defaults().encode(event("ok-named"), 1));

            RedisDeadLetters dlq = transport.deadLetters();
            Await.until(Duration.ofSeconds(30), () -> dlq.size() == reasons.size() && seen.containsKey("ok-after")
                    && seen.containsKey("ok-named"), () -> dlq.size() + " dead letters, ran " + seen.keySet());
            assertSame(event("ok-after"), seen.get("ok-after"));
            Map<String, RedisDeadLetters.Entry> byOriginal = new LinkedHashMap<>();
            dlq.list(100).forEach(d -> byOriginal.put(d.originalId(), d));
            for (Map.Entry<String, String> r : reasons.entrySet()) {
                RedisDeadLetters.Entry d = byOriginal.get(r.getKey());
                assertTrue(d != null, "no dead letter for " + r.getKey() + " (" + r.getValue() + ")");
                assertTrue(d.errorMessage().contains(r.getValue()), "'" + d.errorMessage() + "' lacks '" + r.getValue() + "'");
                assertEquals("permanent", d.errorCategory());
                assertTrue(d.errorMessage().length() < 500, d.errorMessage());
            }
            // the bytes written are in the dead letter, under the entry's one field
            kept.forEach((id, value) -> {
                try {
                    assertEquals(value, JSON.readTree(byOriginal.get(id).originalMessage()).path("e:1").asText());
                } catch (java.io.IOException e) {
                    throw new AssertionError(e);
                }
            });
            assertEquals(text, JSON.readTree(byOriginal.get(newer).originalMessage()).path("e:2").asText());
            // a named-field view of a well-framed one: its event id is readable in the dead letter
            assertTrue(byOriginal.values().stream().anyMatch(d -> d.originalMessage().contains("\"bad-utf8\"")));
        }
    }

    record Ticket(String ticketId, int priority) {
    }

    @Test
    void theBadInputCatalogueWrittenCompactGivesTheReasonsItGivesInNamedFields(RedisServer redis) throws Exception {
        Set<String> processed = ConcurrentHashMap.newKeySet();
        RedisEventTransport t = RedisEventTransport.create(redis.options().partitions(PARTITIONS).build());
        WorkerService s = WorkerService.builder().transport(t).workerCount(2).pollInterval(Duration.ofMillis(100))
                .runtime(ActionRuntime.builder().on(BadInputCatalogue.TYPED, ctx -> {
                    ctx.payloadAs(Ticket.class);
                    processed.add(ctx.event().eventId());
                }, "ticket_id").build()).build();
        services.add(s);
        s.start();
        Map<String, String> expected = new LinkedHashMap<>();
        List<Map<String, String>> valid = new ArrayList<>();
        try (RedisClient c = redis.client()) {
            for (BadInputCatalogue.Case k : BadInputCatalogue.cases()) {
                Map<String, byte[]> f = compactable(k.fields());
                if (f != null) {
                    expected.put(xadd(c, "e:1", compact(f)), k.expectedReason());
                }
            }
            for (Map<String, String> odd : BadInputCatalogue.oddButValid()) {
                Map<String, byte[]> f = compactable(odd);
                if (f != null) {
                    xadd(c, "e:1", compact(f));
                    valid.add(odd);
                }
            }
            // most of the catalogue is expressible in the compact form: all but missing fields and
            // fields beyond the eleven (attempt, due_at, extras), which keep their names
            assertTrue(expected.size() >= 20, expected.size() + " cases");
            assertTrue(valid.size() >= 2, valid.size() + " valid");
            RedisDeadLetters dlq = t.deadLetters();
            Await.until(Duration.ofSeconds(60), () -> dlq.size() == expected.size()
                    && processed.size() == valid.size(), () -> dlq.size() + " dead letters, processed " + processed);
            Map<String, String> byOriginal = new LinkedHashMap<>();
            dlq.list(1000).forEach(d -> byOriginal.put(d.originalId(), d.errorMessage()));
            expected.forEach((id, reason) -> {
                String actual = byOriginal.get(id);
                assertTrue(actual != null && actual.contains(reason), id + ": '" + actual + "' lacks '" + reason + "'");
            });
        }
    }

    /** The catalogue entry's fields as the eleven for the compact form ('' for headers_json, as seed entries lack it), or null. */
    private static Map<String, byte[]> compactable(Map<String, String> fields) {
        Map<String, String> f = new LinkedHashMap<>(fields);
        f.putIfAbsent("headers_json", "");
        if (!f.keySet().equals(new java.util.HashSet<>(WireFormat.EVENT_FIELDS))) {
            return null;
        }
        Map<String, byte[]> out = new LinkedHashMap<>();
        f.forEach((k, v) -> out.put(k, v.getBytes(StandardCharsets.UTF_8)));
        return out;
    }

    @Test
    void aCompactEntryAnEarlierVersionDeadLetteredRunsWhenReplayed(RedisServer redis) throws Exception {
        service(redis);
        // What a reader of named fields only makes of a compact entry: a dead letter whose
        // original_message is the one field, as written.
        String value = new String(compact(wire("from-old")), StandardCharsets.UTF_8);
        Map<String, String> dead = new LinkedHashMap<>();
        dead.put("original_message", JSON.writeValueAsString(Map.of("e:1", value)));
        dead.put("error_message", "missing required field 'event_id'");
        dead.put("error_stack", "");
        dead.put("source_stream", partition(0));
        dead.put("original_id", "1-0");
        dead.put("moved_at", "2026-01-01T00:00:00.000Z");
        dead.put("error_category", "permanent");
        dead.put("attempts", "1");
        dead.put("worker_id", "old");
        try (RedisClient c = redis.client()) {
            StreamEntryID id = c.xadd(partition(0) + ":dlq", StreamEntryID.NEW_ENTRY, dead);
            assertTrue(transport.deadLetters().replay("0/" + id).isPresent());
            Await.until(Duration.ofSeconds(30), () -> seen.containsKey("from-old"), () -> "ran: " + seen.keySet());
            assertSame(event("from-old"), seen.get("from-old"));
            assertEquals("compact", forms(c).get("from-old"));
        }
    }

    private static String names(String... extra) {
        java.util.TreeSet<String> n = new java.util.TreeSet<>(WireFormat.EVENT_FIELDS);
        n.addAll(List.of(extra));
        return String.join(",", n);
    }

    private static List<String> fieldNames(JsonNode object) {
        List<String> out = new ArrayList<>();
        object.fieldNames().forEachRemaining(out::add);
        return out;
    }

    private static int countEntries(RedisClient c, String eventId) {
        int n = 0;
        for (int i = 0; i < PARTITIONS; i++) {
            for (StreamEntry e : c.xrange(partition(i), (StreamEntryID) null, null)) {
                String v = e.getFields().get("e:1");
                if (v != null && v.startsWith(eventId.length() + ":" + eventId)) {
                    n++;
                }
            }
        }
        return n;
    }
}
