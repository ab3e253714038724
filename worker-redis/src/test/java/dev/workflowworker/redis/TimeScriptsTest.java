package dev.workflowworker.redis;

import dev.workflowworker.core.wire.WireFormat;
import dev.workflowworker.redis.testsupport.RedisServer;
import dev.workflowworker.redis.testsupport.RedisServerExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.JedisPubSub;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.StreamEntryID;
import redis.clients.jedis.resps.StreamEntry;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The time scripts of a partition on a real Redis. Delayed events: stored once, moved into the
 * stream by the lease holder only and by Redis time, cancelled or moved atomically with that move.
 * Schedules: replaced without losing a firing, fired by the lease holder only, once per state.
 */
@ExtendWith(RedisServerExtension.class)
class TimeScriptsTest {

    private static final String SET = "{s#0}:delayed";
    private static final String ENTRIES = "{s#0}:delayed:e";
    private static final String LEASE = "{s#0}:lease";
    private static final String STREAM = "{s#0}";
    private static final String WAKE = "s:wake";

    /** The script's text with its includes in place, as the transport loads it. */
    static String script(String name) {
        StringBuilder b = new StringBuilder();
        for (String line : read(name).split("\n", -1)) {
            b.append(line.startsWith("--@include ") ? read(line.substring(11).trim() + ".lua") : line).append('\n');
        }
        return b.toString();
    }

    private static String read(String name) {
        try (InputStream in = TimeScriptsTest.class.getResourceAsStream("/dev/workflowworker/redis/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The packing the scripts read: each field as its UTF-8 byte length, a colon, and its bytes. */
    static String pack(Map<String, String> fields) {
        StringBuilder b = new StringBuilder();
        for (Map.Entry<String, String> f : fields.entrySet()) {
            for (String s : new String[]{f.getKey(), f.getValue()}) {
                b.append(s.getBytes(StandardCharsets.UTF_8).length).append(':').append(s);
            }
        }
        return b.toString();
    }

    private static Map<String, String> entry(String id) {
        Map<String, String> f = new LinkedHashMap<>();
        f.put("event_id", id);
        f.put("event_type", "T");
        f.put("payload_json", "{\"note\":\"a:b 12:x — ü\"}");
        f.put("empty", "");
        return f;
    }

    @SuppressWarnings("unchecked")
    private static List<Object> add(RedisClient c, String id, String mode, long ms, String partition) {
        return (List<Object>) c.eval(script("delayed_add.lua"), List.of(SET, ENTRIES),
                List.of(id, mode, Long.toString(ms), pack(entry(id)), WAKE, partition));
    }

    @SuppressWarnings("unchecked")
    private static List<Object> move(RedisClient c, String leaseValue, int max) {
        return (List<Object>) c.eval(script("delayed_move.lua"), List.of(LEASE, SET, ENTRIES, STREAM),
                List.of(leaseValue, Integer.toString(max)));
    }

    private static Object cancel(RedisClient c, String id, String call) {
        return c.eval(script("delayed_cancel.lua"), List.of(SET, ENTRIES, SET + ":cx:" + call), List.of(id));
    }

    private static Object reschedule(RedisClient c, String id, long due, String call) {
        return c.eval(script("delayed_reschedule.lua"), List.of(SET, ENTRIES, SET + ":cx:" + call),
                List.of(id, Long.toString(due), WAKE, "0"));
    }

    /**
     * The compact stored form, written here independently of the transport's writer: consecutive
     * MessagePack strings, the due time, headers_json without its due-at key, then the values of
     * the other standard wire fields in wire order.
     */
    static byte[] compact(String due, Map<String, String> wire) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        List<String> values = new ArrayList<>(List.of(due, wire.get("headers_json")));
        for (String f : WireFormat.EVENT_FIELDS.subList(0, WireFormat.EVENT_FIELDS.size() - 1)) {
            values.add(wire.get(f));
        }
        for (String value : values) {
            byte[] v = value.getBytes(StandardCharsets.UTF_8);
            int n = v.length;
            if (n < 32) {
                out.write(0xa0 + n);
            } else if (n < 256) {
                out.write(0xd9);
                out.write(n);
            } else if (n < 65_536) {
                out.write(0xda);
                out.write(n >> 8);
                out.write(n & 0xff);
            } else {
                out.write(0xdb);
                for (int shift = 24; shift >= 0; shift -= 8) {
                    out.write((n >> shift) & 0xff);
                }
            }
            out.write(v, 0, n);
        }
        return out.toByteArray();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** delayed_add with a stored entry given as bytes (the compact form is not UTF-8); {@return the reply, as text} */
    private static List<String> addStored(RedisClient c, String id, long dueAt, byte[] stored) {
        List<?> r = (List<?>) c.eval(bytes(script("delayed_add.lua")), List.of(bytes(SET), bytes(ENTRIES)),
                List.of(bytes(id), bytes("at"), bytes(Long.toString(dueAt)), stored, bytes(WAKE), bytes("0")));
        return r.stream().map(TimeScriptsTest::text).toList();
    }

    /** The stream's entries as field/value lists in their stored order. */
    @SuppressWarnings("unchecked")
    private static List<List<String>> streamFields(RedisClient c) {
        List<Object> entries = (List<Object>) c.eval("return redis.call('XRANGE', KEYS[1], '-', '+')", List.of(STREAM), List.of());
        List<List<String>> out = new ArrayList<>();
        for (Object e : entries) {
            List<Object> pair = (List<Object>) e;
            out.add(((List<Object>) pair.get(1)).stream().map(TimeScriptsTest::text).toList());
        }
        return out;
    }

    private static long redisMillis(RedisClient c) {
        @SuppressWarnings("unchecked")
        List<Object> t = (List<Object>) c.eval("return redis.call('TIME')");
        return Long.parseLong(text(t.get(0))) * 1000 + Long.parseLong(text(t.get(1))) / 1000;
    }

    private static String text(Object o) {
        return o instanceof byte[] b ? new String(b, StandardCharsets.UTF_8) : o.toString();
    }

    @Test
    void anEventIsStoredOnceAndADelayCountsFromRedisTime(RedisServer redis) {
        try (RedisClient c = redis.client()) {
            assertEquals(List.of(1L, "1000"), add(c, "a", "at", 1000, "0"));
            assertEquals(List.of(0L, "1000"), add(c, "a", "at", 5, "0"), "a repeated publish changes nothing");
            long before = redisMillis(c);
            List<Object> r = add(c, "b", "after", 60_000, "0");
            long due = Long.parseLong((String) r.get(1));
            assertTrue(due >= before + 60_000 && due <= redisMillis(c) + 60_000, "due " + due);
            assertEquals(2, c.zcard(SET));
            assertEquals(pack(entry("a")), c.hget(ENTRIES, "a"));
        }
    }

    /**
     * The due-at header follows the due time Redis settles on, in the headers only (a payload
     * holding the same text is left alone), for any instant: checked against java.time.
     */
    @Test
    void theDueHeaderIsTheDueTimeSettledOnInRedis(RedisServer redis) {
        try (RedisClient c = redis.client()) {
            java.util.Random random = new java.util.Random(7);
            List<Long> instants = new ArrayList<>(List.of(0L, 951_782_400_000L /* 2000-02-29 */, 1_830_297_599_999L,
                    4_107_542_400_000L /* 2100-03-01 */, 253_402_300_799_999L /* 9999-12-31T23:59:59.999 */));
            for (int i = 0; i < 200; i++) {
                instants.add((long) (random.nextDouble() * 253_402_300_799_999L));
            }
            String placeholder = "\"due-at\":\"0000-00-00T00:00:00.000Z\"";
            for (long ms : instants) {
                Map<String, String> f = entry("h" + ms);
                f.put("payload_json", "{" + placeholder + "}");
                f.put("headers_json", "{\"x\":\"y\"," + placeholder + "}");
                c.eval(script("delayed_add.lua"), List.of(SET, ENTRIES),
                        List.of("h" + ms, "at", Long.toString(ms), pack(f), WAKE, "0"));
                String expected = java.time.format.DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'")
                        .withZone(java.time.ZoneOffset.UTC).format(java.time.Instant.ofEpochMilli(ms));
                Map<String, String> stored = new LinkedHashMap<>(f);
                stored.put("headers_json", "{\"x\":\"y\",\"due-at\":\"" + expected + "\"}");
                assertEquals(pack(stored), c.hget(ENTRIES, "h" + ms), "instant " + ms);
            }
            long moved = 1_709_251_199_999L;
            assertEquals(1L, reschedule(c, "h0", moved, "call"));
            assertTrue(c.hget(ENTRIES, "h0").contains("\"due-at\":\"2024-02-29T23:59:59.999Z\""), c.hget(ENTRIES, "h0"));
        }
    }

    @Test
    void onlyTheLeaseHolderMovesAndOnlyWhatIsDue(RedisServer redis) {
        try (RedisClient c = redis.client()) {
            c.set(LEASE, "owner-1");
            c.xadd(STREAM, StreamEntryID.NEW_ENTRY, Map.of("event_id", "already-there"));
            add(c, "first", "at", 1, "0");
            add(c, "second", "at", 2, "0");
            add(c, "later", "after", 3_600_000, "0");

            assertEquals(List.of(-1L), move(c, "stale-owner", 100));
            assertEquals(3, c.zcard(SET), "a stale owner moves nothing");

            List<Object> r = move(c, "owner-1", 100);
            assertEquals(2L, r.get(0));
            assertEquals(Double.parseDouble(c.zscore(SET, "later").toString()), Double.parseDouble((String) r.get(1)));
            List<StreamEntry> s = c.xrange(STREAM, (StreamEntryID) null, null);
            assertEquals(List.of("already-there", "first", "second"),
                    s.stream().map(e -> e.getFields().get("event_id")).toList(), "appended behind what was there, in due order");
            assertEquals(entry("first"), new LinkedHashMap<>(s.get(1).getFields()), "fields survive packing byte for byte");
            assertNull(c.hget(ENTRIES, "first"));
            assertEquals(1, c.zcard(SET));
            assertEquals(1, c.hlen(ENTRIES));
        }
    }

    @Test
    void aMoveIsBoundedAndTellsWhenToLookAgain(RedisServer redis) {
        try (RedisClient c = redis.client()) {
            c.set(LEASE, "o");
            for (int i = 0; i < 5; i++) {
                add(c, "e" + i, "at", i + 1, "0");
            }
            List<Object> r = move(c, "o", 2);
            assertEquals(2L, r.get(0));
            assertEquals("3", r.get(1), "the earliest left is already due: look again now");
            assertEquals(3L, move(c, "o", 10).get(0));
            assertEquals("-1", move(c, "o", 10).get(1), "nothing left");
        }
    }

    @Test
    void cancelAndRescheduleSeeAnEventEitherWaitingOrGone(RedisServer redis) {
        try (RedisClient c = redis.client()) {
            c.set(LEASE, "o");
            add(c, "c", "after", 60_000, "0");
            add(c, "r", "after", 60_000, "0");
            add(c, "m", "at", 1, "0");
            assertEquals(1L, cancel(c, "c", "call-1"));
            assertEquals(0L, cancel(c, "c", "call-2"));
            assertNull(c.hget(ENTRIES, "c"));
            assertEquals(1L, reschedule(c, "r", 2, "call-3"));
            assertEquals(0L, reschedule(c, "unknown", 2, "call-4"));
            assertEquals(2L, move(c, "o", 10).get(0), "m and the rescheduled r");
            assertEquals(0L, cancel(c, "m", "call-5"), "already in the stream");
            assertEquals(0L, reschedule(c, "r", 5, "call-6"));
            assertEquals(0, c.zcard(SET));
            assertEquals(0, c.hlen(ENTRIES));
        }
    }

    private static final java.time.format.DateTimeFormatter DUE_FORMAT =
            java.time.format.DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(java.time.ZoneOffset.UTC);

    private static Map<String, String> wire(String id, String headersJson, String payloadJson) {
        Map<String, String> f = new LinkedHashMap<>();
        for (String name : WireFormat.EVENT_FIELDS) {
            f.put(name, "");
        }
        f.put("event_id", id);
        f.put("execution_id", "exec:1 — ü");
        f.put("event_type", "T");
        f.put("timestamp", "2024-02-29T12:00:00.123456Z");
        f.put("user_id", "u".repeat(40)); // a str8 value
        f.put("payload_json", payloadJson);
        f.put("headers_json", headersJson);
        return f;
    }

    /**
     * The compact form is appended with the wire fields in the codec's order, byte for byte, for
     * values of every MessagePack string width, with its due-at header set to the due time.
     */
    @Test
    void aCompactEntryIsAppendedAsTheWireFieldsInOrder(RedisServer redis) {
        try (RedisClient c = redis.client()) {
            c.set(LEASE, "o");
            String zero = "0000-00-00T00:00:00.000Z";
            List<Map<String, String>> sent = List.of(
                    wire("small", "", "{}"),
                    wire("str16", "{\"x\":\"y\"}", "{\"a\":\"" + "é:".repeat(400) + "\"}"),
                    wire("str32", "{\"trace\":\"" + "t".repeat(300) + "\"}", "{\"blob\":\"" + "b".repeat(70_000) + "\"}"),
                    wire("payload-with-the-text", "", "{\"due-at\":\"" + zero + "\"}"));
            long due0 = 1_709_208_000_000L; // 2024-02-29T12:00:00.000Z
            long due = due0;
            for (Map<String, String> f : sent) {
                assertEquals(List.of("1", Long.toString(due)), addStored(c, f.get("event_id"), due, compact(zero, f)));
                due++;
            }
            assertEquals(4L, move(c, "o", 10).get(0));
            List<List<String>> got = streamFields(c);
            assertEquals(4, got.size());
            for (int i = 0; i < 4; i++) {
                String dueHeader = "\"due-at\":\"" + DUE_FORMAT.format(java.time.Instant.ofEpochMilli(due0 + i)) + "\"";
                List<String> flat = new ArrayList<>();
                for (Map.Entry<String, String> e : sent.get(i).entrySet()) {
                    flat.add(e.getKey());
                    String h = e.getValue();
                    flat.add(!e.getKey().equals("headers_json") ? h
                            : h.isEmpty() ? "{" + dueHeader + "}" : "{" + dueHeader + "," + h.substring(1));
                }
                assertEquals(flat, got.get(i), sent.get(i).get("event_id"));
            }
            assertEquals(0, c.hlen(ENTRIES));
        }
    }

    /**
     * Only the due-at key is rewritten: not a header whose key ends in due-at, nor one whose value
     * holds the text (escaped, as JSON writes it). In the compact form the due time is apart and
     * the other headers are left as they are.
     */
    @Test
    void onlyTheDueAtKeyIsRewrittenNotTheTextInAnotherHeader(RedisServer redis) {
        try (RedisClient c = redis.client()) {
            String zero = "0000-00-00T00:00:00.000Z";
            String others = "{\"x-due-at\":\"" + zero + "\",\"note\":\"a {\\\"due-at\\\":\\\"" + zero
                    + "\\\" b ,\\\"due-at\\\":\\\"" + zero + "\"}";
            String withDue = others.substring(0, others.length() - 1) + ",\"due-at\":\"" + zero + "\"}";
            long due = 1_709_251_199_999L;
            String settled = "\"due-at\":\"2024-02-29T23:59:59.999Z\"";
            Map<String, String> legacy = new LinkedHashMap<>(entry("legacy"));
            legacy.put("headers_json", withDue);
            addStored(c, "legacy", due, bytes(pack(legacy)));
            Map<String, String> valueOnly = new LinkedHashMap<>(entry("value-only"));
            valueOnly.put("headers_json", others);
            addStored(c, "value-only", due, bytes(pack(valueOnly)));
            assertEquals(pack(valueOnly), c.hget(ENTRIES, "value-only"), "a header value holding the text is left alone");
            addStored(c, "compact", due, compact(zero, wire("compact", others, "{}")));
            c.set(LEASE, "o");
            move(c, "o", 10);
            Map<String, String> headersById = new java.util.HashMap<>();
            for (List<String> f : streamFields(c)) {
                headersById.put(f.get(f.indexOf("event_id") + 1), f.get(f.indexOf("headers_json") + 1));
            }
            assertEquals(others.substring(0, others.length() - 1) + "," + settled + "}", headersById.get("legacy"));
            assertEquals(others, headersById.get("value-only"), "no due-at key: nothing rewritten");
            assertEquals("{" + settled + "," + others.substring(1), headersById.get("compact"));
        }
    }

    /** A cancel or reschedule sent again with its call id (its reply lost) answers what the first send did. */
    @Test
    void aCallSentAgainAfterALostReplyAnswersAsTheFirstSend(RedisServer redis) {
        try (RedisClient c = redis.client()) {
            add(c, "c", "after", 60_000, "0");
            add(c, "r", "after", 60_000, "0");
            assertEquals(1L, cancel(c, "c", "call-1"));
            assertEquals(1L, cancel(c, "c", "call-1"), "the same call sent again");
            assertEquals(0L, cancel(c, "c", "call-2"), "another call: it is gone");
            long ttl = c.pttl(SET + ":cx:call-1");
            assertTrue(ttl > 0 && ttl <= 60_000, "the marker is kept a minute: " + ttl);
            assertEquals(-2, c.pttl(SET + ":cx:call-2"), "no marker for an answer of 0");

            assertEquals(1L, reschedule(c, "r", 1, "call-3"));
            c.set(LEASE, "o");
            assertEquals(1L, move(c, "o", 10).get(0), "r moved into the stream at its new time");
            assertEquals(1L, reschedule(c, "r", 1, "call-3"), "the same call sent again, after the move");
            assertEquals(0L, reschedule(c, "r", 1, "call-4"));
            assertEquals(1, c.xlen(STREAM), "nothing appended or stored twice");
            assertEquals(0, c.zcard(SET) + c.hlen(ENTRIES));
        }
    }

    /**
     * An id without its stored entry is taken out of the set and named apart, not counted as moved;
     * an entry in neither stored form is appended as it is, for the readers to dead-letter.
     */
    @Test
    void aMissingEntryIsCountedApartAndAnUnreadableOneKept(RedisServer redis) {
        try (RedisClient c = redis.client()) {
            c.set(LEASE, "o");
            add(c, "a", "at", 1, "0");
            c.zadd(SET, 2, "ghost");
            c.zadd(SET, 3, "garbled");
            c.hset(bytes(ENTRIES), bytes("garbled"), new byte[]{(byte) 0xb8, 'x'});
            add(c, "b", "at", 4, "0");
            List<Object> r = move(c, "o", 10);
            assertEquals(3L, r.get(0), "a, garbled and b");
            assertEquals(List.of("ghost"), ((List<?>) r.get(2 + 1)).stream().map(TimeScriptsTest::text).toList());
            assertEquals(0, c.zcard(SET) + c.hlen(ENTRIES));
            List<List<String>> got = streamFields(c);
            assertEquals(List.of("event_id", "a"), got.get(0).subList(0, 2));
            assertEquals(List.of("delayed_entry"), List.of(got.get(1).get(0)));
            assertEquals(List.of("event_id", "b"), got.get(2).subList(0, 2));
        }
    }

    /** More due than one slice of the script's bulk reads: all moved, in due order, in one call. */
    @Test
    void aLargeBatchMovesInDueOrder(RedisServer redis) {
        try (RedisClient c = redis.client()) {
            c.set(LEASE, "o");
            int n = 2_345;
            try (redis.clients.jedis.AbstractPipeline p = c.pipelined()) {
                for (int i = 0; i < n; i++) {
                    p.eval(script("delayed_add.lua"), List.of(SET, ENTRIES),
                            List.of("e" + i, "at", Long.toString(10 + (n - i) / 3), pack(entry("e" + i)), WAKE, "0"));
                }
                p.sync();
            }
            assertEquals((long) n, move(c, "o", 5_000).get(0));
            List<StreamEntry> s = c.xrange(STREAM, (StreamEntryID) null, null, n + 1);
            assertEquals(n, s.size());
            List<String> ids = s.stream().map(e -> e.getFields().get("event_id")).toList();
            List<String> sorted = new ArrayList<>(ids);
            sorted.sort(java.util.Comparator.comparingInt((String id) -> (n - Integer.parseInt(id.substring(1))) / 3)
                    .thenComparing(id -> id));
            assertEquals(sorted, ids, "by due time, ties by id (the sorted set's order)");
            assertEquals(0, c.zcard(SET) + c.hlen(ENTRIES));
        }
    }

    /** A delay reaching past year 9999 by Redis TIME is held at its last millisecond, which the header can still hold. */
    @Test
    void aDueTimePastYear9999IsHeldAtItsEnd(RedisServer redis) {
        try (RedisClient c = redis.client()) {
            Map<String, String> f = entry("far");
            f.put("headers_json", "{\"due-at\":\"0000-00-00T00:00:00.000Z\"}");
            c.eval(script("delayed_add.lua"), List.of(SET, ENTRIES),
                    List.of("far", "after", Long.toString(253_402_300_799_999L), pack(f), WAKE, "0"));
            assertEquals(253_402_300_799_999d, c.zscore(SET, "far"));
            assertTrue(c.hget(ENTRIES, "far").contains("\"due-at\":\"9999-12-31T23:59:59.999Z\""), c.hget(ENTRIES, "far"));
        }
    }

    @Test
    void anInsertThatBecomesTheEarliestWakesTheOwner(RedisServer redis) throws Exception {
        BlockingQueue<String> heard = new LinkedBlockingQueue<>();
        CountDownLatch subscribed = new CountDownLatch(1);
        JedisPubSub listener = new JedisPubSub() {
            @Override
            public void onMessage(String channel, String message) {
                heard.add(message);
            }

            @Override
            public void onSubscribe(String channel, int count) {
                subscribed.countDown();
            }
        };
        try (RedisClient sub = redis.client(); RedisClient c = redis.client()) {
            Thread t = new Thread(() -> sub.subscribe(listener, WAKE));
            t.start();
            assertTrue(subscribed.await(10, TimeUnit.SECONDS));
            add(c, "x", "at", 5_000_000_000_000L, "first");
            add(c, "y", "at", 6_000_000_000_000L, "later-not-earliest");
            add(c, "z", "at", 4_000_000_000_000L, "earlier");
            c.eval(script("delayed_reschedule.lua"), List.of(SET, ENTRIES, SET + ":cx:call"),
                    List.of("y", "1", WAKE, "rescheduled-earliest"));
            List<String> got = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                got.add(heard.poll(10, TimeUnit.SECONDS));
            }
            assertEquals(List.of("first", "earlier", "rescheduled-earliest"), got);
            listener.unsubscribe();
            t.join(10_000);
            assertFalse(t.isAlive());
        }
    }

    private static final String DEFS = "{s#0}:sched";
    private static final String STATES = "{s#0}:sched:st";
    private static final String DUE = "{s#0}:sched:due";
    private static final String RUNS = "{s#0}:sched:run";

    private static Object put(RedisClient c, String id, String def, String expected, String expectedDef, String state,
                              long due) {
        return c.eval(script("schedule_put.lua"), List.of(DEFS, STATES, DUE),
                List.of(id, def, expected, state, Long.toString(due), WAKE, "0", expectedDef));
    }

    private static Object fire(RedisClient c, String lease, String id, String from, String to, long nextDue,
                               long latestDue, String... occurrences) {
        return fireFrom(c, lease, id, from, "{}", to, nextDue, latestDue, occurrences);
    }

    private static Object fireFrom(RedisClient c, String lease, String id, String from, String def, String to,
                                   long nextDue, long latestDue, String... occurrences) {
        List<String> args = new ArrayList<>(List.of(lease, id, from, to, Long.toString(nextDue), Long.toString(latestDue),
                Integer.toString(occurrences.length), def));
        for (String o : occurrences) {
            args.add(pack(entry(o)));
        }
        return c.eval(script("schedule_fire.lua"), List.of(LEASE, STATES, DUE, STREAM, RUNS, DEFS), args);
    }

    @Test
    void aReplaceKeepsItsPlaceOnlyIfNothingFiredMeanwhile(RedisServer redis) {
        try (RedisClient c = redis.client()) {
            assertEquals(1L, put(c, "s", "{v1}", "", "", "next=60000", 60_000));
            assertEquals(0L, put(c, "s", "{v1}", "", "", "next=1", 1), "creating over an existing schedule is refused");
            assertEquals(1L, put(c, "s", "{v2}", "next=60000", "{v1}", "", 60_000), "kept its state");
            assertEquals("{v2}", c.hget(DEFS, "s"));
            assertEquals("next=60000", c.hget(STATES, "s"));
            assertEquals(0L, put(c, "s", "{v1, paused}", "next=60000", "{v1}", "", -1),
                    "a pause computed from the replaced definition does not undo the replace, though the state is the same");
            assertEquals("{v2}", c.hget(DEFS, "s"));
            assertEquals(1L, put(c, "s", "{v2, paused}", "next=60000", "{v2}", "", -1));
            assertNull(c.zscore(DUE, "s"), "paused: not due");
            c.hset(RUNS, "s", "1-0");
            assertEquals("next=60000", c.eval(script("schedule_delete.lua"), List.of(DEFS, STATES, DUE, RUNS,
                    "{s#0}:sched:dx:call-1"), List.of("s", "60000")), "the state it had, read in the same step");
            assertNull(c.eval(script("schedule_delete.lua"), List.of(DEFS, STATES, DUE, RUNS, "{s#0}:sched:dx:call-2"),
                    List.of("s", "60000")), "another call finds nothing");
            assertEquals(0, c.hlen(RUNS));
            assertEquals(0, c.hlen(DEFS) + c.hlen(STATES) + c.zcard(DUE));
        }
    }

    @Test
    void anOccurrenceFiresOncePerStateByTheLeaseHolderAndNeverEarly(RedisServer redis) {
        try (RedisClient c = redis.client()) {
            c.set(LEASE, "owner");
            put(c, "s", "{}", "", "", "next=1000", 1000);
            assertEquals(-1L, fire(c, "stale", "s", "next=1000", "next=2000", 2000, 1000, "s:1000"));
            assertEquals(0L, fireFrom(c, "owner", "s", "next=1000", "{old}", "next=2000", 2000, 1000, "s:1000"),
                    "computed from another definition (a pause, a replace that kept the state): nothing fires");
            assertEquals(-2L, fire(c, "owner", "s", "next=1000", "next=2000", 2000, Long.MAX_VALUE / 2, "s:1000"),
                    "due later by Redis time: nothing fires early");
            assertEquals(1L, fire(c, "owner", "s", "next=1000", "next=2000", 2000, 1000, "s:1000"));
            assertEquals(0L, fire(c, "owner", "s", "next=1000", "next=2000", 2000, 1000, "s:1000"),
                    "the same firing computed again from the old state writes nothing");
            assertEquals(1L, fire(c, "owner", "s", "next=2000", "ended", -1, 2000, "s:2000", "s:2001"));
            assertEquals(List.of("s:1000", "s:2000", "s:2001"), c.xrange(STREAM, (StreamEntryID) null, null).stream()
                    .map(e -> e.getFields().get("event_id")).toList());
            assertEquals("ended", c.hget(STATES, "s"));
            assertEquals(c.xrange(STREAM, (StreamEntryID) null, null).get(2).getID().toString(), c.hget(RUNS, "s"),
                    "the stream id of the last occurrence, for the overlap policy");
            assertNull(c.zscore(DUE, "s"));
        }
    }

    @Test
    void aPlaceInTheDueSetWithoutAScheduleIsRemovedByTheOwnerOnly(RedisServer redis) {
        try (RedisClient c = redis.client()) {
            c.set(LEASE, "owner");
            c.zadd(DUE, 1, "orphan");
            assertEquals(-1L, fireFrom(c, "stale", "orphan", "", "", "", -1, 0));
            assertEquals(1.0, c.zscore(DUE, "orphan"));
            assertEquals(2L, fireFrom(c, "owner", "orphan", "", "", "", -1, 0));
            assertNull(c.zscore(DUE, "orphan"), "removed, or the owner would look at it again at once, forever");
            put(c, "s", "{}", "", "", "next=1000", 1000);
            assertEquals(0L, fireFrom(c, "owner", "s", "", "", "", -1, 0),
                    "a schedule put since the owner read nothing keeps its place");
            assertEquals(1000.0, c.zscore(DUE, "s"));
            assertEquals(0, c.xlen(STREAM));
        }
    }

    private static final String HOMES = "{s}:sched:home";

    @Test
    void theHomesHashIsReadWithRedisTimeAndChangedOnlyFromTheExpectedValue(RedisServer redis) {
        try (RedisClient c = redis.client()) {
            String home = script("schedule_home.lua");
            List<?> r = (List<?>) c.eval(home, List.of(HOMES), List.of("s", "read"));
            assertEquals("", r.get(0));
            long redisNow = (Long) c.eval("local t = redis.call('TIME') return t[1] * 1000 + math.floor(t[2] / 1000)");
            assertTrue(Math.abs((Long) r.get(1) - redisNow) < 5_000, "Redis TIME in ms: " + r.get(1));
            assertEquals(1L, c.eval(home, List.of(HOMES), List.of("s", "cas", "", "0")));
            assertEquals(0L, c.eval(home, List.of(HOMES), List.of("s", "cas", "", "3")), "claimed already");
            assertEquals(1L, c.eval(home, List.of(HOMES), List.of("s", "cas", "0", "0>3")));
            assertEquals("0>3", ((List<?>) c.eval(home, List.of(HOMES), List.of("s", "read"))).get(0));
            assertEquals(0L, c.eval(home, List.of(HOMES), List.of("s", "cas", "0", "")), "moved meanwhile");
            assertEquals(1L, c.eval(home, List.of(HOMES), List.of("s", "cas", "0>3", "")));
            assertEquals(0, c.hlen(HOMES));
        }
    }

    @Test
    void aLeavingScheduleStopsFiringKeepsWhatItCarriesAndItsPlaceAndIsClearedOnlyWhileMarked(RedisServer redis) {
        try (RedisClient c = redis.client()) {
            c.set(LEASE, "owner");
            String leave = script("schedule_leave.lua");
            List<String> keys = List.of(DEFS, STATES, DUE, RUNS);
            assertEquals(null, c.eval(leave, keys, List.of("s", "leave")), "not here");
            put(c, "s", "{v1}", "", "", "next=1000", 1000);
            c.hset(RUNS, "s", "1-0");
            assertEquals(List.of("{v1}", "next=1000"), c.eval(leave, keys, List.of("s", "leave")));
            assertEquals("moving|next=1000", c.hget(STATES, "s"));
            // Its place stays: a caller that fails after the mark leaves the owner to settle it.
            assertEquals(1000.0, c.zscore(DUE, "s"), "still looked at here");
            assertEquals(List.of("{v1}", "next=1000"), c.eval(leave, keys, List.of("s", "leave")), "repeatable");
            assertEquals(0L, fireFrom(c, "owner", "s", "next=1000", "{v1}", "next=2000", 2000, 1000, "s:1000"),
                    "the owner's compare-and-set of the old state fails");
            assertEquals(List.of("{v1}", "next=1000"), c.eval(leave, keys, List.of("s", "clear")));
            assertEquals(0, c.hlen(DEFS) + c.hlen(STATES) + c.hlen(RUNS) + c.zcard(DUE));

            put(c, "t", "{v1}", "", "", "next=1000", 1000);
            c.eval(leave, keys, List.of("t", "clear"));
            assertEquals("next=1000", c.hget(STATES, "t"), "a live copy is never cleared");
            assertEquals(0, c.xlen(STREAM));
        }
    }

    @Test
    void aStateLeftWithoutItsDefinitionIsRemovedByTheOwnerWithItsPlace(RedisServer redis) {
        try (RedisClient c = redis.client()) {
            c.set(LEASE, "owner");
            put(c, "s", "{v1}", "", "", "next=1000", 1000);
            c.hset(RUNS, "s", "1-0");
            c.hdel(DEFS, "s");
            assertEquals(2L, fireFrom(c, "owner", "s", "", "", "", -1, 0));
            assertEquals(0, c.hlen(STATES) + c.hlen(RUNS) + c.zcard(DUE));
        }
    }
}
